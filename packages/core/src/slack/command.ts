import * as z from "zod";
import type { Match, MonitoringConfig } from "../config/schema";
import { parseDuration } from "../duration";
import { ClientError, InvalidInputError, NotFoundError } from "../errors";
import type { CommandResult } from "../incidents/commands";
import { parseIncidentId } from "../incidents/ids";
import type { Clock, IncidentStore, Logger, OverrideStore } from "../ports";
import { SEVERITIES, type Severity } from "../severity";
import { clip } from "../signal";
import { silenceLookup } from "../silences/lookup";
import { readMatcher } from "../silences/matcher";
import { type Silence, SilenceIdPattern, type SilenceStore } from "../silences/record";
import {
  changeMessage,
  helpMessage,
  incidentCard,
  incidentList,
  notFoundMessage,
  problemMessage,
  refusalMessage,
  type SlackMessage,
  unchangedMessage,
} from "./messages";
import { type OnCallCommand, parseOnCall, parseOverride, runOnCallCommand } from "./oncall";
import { isSlackResponseUrl } from "./response-url";

/**
 * The form fields of a slash command as Slack posts them (`application/x-www-form-urlencoded`).
 * Fields Slack may add later pass through unread.
 */
export const SlashCommandFormSchema = z.object({
  team_id: z.string().min(1).max(64),
  team_domain: z.string().max(255).optional(),
  enterprise_id: z.string().max(64).optional(),
  channel_id: z.string().min(1).max(64),
  channel_name: z.string().max(255).optional(),
  user_id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, "a Slack user id such as U012AB3CD"),
  user_name: z.string().max(255).optional(),
  command: z.string().regex(/^\/\S{1,63}$/, "a slash command such as /incident"),
  text: z.string().max(4000).default(""),
  response_url: z.string().max(2048).optional(),
  trigger_id: z.string().max(255).optional(),
  api_app_id: z.string().max(64).optional(),
});
export type SlashCommandForm = z.output<typeof SlashCommandFormSchema>;

/** What someone asked for with `/incident ...`, read and checked; `help` when it made no sense. */
export type SlashCommand =
  | { kind: "ack"; id: string }
  | { kind: "resolve"; id: string; note: string | null }
  | { kind: "note"; id: string; text: string }
  | { kind: "show"; id: string }
  | { kind: "list"; severity: Severity | null }
  | { kind: "approve"; id: string; actionId: string }
  | { kind: "merge"; id: string; into: string }
  | {
      kind: "silence";
      /** The matcher as typed: `alarmName=api-* source=cloudwatch`. */
      matcher: string;
      match: Match;
      /** Milliseconds. */
      duration: number;
      reason: string | null;
    }
  | { kind: "unsilence"; silenceId: string }
  /** `silence K7Q2XPD until-resolved [reason]`: that incident only, until it resolves. */
  | { kind: "silence-incident"; id: string; reason: string | null }
  | OnCallCommand
  | {
      kind: "help";
      /** What was wrong with the input; null when help was asked for. */
      problem: string | null;
    };

/** The subcommands that change something: with `responders` listed, only they may use them. */
export const CHANGING_COMMANDS = [
  "ack",
  "resolve",
  "note",
  "approve",
  "merge",
  "silence",
  "silence-incident",
  "unsilence",
  "override",
] as const;
export type ChangingCommand = Extract<SlashCommand, { kind: (typeof CHANGING_COMMANDS)[number] }>;

export const MAX_NOTE = 2000;
export const MAX_SILENCE_REASON = 500;
const MIN_SILENCE = 60_000;
const MAX_SILENCE = 30 * 86_400_000;
const ACTION_ID = /^a\d{1,4}$/i;

const ID_HINT = "7 letters and digits, like K7Q2XPD";

/**
 * Reads the text after the slash command. Ids are accepted in any case; anything unknown or
 * malformed becomes `{ kind: "help", problem }` naming what was wrong, so the user sees help
 * rather than an error.
 *
 * @example
 * parseSlashCommand("ack k7q2xpd"); // { kind: "ack", id: "K7Q2XPD" }
 * parseSlashCommand("silence alarmName=api-* 2h deploy");
 * // { kind: "silence", matcher: "alarmName=api-*", match: { alarmName: "api-*" },
 * //   duration: 7_200_000, reason: "deploy" }
 * parseSlashCommand("ack"); // { kind: "help", problem: "ack needs an incident id, ..." }
 */
export function parseSlashCommand(input: string): SlashCommand {
  const text = unescapeSlack(input).trim();
  if (!text) return { kind: "help", problem: null };
  const [head, rest] = next(text);
  const name = head.toLowerCase();
  try {
    switch (name) {
      case "help":
      case "?":
        return { kind: "help", problem: null };
      case "ack":
      case "acknowledge": {
        const [id, extra] = incidentIdOf(rest, "ack needs an incident id, e.g. ack K7Q2XPD");
        nothingMore("ack", extra, "an incident id");
        return { kind: "ack", id };
      }
      case "resolve": {
        const [id, note] = incidentIdOf(rest, "resolve needs an incident id, e.g. resolve K7Q2XPD");
        return { kind: "resolve", id, note: note ? noteText(note) : null };
      }
      case "note": {
        const [id, note] = incidentIdOf(rest, "note needs an incident id and some text");
        if (!note)
          fail("note needs some text after the id, e.g. note K7Q2XPD restarted the writer");
        return { kind: "note", id, text: noteText(note) };
      }
      case "show": {
        const [id, extra] = incidentIdOf(rest, "show needs an incident id, e.g. show K7Q2XPD");
        nothingMore("show", extra, "an incident id");
        return { kind: "show", id };
      }
      case "list":
        return list(rest);
      case "approve":
        return approve(rest);
      case "merge": {
        const usage = "merge needs two incident ids, e.g. merge K7Q2XPD H4M9RTA";
        const [id, after] = incidentIdOf(rest, usage);
        const [into, extra] = incidentIdOf(after, usage);
        nothingMore("merge", extra, "two incident ids");
        return { kind: "merge", id, into };
      }
      case "silence":
        return silence(rest);
      case "unsilence":
        return unsilence(rest);
      case "oncall":
        return parseOnCall(rest.split(/\s+/).filter(Boolean));
      case "override":
        return parseOverride(rest.split(/\s+/).filter(Boolean));
      default:
        return { kind: "help", problem: `unknown subcommand "${clip(head, 40)}"` };
    }
  } catch (error) {
    if (error instanceof InvalidInputError) return { kind: "help", problem: error.message };
    throw error;
  }
}

/** Whether a command changes an incident or a silence (and so needs a responder). */
export function changesSomething(command: SlashCommand): command is ChangingCommand {
  return (CHANGING_COMMANDS as ReadonlyArray<string>).includes(command.kind);
}

/**
 * Whether a Slack user may change incidents: anyone when `responders` is `"anyone"` or not set
 * (a policy without remediation), otherwise only the users it lists.
 *
 * @example
 * mayChange({ responders: ["U012AB3CD"] }, "U999ZZZZZ"); // false
 */
export function mayChange(config: Pick<MonitoringConfig, "responders">, userId: string): boolean {
  const { responders } = config;
  return responders === undefined || responders === "anyone" || responders.includes(userId);
}

/**
 * A changing command in words, for the timeline's `refused` entry and the refusal message.
 *
 * @example
 * describeAttempt({ kind: "approve", id: "K7Q2XPD", actionId: "a2" }); // "approve a2"
 */
export function describeAttempt(command: ChangingCommand): string {
  switch (command.kind) {
    case "ack":
      return "acknowledge";
    case "resolve":
      return "resolve";
    case "note":
      return "add a note";
    case "approve":
      return `approve ${command.actionId}`;
    case "merge":
      return `merge ${command.id} into ${command.into}`;
    case "silence":
      return `silence ${clip(command.matcher, 100)}`;
    case "silence-incident":
      return `silence ${command.id} until resolved`;
    case "unsilence":
      return `end silence ${command.silenceId}`;
    case "override":
      return `override ${command.schedule}`;
  }
}

function list(rest: string): SlashCommand {
  const [word, extra] = next(rest);
  nothingMore("list", extra, "a severity");
  if (!word) return { kind: "list", severity: null };
  const severity = SEVERITIES.find((candidate) => candidate === word.toLowerCase());
  if (!severity) fail(`"${clip(word, 40)}" is not a severity: use ${SEVERITIES.join(", ")}`);
  return { kind: "list", severity };
}

function approve(rest: string): SlashCommand {
  const usage = "approve needs an incident id and an action id, e.g. approve K7Q2XPD a1";
  const [id, after] = incidentIdOf(rest, usage);
  const [actionId, extra] = next(after);
  if (!actionId) fail(usage);
  if (!ACTION_ID.test(actionId)) {
    fail(`"${clip(actionId, 40)}" is not an action id: they look like a1, a2 (see show ${id})`);
  }
  nothingMore("approve", extra, "an incident id and an action id");
  return { kind: "approve", id, actionId: actionId.toLowerCase() };
}

function silence(rest: string): SlashCommand {
  const usage =
    "e.g. silence alarmName=api-* 2h deploy in progress, or silence K7Q2XPD until-resolved";
  const [first, afterFirst] = next(rest);
  const [until, reason] = next(afterFirst);
  const incidentId = parseIncidentId(first);
  if (incidentId && until.toLowerCase() === "until-resolved") {
    if (reason.length > MAX_SILENCE_REASON) {
      fail(`a silence's reason is at most ${MAX_SILENCE_REASON} characters`);
    }
    return { kind: "silence-incident", id: incidentId, reason: reason || null };
  }
  // Matcher pairs first (every word with an "="), then the duration, then the reason.
  const pairs: string[] = [];
  let [durationText, reasonText] = next(rest);
  while (durationText.includes("=")) {
    pairs.push(durationText);
    [durationText, reasonText] = next(reasonText);
  }
  if (pairs.length === 0) {
    fail(
      durationText
        ? `silence starts with key=value matchers, not "${clip(durationText, 40)}": ${usage}`
        : `silence needs a matcher, a duration and optionally a reason: ${usage}`,
    );
  }
  const matcher = pairs.join(" ");
  let match: Match;
  try {
    match = readMatcher(matcher);
  } catch (error) {
    if (error instanceof InvalidInputError) fail(`bad matcher: ${error.message}`);
    throw error;
  }
  if (!durationText)
    fail(`silence needs a duration after the matcher, like 30m, 2h or 1d: ${usage}`);
  const duration = parseDuration(durationText);
  if (duration === undefined) {
    fail(
      `"${clip(durationText, 40)}" is not a duration: write a number and a unit, like 30m or 2h`,
    );
  }
  if (duration < MIN_SILENCE || duration > MAX_SILENCE) {
    fail(`a silence lasts between 1m and 30d, not ${clip(durationText, 40)}`);
  }
  if (reasonText.length > MAX_SILENCE_REASON) {
    fail(`a silence's reason is at most ${MAX_SILENCE_REASON} characters`);
  }
  return { kind: "silence", matcher, match, duration, reason: reasonText || null };
}

function unsilence(rest: string): SlashCommand {
  const [word, extra] = next(rest);
  if (!word) fail("unsilence needs a silence id, e.g. unsilence S4K2PX");
  const silenceId = word.toUpperCase();
  if (!SilenceIdPattern.test(silenceId)) {
    fail(`"${clip(word, 40)}" is not a silence id: they look like S4K2PX`);
  }
  nothingMore("unsilence", extra, "a silence id");
  return { kind: "unsilence", silenceId };
}

/** The first word and the rest, trimmed (the rest keeps its inner spacing: notes are prose). */
function next(text: string): [string, string] {
  const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(text);
  return match ? [match[1] as string, (match[2] as string).trimEnd()] : ["", ""];
}

function incidentIdOf(text: string, missing: string): [string, string] {
  const [word, rest] = next(text);
  if (!word) fail(missing);
  const id = parseIncidentId(word);
  if (!id) fail(`"${clip(word, 40)}" is not an incident id: ids are ${ID_HINT}`);
  return [id, rest];
}

function nothingMore(name: string, extra: string, takes: string): void {
  if (extra) fail(`${name} takes only ${takes}, not "${clip(extra, 40)}"`);
}

function noteText(text: string): string {
  if (text.length > MAX_NOTE) fail(`a note is at most ${MAX_NOTE} characters`);
  return text;
}

function fail(problem: string): never {
  throw new InvalidInputError(problem);
}

/** Slack sends `&`, `<` and `>` in the command text as HTML entities; read what was typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export interface SlashCommandDeps {
  store: IncidentStore;
  silences: SilenceStore;
  /** On-call overrides, for `oncall` and `override`. */
  overrides?: OverrideStore;
  config: MonitoringConfig;
  clock: Clock;
  /** Default region of remediation targets. */
  region: string;
  logger: Logger;
  /** Told after a change that may have planned actions (the local stack wakes its dispatcher). */
  changed?: () => void;
}

/** Open incidents one `list` reads: enough to count the rest, few enough to answer fast. */
const LIST_FETCH = 50;

/**
 * Answers a verified slash command: reads the text, checks who may change what, makes the
 * change as `slack:<user id>` and says what happened. Everything Slack should show is a
 * message (typos get help, strangers get a refusal, unknown ids a "no incident"), never an
 * error; only failures of the stores throw. At most a few store calls per command, since Slack
 * gives up after 3 seconds.
 *
 * @example
 * const deps = { store, silences, config, clock, region, logger };
 * const message = await answerSlashCommand(form, deps);
 * // { response_type: "in_channel", text: ":eyes: `K7Q2XPD` acknowledged by <@U012AB3CD>", ... }
 */
export async function answerSlashCommand(
  form: SlashCommandForm,
  deps: SlashCommandDeps,
): Promise<SlackMessage> {
  const { config, logger } = deps;
  const name = config.slack.command;
  const restricted = Array.isArray(config.responders);
  if (form.command !== name) {
    const problem = `this app answers ${name}, not ${clip(form.command, 40)}`;
    return helpMessage({ command: name, problem, restricted });
  }
  const command = parseSlashCommand(form.text);
  logger.info("slack command", { kind: command.kind, user: form.user_id, team: form.team_id });
  if (command.kind === "help") {
    return helpMessage({ command: name, problem: command.problem, restricted });
  }

  const by = `slack:${form.user_id}`;
  if (changesSomething(command) && !mayChange(config, form.user_id)) {
    const attempted = describeAttempt(command);
    if ("id" in command) {
      // On the incident's timeline, so whoever reviews it sees who tried what.
      const commands = await incidentCommands(deps);
      try {
        await commands.refuse(command.id, by, attempted);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    } else {
      logger.warn("slack command refused", { user: form.user_id, attempted });
    }
    const responders = Array.isArray(config.responders) ? config.responders : [];
    return refusalMessage({ userId: form.user_id, attempted, responders });
  }

  try {
    return await run(command, form, by, deps);
  } catch (error) {
    if (error instanceof NotFoundError && "id" in command) {
      if (error.message === `no incident ${command.id}`) {
        return notFoundMessage("incident", command.id);
      }
    }
    // The core's refusals (an unknown action, a resolved incident) are replies, not failures.
    if (error instanceof ClientError) return problemMessage(error.message);
    throw error;
  }
}

async function run(
  command: Exclude<SlashCommand, { kind: "help" }>,
  form: SlashCommandForm,
  by: string,
  deps: SlashCommandDeps,
): Promise<SlackMessage> {
  const { store, silences, clock, config } = deps;
  const name = config.slack.command;
  const outcome = (
    kind: ChangingCommand["kind"],
    result: CommandResult,
    message: () => SlackMessage,
  ) => {
    if (!result.changed) return unchangedMessage(kind, result.incident, result.message);
    deps.changed?.();
    return message();
  };
  switch (command.kind) {
    case "show": {
      const now = clock.now();
      const [record, active] = await Promise.all([store.get(command.id), silences.listActive(now)]);
      if (!record) return notFoundMessage("incident", command.id);
      const silence =
        record.incident.status === "resolved"
          ? null
          : ((await silenceLookup(active, now))(record.incident) ?? null);
      return incidentCard({ record, silence, command: name });
    }
    case "list": {
      const now = clock.now();
      const [page, active] = await Promise.all([
        store.list({ status: "open", severity: command.severity ?? undefined, limit: LIST_FETCH }),
        silences.listActive(now),
      ]);
      const silenceOf = await silenceLookup(active, now);
      const silenced = new Set(
        page.items.filter((incident) => silenceOf(incident)).map((incident) => incident.id),
      );
      return incidentList({
        incidents: page.items,
        more: page.nextCursor !== null,
        severity: command.severity,
        silenced,
        command: name,
      });
    }
    case "ack": {
      const commands = await incidentCommands(deps);
      const result = await commands.acknowledge(command.id, by);
      return outcome("ack", result, () =>
        changeMessage({ kind: "ack", incident: result.incident, by }),
      );
    }
    case "resolve": {
      const commands = await incidentCommands(deps);
      const result = await commands.resolve(command.id, by, command.note);
      return outcome("resolve", result, () =>
        changeMessage({ kind: "resolve", incident: result.incident, by, note: command.note }),
      );
    }
    case "merge": {
      const commands = await incidentCommands(deps);
      const result = await commands.merge(command.id, command.into, by);
      return outcome("merge", result, () =>
        changeMessage({ kind: "merge", incident: result.incident, by }),
      );
    }
    case "note": {
      const commands = await incidentCommands(deps);
      const result = await commands.note(command.id, by, command.text);
      return outcome("note", result, () =>
        changeMessage({ kind: "note", incident: result.incident, by, text: command.text }),
      );
    }
    case "approve": {
      // Only Slack's own hooks are ever posted to; any other response_url is ignored.
      const followUp =
        form.response_url && isSlackResponseUrl(form.response_url)
          ? { responseUrl: form.response_url }
          : undefined;
      const { id, actionId } = command;
      const commands = await incidentCommands(deps);
      const result = await commands.approve(id, actionId, by, followUp);
      const action = result.record.actions.find((candidate) => candidate.id === actionId);
      return outcome("approve", result, () =>
        action
          ? changeMessage({
              kind: "approve",
              incident: result.incident,
              action,
              by,
              followUp: !!followUp,
            })
          : problemMessage(result.message),
      );
    }
    case "silence": {
      // The parser read the matcher; its `message` pattern is compiled here, with RE2 loaded
      // for it, so commands that make no silence never load it.
      const { newSilence } = await import("../silences/silence");
      let silence: Silence;
      try {
        silence = newSilence({ ...command, createdBy: by, now: clock.now() });
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        const restricted = Array.isArray(config.responders);
        return helpMessage({ command: name, problem: `bad matcher: ${error.message}`, restricted });
      }
      await silences.put(silence);
      deps.changed?.();
      return changeMessage({ kind: "silence", silence, by });
    }
    case "silence-incident": {
      const record = await store.get(command.id);
      if (!record) return notFoundMessage("incident", command.id);
      if (record.incident.status === "resolved")
        return problemMessage(`${command.id} is resolved: nothing to silence`);
      const { newIncidentSilence } = await import("../silences/silence");
      const silence = newIncidentSilence({
        incident: record.incident,
        reason: command.reason,
        createdBy: by,
        duration: "until-resolved",
        now: clock.now(),
      });
      await silences.put(silence);
      deps.changed?.();
      return changeMessage({ kind: "silence", silence, by });
    }
    case "unsilence": {
      // Read first, so the reply can say what the silence covered.
      const silence = await silences.get(command.silenceId);
      if (!silence || !(await silences.delete(command.silenceId))) {
        return notFoundMessage("silence", command.silenceId);
      }
      deps.changed?.();
      return changeMessage({ kind: "unsilence", silence, by });
    }
    case "oncall":
    case "override": {
      if (!deps.overrides) return problemMessage("on-call schedules are not available here");
      return runOnCallCommand(command, { config, overrides: deps.overrides, now: clock.now(), by });
    }
  }
}

/**
 * The incident commands, imported when a command changes an incident: with planning beneath them
 * (remediations, escalation) they are most of the Slack core, and `list` or `show` never need them.
 */
const incidentCommands = async ({ store, config, clock, region }: SlashCommandDeps) => {
  const { IncidentCommands } = await import("../incidents/commands");
  return new IncidentCommands({ store, config, clock, region });
};
