import type { ActionRecord, ActionStatus } from "../actions/model";
import { formatDuration } from "../duration";
import type { Incident, IncidentRecord, IncidentStatus } from "../incidents/model";
import { slackContextBlocks } from "../paging/messages";
import { type Severity, severityRank } from "../severity";
import { clip } from "../signal";
import { MATCH_KEYS } from "../silences/matcher";
import type { Silence } from "../silences/record";
import { incidentButtons, type SlackActionsBlock } from "./buttons";
import type { ChangingCommand } from "./command";

/** A Block Kit text object; Firebreak only writes mrkdwn, escaped. */
export interface SlackMrkdwn {
  type: "mrkdwn";
  text: string;
  /** Slack links nothing by itself in it (text from outside, its http(s) links already made). */
  verbatim?: boolean;
}

export type SlackBlock =
  | { type: "section"; text: SlackMrkdwn; fields?: SlackMrkdwn[] }
  | { type: "context"; elements: SlackMrkdwn[] }
  | { type: "divider" }
  | SlackActionsBlock;

/**
 * A reply to a slash command: `ephemeral` (only the user sees it) for lookups, help and
 * refusals; `in_channel` for changes, so the channel knows who did what.
 */
export interface SlackMessage {
  response_type: "ephemeral" | "in_channel";
  /** The notification and fallback text. */
  text: string;
  blocks: SlackBlock[];
}

/** Block Kit's limits, which a message must stay within or Slack refuses all of it. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  /** Slack truncates longer fallback text; Firebreak keeps it shorter still. */
  text: 3000,
} as const;

/** Open incidents a list shows; the rest are counted ("and 12 more"). */
export const LIST_LIMIT = 15;

/**
 * Makes text from anywhere safe in mrkdwn: `&`, `<` and `>` become entities, so nothing turns
 * into a link, a mention (`<!channel>`, `<@U…>`) or a date; bare `@channel`, `@here` and
 * `@everyone` get a zero-width joiner so no client links them either.
 *
 * @example
 * escapeMrkdwn("<!channel> see <https://evil|here> & now"); // "&lt;!channel&gt; see ..."
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@(channel|here|everyone)\b/gi, "@\u2060$1");
}

/** Hostile text on one line, clipped, then escaped (clipping first never cuts an entity). */
const inline = (text: string, max: number) =>
  escapeMrkdwn(clip(text.replace(/\s+/g, " ").trim(), max));

/** Hostile prose (notes, reasons), line breaks kept, clipped and escaped. */
const prose = (text: string, max: number) => escapeMrkdwn(clip(text.trim(), max));

const quote = (text: string) =>
  text
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");

const section = (text: string, fields?: string[]): SlackBlock => ({
  type: "section",
  text: { type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) },
  ...(fields?.length
    ? {
        fields: fields
          .slice(0, SLACK_LIMITS.fields)
          .map((field) => ({ type: "mrkdwn", text: clip(field, SLACK_LIMITS.fieldText) })),
      }
    : {}),
});

const context = (...texts: string[]): SlackBlock => ({
  type: "context",
  elements: texts
    .slice(0, SLACK_LIMITS.contextElements)
    .map((text) => ({ type: "mrkdwn", text: clip(text, SLACK_LIMITS.contextText) })),
});

function message(
  responseType: SlackMessage["response_type"],
  text: string,
  blocks: SlackBlock[],
): SlackMessage {
  return {
    response_type: responseType,
    text: clip(text, SLACK_LIMITS.text),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ":red_circle:",
  warning: ":large_orange_circle:",
  info: ":large_blue_circle:",
};

/** Severity as a word with its emoji, so it reads without colour too. */
const badge = (severity: Severity) =>
  `${SEVERITY_EMOJI[severity]} *${severity[0]?.toUpperCase()}${severity.slice(1)}*`;

const STATUS_WORDS: Record<IncidentStatus, string> = {
  triggered: ":rotating_light: triggered",
  acknowledged: ":eyes: acknowledged",
  resolved: ":white_check_mark: resolved",
};

const ACTION_EMOJI: Record<ActionStatus, string> = {
  planned: ":hourglass_flowing_sand:",
  "awaiting-approval": ":raised_hand:",
  skipped: ":fast_forward:",
  simulated: ":test_tube:",
  succeeded: ":white_check_mark:",
  failed: ":x:",
};

/** A Slack user id from `slack:U…` (who made a change from Slack), as a mention. */
function actor(by: string | null): string {
  if (!by) return "someone";
  const user = /^slack:([UW][A-Z0-9]{2,20})$/.exec(by);
  return user ? `<@${user[1]}>` : `\`${inline(by, 100).replace(/`/g, "'")}\``;
}

/** A time each reader sees in their own time zone; the fallback is UTC. */
function when(iso: string | null): string {
  const at = iso ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(at)) return "unknown";
  const fallback = `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

const code = (text: string, max = 200) => `\`${inline(text, max).replace(/`/g, "'")}\``;

/** An https or http link to where the incident came from, or its ARN; null when neither. */
function origin(incident: Incident): string | null {
  const link = incident.link;
  if (!link) return null;
  const label = inline(link.label || "origin", 150).replace(/\|/g, "¦");
  if (link.url) {
    try {
      const url = new URL(link.url);
      if (url.protocol === "https:" || url.protocol === "http:") {
        // A `|` or `>` in the address would end the link early; encode them as the URL allows.
        const href = url.href
          .replace(/\|/g, "%7C")
          .replace(/</g, "%3C")
          .replace(/>/g, "%3E")
          .replace(/&/g, "&amp;");
        return `<${href}|${label}>`;
      }
    } catch {
      // Not a URL: fall through to the label and ARN as text.
    }
  }
  return link.arn ? `${label}: ${code(link.arn, 300)}` : label;
}

const byAt = (by: string | null, at: string | null) => `by ${actor(by)} ${when(at)}`;

const signals = (count: number) => (count === 1 ? "1 signal" : `${count} signals`);

/** Where an incident stands, with who moved it there. */
function standing(incident: Incident): string {
  if (incident.status === "acknowledged") {
    return `${STATUS_WORDS.acknowledged} ${byAt(incident.acknowledgedBy, incident.acknowledgedAt)}`;
  }
  if (incident.status === "resolved") {
    return `${STATUS_WORDS.resolved} ${byAt(incident.resolvedBy, incident.resolvedAt)}`;
  }
  return STATUS_WORDS.triggered;
}

function silenceLine(silence: Silence): string {
  const reason = silence.reason ? `: ${inline(silence.reason, 300)}` : "";
  const what = `${code(silence.id)} (${code(silence.matcher)})`;
  return `:zipper_mouth_face: Silenced by ${what} until ${when(silence.endsAt)}${reason}`;
}

function actionLine(action: ActionRecord): string {
  const reason = action.reason ? `: ${inline(action.reason, 200)}` : "";
  const dryRun = action.dryRun ? " (dry run)" : "";
  const what = `${code(action.id)} ${action.type} ${code(action.targetKey, 120)}`;
  return `${ACTION_EMOJI[action.status]} ${what} — ${action.status}${dryRun}${reason}`;
}

/** `🔴 K7Q2XPD *title*`: one incident on one line. */
const titleOf = (incident: Incident, max = 200) =>
  `${SEVERITY_EMOJI[incident.severity]} ${code(incident.id)} *${inline(incident.title, max)}*`;

/** The plain fallback of a card: `[CRITICAL] title (K7Q2XPD) triggered`. */
const fallbackLine = (incident: Incident) =>
  `[${incident.severity.toUpperCase()}] ${inline(incident.title, 200)} (${incident.id}) ` +
  incident.status;

export interface IncidentCardInput {
  record: IncidentRecord;
  /** The silence holding it now, if any. */
  silence: Silence | null;
  /** The slash command as configured (`/incident`), for the hints. */
  command: string;
}

/** Actions a card shows, newest last; older ones are counted. */
const CARD_ACTIONS = 5;

/**
 * One incident, for `show`: severity as a word with an emoji, status and who set it, title,
 * signal count, first and last seen, the rule, a link to the origin, the last few actions with
 * status and reason, and the silence holding it, if any; then its buttons (Acknowledge, Resolve,
 * Approve, see `incidentButtons`) while it is open. Everything from the incident is escaped.
 *
 * @example
 * incidentCard({ record, silence: null, command: "/incident" }).blocks;
 */
export function incidentCard({ record, silence, command }: IncidentCardInput): SlackMessage {
  const { incident } = record;
  const heading = [badge(incident.severity), code(incident.id)];
  if (incident.flapping) heading.push(":repeat: flapping");
  const blocks: SlackBlock[] = [
    section(`${heading.join(" · ")}\n*${inline(incident.title, 250)}*`, [
      `*Status*\n${standing(incident)}`,
      `*Signals*\n${signals(incident.count)}`,
      `*First seen*\n${when(incident.firstSeenAt)}`,
      `*Last seen*\n${when(incident.lastSeenAt)}`,
      `*Rule*\n${incident.rule ? code(incident.rule, 80) : "none (default severity)"}`,
      `*Origin*\n${origin(incident) ?? incident.source}`,
      ...(incident.attributes.account ? [`*Account*\n${code(incident.attributes.account)}`] : []),
    ]),
  ];
  if (incident.detail) {
    blocks.push(section(`\`\`\`${prose(incident.detail, 600).replace(/```/g, "'''")}\`\`\``));
  }
  // What the team wrote: the alarm's description and the service's runbook, as pages show them.
  blocks.push(...slackContextBlocks(incident));
  if (silence) blocks.push(context(silenceLine(silence)));
  if (record.actions.length > 0) {
    const shown = record.actions.slice(-CARD_ACTIONS);
    const earlier = record.actions.length - shown.length;
    const lines = ["*Actions*", ...shown.map(actionLine)];
    if (earlier > 0) lines.push(`_and ${earlier} earlier_`);
    const waiting = shown.find((action) => action.status === "awaiting-approval");
    if (waiting && incident.status !== "resolved") {
      lines.push(`Approve with \`${command} approve ${incident.id} ${waiting.id}\``);
    }
    blocks.push(section(lines.join("\n")));
  }
  if (incident.status !== "resolved") {
    const hint = (usage: string) => `\`${command} ${escapeMrkdwn(usage)}\``;
    const { id } = incident;
    const hints = [hint(`ack ${id}`), hint(`resolve ${id} [note]`), hint(`note ${id} <text>`)];
    blocks.push(context(hints.join(" · ")));
  }
  blocks.push(...incidentButtons(incident, record.actions));
  return message("ephemeral", fallbackLine(incident), blocks);
}

export interface IncidentListInput {
  /** Open incidents as the store listed them (newest first). */
  incidents: ReadonlyArray<Incident>;
  /** True when there were more than `incidents` (the count is then a lower bound). */
  more: boolean;
  severity: Severity | null;
  /** Ids of incidents a silence holds now. */
  silenced: ReadonlySet<string>;
  command: string;
}

/**
 * Open incidents, most severe first and grouped by service, at most {@link LIST_LIMIT} ("and N
 * more" for the rest).
 *
 * @example
 * incidentList({ incidents, more: false, severity: "critical", silenced: new Set(), command });
 */
export function incidentList(input: IncidentListInput): SlackMessage {
  const { incidents, severity, command } = input;
  const which = severity ? `open ${severity} incidents` : "open incidents";
  if (incidents.length === 0) {
    const text = `No ${which}.`;
    return message("ephemeral", text, [section(`:sunny: ${text}`)]);
  }
  const sorted = [...incidents].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const shown = sorted.slice(0, LIST_LIMIT);
  const rest = incidents.length - shown.length;
  const total = `${incidents.length}${input.more ? "+" : ""}`;
  const blocks: SlackBlock[] = [section(`*${total} ${which}*`)];
  // By service, each service where its most severe incident ranks; a heading per service only
  // when some incident has one (a policy without services lists as it always did).
  const byService = new Map<string | null, Incident[]>();
  for (const incident of shown) {
    const group = byService.get(incident.service);
    if (group) group.push(incident);
    else byService.set(incident.service, [incident]);
  }
  const headed = [...byService.keys()].some((service) => service !== null);
  for (const [service, group] of byService) {
    if (headed)
      blocks.push(section(`*${service === null ? "no service" : escapeMrkdwn(service)}*`));
    for (const incident of group) {
      const facts = [
        STATUS_WORDS[incident.status],
        signals(incident.count),
        `since ${when(incident.firstSeenAt)}`,
      ];
      if (input.silenced.has(incident.id)) facts.push(":zipper_mouth_face: silenced");
      blocks.push(section(`${titleOf(incident, 150)}\n${facts.join(" · ")}`));
    }
  }
  const tail = [`\`${command} show ${escapeMrkdwn("<id>")}\` for details`];
  if (rest > 0 || input.more) {
    tail.unshift(`and ${rest}${input.more ? "+" : ""} more`);
  }
  blocks.push(context(tail.join(" · ")));
  return message("ephemeral", `${total} ${which}`, blocks);
}

export interface HelpInput {
  /** The slash command as configured (`/incident`). */
  command: string;
  /** What was wrong with the input, shown first; null when help was asked for. */
  problem: string | null;
  /** True when only responders may change incidents. */
  restricted: boolean;
}

/** Every subcommand with what it does and an example; ids may be typed in any case. */
const SUBCOMMAND_HELP: ReadonlyArray<[usage: string, does: string, example: string]> = [
  ["list [critical|warning|info]", "open incidents, most severe first", "list critical"],
  ["show <id>", "one incident: status, rule, origin, actions, silence", "show K7Q2XPD"],
  ["ack <id>", "acknowledge: someone is on it (stops escalation)", "ack K7Q2XPD"],
  ["resolve <id> [note]", "resolve, with an optional note", "resolve K7Q2XPD rolled back v42"],
  ["note <id> <text>", "add a note to the timeline", "note K7Q2XPD writer restarted"],
  ["approve <id> <action>", "run an action waiting for approval", "approve K7Q2XPD a1"],
  [
    "merge <id> <into>",
    "merge an incident into another (it takes the alerts)",
    "merge K7Q2XPD H4M9RTA",
  ],
  [
    "silence <key=value...> <duration> [reason]",
    "record matching signals but respond to none, for a while",
    "silence alarmName=api-* 2h deploy",
  ],
  ["unsilence <silence id>", "end a silence now", "unsilence S4K2PX"],
  ["oncall [schedule]", "who is on call now, in every schedule or one", "oncall primary"],
  [
    "override <schedule> <@person> <duration>",
    "put someone on call from now for a while",
    "override primary @alice 4h",
  ],
  ["help", "this help", "help"],
];

/**
 * The help: every subcommand with an example, in the configured command's name; first, when
 * the input made no sense, what was wrong with it.
 *
 * @example
 * helpMessage({ command: "/incident", problem: 'unknown subcommand "acj"', restricted: false });
 */
export function helpMessage({ command, problem, restricted }: HelpInput): SlackMessage {
  const lines = SUBCOMMAND_HELP.map(([usage, does, example]) => {
    const line = `\`${command} ${escapeMrkdwn(usage)}\` — ${does}`;
    return `${line}, e.g. \`${command} ${example}\``;
  });
  const blocks: SlackBlock[] = [];
  if (problem) blocks.push(section(`:warning: ${inline(problem, 500)}`));
  blocks.push(section(`*Firebreak: what \`${command}\` can do*\n${lines.join("\n")}`));
  const notes = [
    `Incident ids are 7 letters and digits, in any case. Matcher keys: ${MATCH_KEYS.join(", ")}.`,
  ];
  if (restricted) notes.push("Only responders may change incidents; everyone may look.");
  blocks.push(context(notes.join(" ")));
  const text = problem
    ? `${inline(problem, 500)} — try ${command} help`
    : `${command} list | show | ack | resolve | note | approve | silence | unsilence | oncall | override | help`;
  return message("ephemeral", text, blocks);
}

/** A change made from Slack, with what it was made to. */
export type SlackChange =
  | { kind: "ack"; incident: Incident; by: string }
  | { kind: "resolve"; incident: Incident; by: string; note: string | null }
  | { kind: "note"; incident: Incident; by: string; text: string }
  | { kind: "merge"; incident: Incident; by: string }
  | {
      kind: "approve";
      incident: Incident;
      action: ActionRecord;
      by: string;
      /** True when the outcome will be posted to the command's response_url. */
      followUp: boolean;
    }
  | { kind: "silence"; silence: Silence; by: string }
  | { kind: "unsilence"; silence: Silence; by: string };

/**
 * What was done, for the channel to see: `K7Q2XPD acknowledged by @alice`.
 *
 * @example
 * changeMessage({ kind: "ack", incident, by: "slack:U012AB3CD" }).response_type; // "in_channel"
 */
export function changeMessage(change: SlackChange): SlackMessage {
  const by = actor(change.by);
  switch (change.kind) {
    case "ack":
      return changed(
        `:eyes: ${code(change.incident.id)} acknowledged by ${by}`,
        titleOf(change.incident),
      );
    case "resolve":
      return changed(
        `:white_check_mark: ${code(change.incident.id)} resolved by ${by}`,
        titleOf(change.incident),
        change.note ? quote(prose(change.note, 1500)) : null,
      );
    case "note":
      return changed(
        `:memo: note added to ${code(change.incident.id)} by ${by}`,
        titleOf(change.incident),
        quote(prose(change.text, 1500)),
      );
    case "merge": {
      const { incident } = change;
      const into = code(incident.mergedInto ?? "");
      return changed(
        `:link: ${code(incident.id)} merged into ${into} by ${by}`,
        titleOf(incident),
        `Its alerts are ${into}'s now; their signals go there.`,
      );
    }
    case "approve": {
      const { action, incident } = change;
      const next = change.followUp
        ? "It runs now, guards permitting; the outcome will follow here."
        : `It runs now, guards permitting; see \`show ${incident.id}\` for the outcome.`;
      const target = `${action.type} ${code(action.targetKey, 120)}`;
      const what = `${code(`${incident.id}/${action.id}`)} (${target})`;
      return changed(`:white_check_mark: ${what} approved by ${by}`, titleOf(incident), next);
    }
    case "silence": {
      const { silence } = change;
      const length = formatDuration(Date.parse(silence.endsAt) - Date.parse(silence.createdAt));
      const what = `${code(silence.matcher)} for ${length}, until ${when(silence.endsAt)}`;
      return changed(
        `:zipper_mouth_face: silence ${code(silence.id)} by ${by}: ${what}`,
        silence.reason ? quote(prose(silence.reason, 500)) : null,
        "Matching signals are recorded and counted; nothing pages or remediates.",
      );
    }
    case "unsilence": {
      const what = `${code(change.silence.id)} (${code(change.silence.matcher)})`;
      return changed(`:speaker: silence ${what} ended by ${by}`);
    }
  }
}

function changed(headline: string, ...more: Array<string | null>): SlackMessage {
  const rest = more.filter((line): line is string => line !== null);
  return message("in_channel", headline, [section([headline, ...rest].join("\n"))]);
}

/**
 * Why a command changed nothing (already acknowledged, already resolved, not waiting for
 * approval...), for the user alone.
 *
 * @example
 * unchangedMessage("ack", incident, result.message);
 */
export function unchangedMessage(
  kind: ChangingCommand["kind"],
  incident: Incident,
  reason: string,
): SlackMessage {
  let text: string;
  if ((kind === "ack" || kind === "resolve") && incident.status === "resolved") {
    const by = byAt(incident.resolvedBy, incident.resolvedAt);
    text = `${code(incident.id)} is already resolved (${by})`;
  } else if (kind === "ack" && incident.status === "acknowledged") {
    const by = byAt(incident.acknowledgedBy, incident.acknowledgedAt);
    text = `${code(incident.id)} was already acknowledged ${by}`;
  } else {
    text = inline(reason, 500);
  }
  return notice(`:information_source: ${text}. Nothing changed.`);
}

export interface RefusalInput {
  userId: string;
  /** What they tried, in words: `acknowledge`, `approve a2`. */
  attempted: string;
  /** Who may act instead (the first few are named). */
  responders: ReadonlyArray<string>;
}

/**
 * Tells someone who may only look that they cannot change incidents, and who can.
 *
 * @example
 * refusalMessage({ userId: "U999", attempted: "acknowledge", responders: ["U012AB3CD"] });
 */
export function refusalMessage({ userId, attempted, responders }: RefusalInput): SlackMessage {
  const named = responders.slice(0, 10).map((responder) => `<@${responder}>`);
  const others =
    responders.length > named.length ? ` and ${responders.length - named.length} more` : "";
  const who = named.length ? ` Ask a responder: ${named.join(", ")}${others}.` : "";
  const refused = `Sorry <@${userId}>, only responders may ${inline(attempted, 120)}`;
  return notice(
    `:no_entry: ${refused}; you may still \`show\` and \`list\`.${who} The attempt is recorded.`,
  );
}

/**
 * A lookup that found nothing: `no incident K7Q2XPD`, `no silence S4K2PX`.
 *
 * @example
 * notFoundMessage("incident", "K7Q2XPD");
 */
export function notFoundMessage(what: "incident" | "silence", id: string): SlackMessage {
  const hint = what === "incident" ? " `list` shows the open ones." : "";
  return notice(`:mag: No ${what} ${code(id, 40)}.${hint}`);
}

/**
 * A command the core refused (an unknown action, an incident already resolved...): its
 * message, escaped, for the user alone.
 *
 * @example
 * problemMessage("K7Q2XPD has no action a9 (waiting: a1)");
 */
export function problemMessage(problem: string): SlackMessage {
  return notice(`:warning: ${inline(problem, 500)}`);
}

/**
 * The answer to a copy of a request already handled (a replay of the same signed request):
 * nothing is done again, and nothing about the first answer is repeated.
 *
 * @example
 * alreadyHandledMessage(); // ephemeral: "This request was already handled. Nothing changed."
 */
export function alreadyHandledMessage(): SlackMessage {
  return notice(":information_source: This request was already handled. Nothing changed.");
}

function notice(text: string): SlackMessage {
  return message("ephemeral", text, [section(text)]);
}
