import * as z from "zod";
import { ClientError, formatIssues, InvalidInputError, NotFoundError } from "../errors";
import type { CommandResult } from "../incidents/commands";
import { parseIncidentId } from "../incidents/ids";
import { silenceLookup } from "../silences/lookup";
import { BUTTON_ACTIONS, type ButtonActionId, ButtonValueSchema } from "./buttons";
import { describeAttempt, mayChange, type SlashCommandDeps } from "./command";
import {
  changeMessage,
  incidentCard,
  notFoundMessage,
  problemMessage,
  refusalMessage,
  SLACK_LIMITS,
  type SlackMessage,
  unchangedMessage,
} from "./messages";
import { isSlackResponseUrl } from "./response-url";

/**
 * A `block_actions` payload: what Slack posts (form field `payload`, a JSON string) when someone
 * presses a button. Fields Slack may add pass through unread.
 */
export const BlockActionsPayloadSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({
    id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, "a Slack user id such as U012AB3CD"),
    username: z.string().max(255).optional(),
  }),
  team: z.object({ id: z.string().min(1).max(64) }).nullable(),
  channel: z.object({ id: z.string().min(1).max(64) }).optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string().min(1).max(255),
        block_id: z.string().max(255).optional(),
        value: z.string().max(2000).optional(),
        type: z.string().max(64),
      }),
    )
    .min(1)
    .max(25),
  response_url: z.string().max(2048).optional(),
  trigger_id: z.string().max(255).optional(),
});
export type BlockActionsPayload = z.output<typeof BlockActionsPayloadSchema>;

/** What a press asks for, read and checked from its `action_id` and `value`. */
export type ButtonPress =
  | { kind: "ack"; id: string }
  | { kind: "resolve"; id: string }
  | { kind: "approve"; id: string; actionId: string };

const KIND_OF: Record<ButtonActionId, ButtonPress["kind"]> = {
  [BUTTON_ACTIONS.acknowledge]: "ack",
  [BUTTON_ACTIONS.resolve]: "resolve",
  [BUTTON_ACTIONS.approve]: "approve",
};

const ACTION_ID = /^a\d{1,4}$/i;

/**
 * Reads an interaction's form body (`payload=<JSON>`) into a `block_actions` payload.
 * @throws InvalidInputError naming what is missing or malformed (the handler answers 400)
 *
 * @example
 * parseInteractionForm("payload=%7B%22type%22%3A%22block_actions%22...");
 */
export function parseInteractionForm(body: string): BlockActionsPayload {
  const field = new URLSearchParams(body).get("payload");
  if (field === null) throw new InvalidInputError("an interaction needs a payload field");
  let json: unknown;
  try {
    json = JSON.parse(field);
  } catch {
    throw new InvalidInputError("the interaction's payload is not JSON");
  }
  const parsed = BlockActionsPayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidInputError(`invalid interaction payload: ${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The press a payload carries (its first action), or null when it is no Firebreak button or its
 * value is malformed: presses come from messages anyone may have crafted, so they are read like
 * any input.
 *
 * @example
 * buttonPress(payload); // { kind: "approve", id: "K7Q2XPD", actionId: "a1" }
 */
export function buttonPress(payload: BlockActionsPayload): ButtonPress | null {
  const [action] = payload.actions;
  if (!action || !(action.action_id in KIND_OF)) return null;
  const kind = KIND_OF[action.action_id as ButtonActionId];
  let json: unknown;
  try {
    json = JSON.parse(action.value ?? "");
  } catch {
    return null;
  }
  const value = ButtonValueSchema.safeParse(json);
  if (!value.success) return null;
  const id = parseIncidentId(value.data.incident);
  if (!id) return null;
  if (kind !== "approve") return { kind, id };
  const actionId = value.data.action;
  if (!actionId || !ACTION_ID.test(actionId)) return null;
  return { kind, id, actionId: actionId.toLowerCase() };
}

/** A post to the press's `response_url`: Slack's way to answer a button after the HTTP 200. */
export interface SlackResponsePost {
  responseUrl: string;
  body: SlackMessage & { replace_original: boolean };
}

/**
 * What answering a press produced: the update to post to its `response_url` (the message
 * replaced with who did what, or a note for the presser alone), or null when there is nowhere
 * to post it (no `response_url` on Slack's hooks).
 */
export interface InteractionAnswer {
  press: ButtonPress | null;
  post: SlackResponsePost | null;
}

/**
 * Answers a verified, first-time button press: checks who may change what (a stranger's press
 * is recorded on the timeline and refused), makes the change as `slack:<user id>`, and says what
 * happened. A change replaces the original message (a page or a card) with the incident as it
 * now stands and who did what; anything else (a refusal, nothing to change, an unknown incident)
 * is an ephemeral note for the presser, the original left as it was. An approve reports the
 * action's outcome to the same `response_url` once it ran.
 *
 * @example
 * const { post } = await answerInteraction(payload, deps);
 * // post.body: { replace_original: true, text: ":eyes: `K7Q2XPD` acknowledged by <@U…>", ... }
 */
export async function answerInteraction(
  payload: BlockActionsPayload,
  deps: SlashCommandDeps,
): Promise<InteractionAnswer> {
  const { config, logger } = deps;
  const responseUrl =
    payload.response_url && isSlackResponseUrl(payload.response_url) ? payload.response_url : null;
  const press = buttonPress(payload);
  const userId = payload.user.id;
  logger.info("slack button", { kind: press?.kind ?? "unknown", user: userId });
  const answer = (body: SlackMessage, replace: boolean): InteractionAnswer => ({
    press,
    post: responseUrl ? { responseUrl, body: { ...body, replace_original: replace } } : null,
  });
  if (!press) return answer(problemMessage("This button is not one Firebreak knows."), false);

  const by = `slack:${userId}`;
  // Imported on a press, not at cold start: planning beneath them is most of the Slack core.
  const { IncidentCommands } = await import("../incidents/commands");
  const commands = new IncidentCommands(deps);
  if (!mayChange(config, userId)) {
    const attempted = describeAttempt(press.kind === "resolve" ? { ...press, note: null } : press);
    // On the incident's timeline, so whoever reviews it sees who tried what.
    try {
      await commands.refuse(press.id, by, attempted);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const responders = Array.isArray(config.responders) ? config.responders : [];
    return answer(refusalMessage({ userId, attempted, responders }), false);
  }

  let result: CommandResult;
  try {
    result =
      press.kind === "ack"
        ? await commands.acknowledge(press.id, by)
        : press.kind === "resolve"
          ? await commands.resolve(press.id, by, null)
          : await commands.approve(
              press.id,
              press.actionId,
              by,
              responseUrl ? { responseUrl } : undefined,
            );
  } catch (error) {
    if (error instanceof NotFoundError && error.message === `no incident ${press.id}`) {
      return answer(notFoundMessage("incident", press.id), false);
    }
    if (error instanceof ClientError) return answer(problemMessage(error.message), false);
    throw error;
  }
  if (!result.changed) {
    return answer(unchangedMessage(press.kind, result.incident, result.message), false);
  }
  deps.changed?.();
  return answer(await updatedMessage(press, result, by, deps), true);
}

/** The original message, replaced: who did what, then the incident's card as it now stands. */
async function updatedMessage(
  press: ButtonPress,
  result: CommandResult,
  by: string,
  deps: SlashCommandDeps,
): Promise<SlackMessage> {
  const { incident, record } = result;
  const now = deps.clock.now();
  const silence =
    incident.status === "resolved"
      ? null
      : ((await silenceLookup(await deps.silences.listActive(now), now))(incident) ?? null);
  const action =
    press.kind === "approve"
      ? record.actions.find((candidate) => candidate.id === press.actionId)
      : undefined;
  const change =
    press.kind === "approve" && action
      ? changeMessage({ kind: "approve", incident, action, by, followUp: true })
      : press.kind === "resolve"
        ? changeMessage({ kind: "resolve", incident, by, note: null })
        : changeMessage({ kind: "ack", incident, by });
  const card = incidentCard({ record, silence, command: deps.config.slack.command });
  return {
    response_type: "in_channel",
    text: change.text,
    blocks: [...change.blocks, ...card.blocks].slice(0, SLACK_LIMITS.blocks),
  };
}
