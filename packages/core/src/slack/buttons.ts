import * as z from "zod";
import type { ActionRecord } from "../actions/model";
import { restoreOnResolve } from "../actions/remediations";
import type { Incident } from "../incidents/model";
import { clip } from "../signal";

/** The `action_id` of each button Firebreak puts on pages and cards; presses come back with it. */
export const BUTTON_ACTIONS = {
  acknowledge: "firebreak.acknowledge",
  resolve: "firebreak.resolve",
  approve: "firebreak.approve",
} as const;
export type ButtonActionId = (typeof BUTTON_ACTIONS)[keyof typeof BUTTON_ACTIONS];

/**
 * A button's `value` (a JSON string, at most 2,000 characters): the incident, and for approve
 * the action. The value comes back in the press and is read like any other input.
 */
export const ButtonValueSchema = z.object({
  incident: z.string().min(1).max(64),
  action: z.string().min(1).max(16).optional(),
});
export type ButtonValue = z.output<typeof ButtonValueSchema>;

export interface SlackPlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}

/** Block Kit's confirmation dialog: a press arrives only after the person confirmed. */
export interface SlackConfirm {
  title: SlackPlainText;
  text: SlackPlainText;
  confirm: SlackPlainText;
  deny: SlackPlainText;
  style?: "primary" | "danger";
}

export interface SlackButton {
  type: "button";
  action_id: ButtonActionId;
  text: SlackPlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: SlackConfirm;
}

export interface SlackActionsBlock {
  type: "actions";
  block_id: string;
  elements: SlackButton[];
}

/** Block Kit's limits on the confirmation dialog's texts (characters). */
const CONFIRM_LIMITS = { title: 100, text: 300, button: 30 } as const;

const plain = (text: string, max: number): SlackPlainText => ({
  type: "plain_text",
  text: clip(text, max),
  emoji: true,
});

function confirmDialog(title: string, text: string, confirm: string): SlackConfirm {
  return {
    title: plain(title, CONFIRM_LIMITS.title),
    text: plain(text, CONFIRM_LIMITS.text),
    confirm: plain(confirm, CONFIRM_LIMITS.button),
    deny: plain("Cancel", CONFIRM_LIMITS.button),
    style: "danger",
  };
}

const value = (incident: string, action?: string) =>
  JSON.stringify(action === undefined ? { incident } : { incident, action });

/** `failover rds-cluster:us-east-1:orders-db`: what an action changes in AWS, in words. */
const target = (action: Pick<ActionRecord, "type" | "targetKey">) =>
  `${action.type} ${action.targetKey}`;

/**
 * The buttons for an incident, as actions blocks: Acknowledge while it is triggered, Resolve
 * while it is open, Approve for each action waiting for approval (newest five). A button whose
 * press changes AWS asks first, naming the target: Approve always; Resolve when resolving
 * restores what a remediation raised. Approve buttons get a block each, since Slack wants an
 * `action_id` unique within its block. Nothing for a resolved incident.
 *
 * @example
 * incidentButtons(incident, record.actions);
 * // [{ type: "actions", block_id: "firebreak.K7Q2XPD", elements: [{ action_id:
 * //   "firebreak.acknowledge", value: '{"incident":"K7Q2XPD"}', ... }, ...] }, ...]
 */
export function incidentButtons(
  incident: Pick<Incident, "id" | "status">,
  actions: ReadonlyArray<ActionRecord>,
): SlackActionsBlock[] {
  if (incident.status === "resolved") return [];
  const { id } = incident;
  const main: SlackButton[] = [];
  if (incident.status === "triggered") {
    main.push({
      type: "button",
      action_id: BUTTON_ACTIONS.acknowledge,
      text: plain("Acknowledge", 75),
      value: value(id),
      style: "primary",
    });
  }
  const restores = actions.filter((action) => restoreOnResolve(action) !== null);
  main.push({
    type: "button",
    action_id: BUTTON_ACTIONS.resolve,
    text: plain("Resolve", 75),
    value: value(id),
    ...(restores.length
      ? {
          confirm: confirmDialog(
            `Resolve ${id}?`,
            `Resolving ${id} restores what Firebreak raised on ${restores.map(target).join(", ")}.`,
            "Resolve and restore",
          ),
        }
      : {}),
  });
  const waiting = actions.filter((action) => action.status === "awaiting-approval").slice(-5);
  return [
    { type: "actions", block_id: `firebreak.${id}`, elements: main },
    ...waiting.map(
      (action): SlackActionsBlock => ({
        type: "actions",
        block_id: `firebreak.${id}.${action.id}`,
        elements: [
          {
            type: "button",
            action_id: BUTTON_ACTIONS.approve,
            text: plain(`Approve ${action.id} (${action.type})`, 75),
            value: value(id, action.id),
            style: "danger",
            confirm: confirmDialog(
              `Approve ${action.type}?`,
              `This runs ${action.id} of ${id} against AWS now: ${target(action)}.`,
              `Run ${action.type}`,
            ),
          },
        ],
      }),
    ),
  ];
}
