import * as z from "zod";
import { AwsRequestSchema } from "../actions/gateway";
import {
  type ActionRecord,
  ActionStatusSchema,
  ActionTriggerSchema,
  ActionTypeSchema,
  ChainLinkSchema,
  VerificationSchema,
} from "../actions/model";
import { ActionViewSchema, actionView } from "../actions/view";
import type { Change } from "../changes/model";
import {
  PostmortemChangesSchema,
  postmortemChanges,
  postmortemChangesMarkdown,
} from "../changes/report";
import { formatDuration } from "../duration";
import {
  ActionEntryFields,
  type Incident,
  type IncidentRecord,
  IncidentSchema,
  RecordedEntrySchemas,
  type TimelineEntry,
} from "../incidents/model";
import { SignalAttributesSchema, SourceSchema } from "../signal";

const Timestamp = z.iso.datetime();
const Seconds = z.number().int().nonnegative();
const Actor = z.string();

/** One line of the report's timeline: an entry as recorded, or a run of signal entries merged. */
export const PostmortemLineSchema = z.discriminatedUnion("type", [
  ...RecordedEntrySchemas,
  z.object({
    type: z.literal("signals"),
    at: Timestamp.describe("The latest signal of the run, as on the entries it merges"),
    firstAt: Timestamp,
    lastAt: Timestamp,
    count: z
      .number()
      .int()
      .positive()
      .describe("Signals the merged entries recorded (a sampled storm records fewer than arrived)"),
    total: z
      .number()
      .int()
      .positive()
      .describe("The incident's exact count after the run: the number to trust under sampling"),
    entries: z.number().int().positive().describe("How many timeline entries the run merges"),
    detail: z.string().nullable(),
    late: z.boolean(),
  }),
  z.object({
    ...ActionEntryFields,
    by: Actor.nullable().describe(
      "The person behind the change (an approval), when it was not the automation",
    ),
  }),
]);
export type PostmortemLine = z.infer<typeof PostmortemLineSchema>;
type SignalsLine = Extract<PostmortemLine, { type: "signals" }>;

/** What the automation did to one target, for the "what the automation did" section. */
const AutomatedStepSchema = z.object({
  id: z.string(),
  type: ActionTypeSchema,
  what: z.string().describe("`scale ecs-service:us-east-1/prod/api`, `page oncall`"),
  trigger: ActionTriggerSchema,
  status: ActionStatusSchema,
  reason: z.string().nullable(),
  plannedAt: Timestamp,
  at: Timestamp.describe("When the status last changed: the outcome's time once the action ran"),
  dryRun: z.boolean(),
  approvedBy: z.string().nullable(),
  before: z.string().nullable(),
  requests: z.array(AwsRequestSchema),
  verification: VerificationSchema.nullable().describe(
    "Whether it worked, checked `verifyAfter` after it ran; null: not verified",
  ),
  follows: ChainLinkSchema.nullable().describe("A ladder step: the ineffective action before it"),
});

export const RECOVERY_STATES = [
  /** No remediation changed anything (none planned, all skipped, held, waiting or dry runs). */
  "no-automated-action",
  /** A remediation ran and the incident is still open. */
  "not-recovered",
  /** The source recovered (an alarm's OK) after a remediation ran. */
  "recovered",
  /** A person (or auto-resolve) resolved it after a remediation ran. */
  "resolved",
  /** It was resolved before any remediation finished. */
  "resolved-before-automation",
] as const;

const FollowUpSectionSchema = z.object({
  id: z.enum(["root-cause", "went-well", "to-improve", "follow-up-items"]),
  heading: z.string(),
  prompt: z.string(),
  text: z.string().describe("Empty until people write it"),
});

const OriginAttributesSchema = SignalAttributesSchema.omit({ level: true, message: true });

/**
 * A post-mortem as JSON: the facts of one incident, its timeline with signals merged, what the
 * automation did and whether the incident recovered after it, and the empty sections people
 * fill in. `renderPostmortemMarkdown` turns it into the document people read.
 */
export const PostmortemSchema = z.object({
  incident: IncidentSchema.pick({
    id: true,
    title: true,
    severity: true,
    status: true,
    rule: true,
    source: true,
    fingerprint: true,
    sequence: true,
    flapping: true,
    count: true,
    firstSeenAt: true,
    lastSeenAt: true,
    acknowledgedAt: true,
    acknowledgedBy: true,
    resolvedAt: true,
    resolvedBy: true,
    link: true,
  }),
  asOf: Timestamp.nullable().describe(
    'The time an open incident\'s report was made ("so far"); null once it is resolved',
  ),
  impact: z.object({
    start: Timestamp.describe("The first signal"),
    end: Timestamp.nullable().describe("The resolution, or null while the incident is open"),
    durationSeconds: Seconds.describe("To the resolution, or to `asOf` while open"),
    duration: z.string().describe("The same for people: `9m 12s`"),
    ongoing: z.boolean(),
  }),
  detection: z.object({
    at: Timestamp,
    source: SourceSchema,
    rule: z
      .string()
      .nullable()
      .describe("The rule that classified the first signal (null: the default severity applied)"),
    origin: z
      .string()
      .describe(
        "Where it came from, for people: `CloudWatch alarm api-latency (123456789012, us-east-1)`",
      ),
    link: IncidentSchema.shape.link.describe(
      "The way back to the origin: alarm console URL and ARN, log stream, Sentry issue",
    ),
    attributes: OriginAttributesSchema,
    detail: z.string().nullable(),
  }),
  timeToAcknowledgeSeconds: Seconds.nullable().describe(
    "From the first signal to the acknowledgement; null until someone acknowledges",
  ),
  timeToAcknowledge: z.string().nullable().describe("The same for people: `4m 32s`"),
  timeToResolveSeconds: Seconds.nullable().describe(
    "From the first signal to the resolution; null while open",
  ),
  timeToResolve: z.string().nullable().describe("The same for people: `9m 12s`"),
  signalCount: z
    .number()
    .int()
    .nonnegative()
    .describe("The exact number of signals (the timeline samples under a storm; this does not)"),
  signals: z.object({
    first: Timestamp,
    last: Timestamp,
    count: z.number().int().nonnegative(),
  }),
  timeline: z
    .array(PostmortemLineSchema)
    .describe(
      "In time order (equal times keep their recorded order); consecutive signal entries merged",
    ),
  actions: z.array(ActionViewSchema),
  automation: z.object({
    summary: z
      .string()
      .describe(
        "`recovered 4m 12s after a1 (scale ecs-service:…) succeeded`, `no automated action ran`",
      ),
    recovery: z.object({
      state: z.enum(RECOVERY_STATES),
      actionId: z
        .string()
        .nullable()
        .describe("The last remediation that ran before the resolution (or so far)"),
      afterSeconds: Seconds.nullable().describe(
        "From that action's outcome to the resolution (or to `asOf`)",
      ),
    }),
    steps: z.array(AutomatedStepSchema),
  }),
  contributingSignals: z.array(
    z.object({
      source: SourceSchema,
      count: z.number().int().nonnegative(),
      firstAt: Timestamp,
      lastAt: Timestamp,
    }),
  ),
  followUp: z.array(FollowUpSectionSchema),
  changes: PostmortemChangesSchema,
});
export type Postmortem = z.infer<typeof PostmortemSchema>;

const FOLLOW_UP: ReadonlyArray<Omit<Postmortem["followUp"][number], "text">> = [
  {
    id: "root-cause",
    heading: "Root cause",
    prompt: "What made this happen, beyond the signal that fired? What let it happen?",
  },
  {
    id: "went-well",
    heading: "What went well",
    prompt: "What helped: detection, the automated response, people, runbooks, tools?",
  },
  {
    id: "to-improve",
    heading: "What to improve",
    prompt: "What slowed detection, diagnosis or recovery? What was noise?",
  },
  {
    id: "follow-up-items",
    heading: "Follow-up items",
    prompt: "Each with an owner and a date.",
  },
];

const ORIGIN_KEYS = [
  "account",
  "region",
  "alarmName",
  "namespace",
  "metricName",
  "logGroup",
  "logStream",
  "project",
  "environment",
] as const;

/** Milliseconds since the epoch; an unreadable time sorts last instead of breaking the sort. */
function timeOf(iso: string): number {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** Whole seconds from `from` to `to`, never negative (clocks of different sources disagree). */
export const secondsBetween = (from: string, to: string) =>
  Math.max(0, Math.round((timeOf(to) - timeOf(from)) / 1000));

const human = (seconds: number | null) =>
  seconds === null ? null : formatDuration(seconds * 1000);

/**
 * Builds the post-mortem of an incident, or of an open one so far. Pure and deterministic: the
 * same input gives byte-identical JSON; `now` is only read for an open incident's "so far".
 *
 * @param record - the incident with its action ledger
 * @param timeline - the whole timeline (`assembleTimeline`: spilled pages, then the inline tail)
 * @param now - ISO time the report is made, for open incidents
 * @param changes - the changes before it started (`changesBefore`), for the Changes section
 * @example
 * ```ts
 * const timeline = assembleTimeline(record, await store.getTimelinePages(record.incident.id));
 * const report = buildPostmortem(record, timeline, new Date(clock.now()).toISOString());
 * report.timeToResolveSeconds; // 552
 * ```
 */
export function buildPostmortem(
  record: IncidentRecord,
  timeline: ReadonlyArray<TimelineEntry>,
  now: string,
  changes: ReadonlyArray<Change> = [],
): Postmortem {
  const { incident } = record;
  const ongoing = incident.status !== "resolved";
  const end = ongoing ? null : (incident.resolvedAt ?? incident.lastSeenAt);
  const asOf = ongoing ? now : null;
  const durationSeconds = secondsBetween(incident.firstSeenAt, end ?? now);
  const timeToAcknowledgeSeconds = incident.acknowledgedAt
    ? secondsBetween(incident.firstSeenAt, incident.acknowledgedAt)
    : null;
  const timeToResolveSeconds = end === null ? null : durationSeconds;
  const opened = timeline.find((entry) => entry.type === "opened");
  return {
    incident: {
      id: incident.id,
      title: incident.title,
      severity: incident.severity,
      status: incident.status,
      rule: incident.rule,
      source: incident.source,
      fingerprint: incident.fingerprint,
      sequence: incident.sequence,
      flapping: incident.flapping,
      count: incident.count,
      firstSeenAt: incident.firstSeenAt,
      lastSeenAt: incident.lastSeenAt,
      acknowledgedAt: incident.acknowledgedAt,
      acknowledgedBy: incident.acknowledgedBy,
      resolvedAt: incident.resolvedAt,
      resolvedBy: incident.resolvedBy,
      link: incident.link ? { ...incident.link } : null,
    },
    asOf,
    impact: {
      start: incident.firstSeenAt,
      end,
      durationSeconds,
      duration: formatDuration(durationSeconds * 1000),
      ongoing,
    },
    detection: {
      at: incident.firstSeenAt,
      source: incident.source,
      // A raised severity may move the incident to another rule; detection is about the first.
      rule: opened?.type === "opened" ? opened.rule : incident.rule,
      origin: originOf(incident),
      link: incident.link ? { ...incident.link } : null,
      attributes: originAttributes(incident),
      detail: incident.detail,
    },
    timeToAcknowledgeSeconds,
    timeToAcknowledge: human(timeToAcknowledgeSeconds),
    timeToResolveSeconds,
    timeToResolve: human(timeToResolveSeconds),
    signalCount: incident.count,
    signals: { first: incident.firstSeenAt, last: incident.lastSeenAt, count: incident.count },
    timeline: reportTimeline(timeline),
    actions: record.actions.map(actionView),
    automation: automationOf(record, end, now),
    contributingSignals: [
      {
        source: incident.source,
        count: incident.count,
        firstAt: incident.firstSeenAt,
        lastAt: incident.lastSeenAt,
      },
    ],
    followUp: FOLLOW_UP.map((section) => ({ ...section, text: "" })),
    changes: postmortemChanges(record, timeline, changes),
  };
}

function originOf(incident: Incident): string {
  const { attributes: a } = incident;
  const where = [a.account, a.region].filter(Boolean).join(", ");
  switch (incident.source) {
    case "cloudwatch":
      return `CloudWatch alarm ${a.alarmName ?? incident.title}${where ? ` (${where})` : ""}`;
    case "logs":
      return a.logGroup
        ? `CloudWatch Logs ${a.logGroup}${a.logStream ? `, stream ${a.logStream}` : ""}`
        : (incident.link?.label ?? "CloudWatch Logs");
    case "sentry":
      return a.project
        ? `Sentry project ${a.project}${a.environment ? ` (${a.environment})` : ""}`
        : (incident.link?.label ?? "Sentry");
    case "security":
      return `Security finding ${incident.link?.label ?? incident.title}${where ? ` (${where})` : ""}`;
    case "health":
      return `AWS Health ${incident.link?.label ?? incident.title}${where ? ` (${where})` : ""}`;
  }
}

function originAttributes(incident: Incident): Postmortem["detection"]["attributes"] {
  const attributes: Postmortem["detection"]["attributes"] = {};
  for (const key of ORIGIN_KEYS) {
    const value = incident.attributes[key];
    if (value !== undefined) attributes[key] = value;
  }
  return attributes;
}

/**
 * The timeline in time order, stable for equal times, with each run of consecutive signal
 * entries merged into one line. One sort and one pass: a storm's thousands of entries cost
 * milliseconds.
 */
function reportTimeline(entries: ReadonlyArray<TimelineEntry>): PostmortemLine[] {
  const order = entries.map((entry, index) => ({ entry, index, time: timeOf(entry.at) }));
  order.sort((a, b) => a.time - b.time || a.index - b.index);
  const lines: PostmortemLine[] = [];
  let run: { line: SignalsLine; first: number; last: number } | null = null;
  for (const { entry, time } of order) {
    if (entry.type !== "signals") {
      run = null;
      lines.push(lineOf(entry));
      continue;
    }
    // The reducer writes `at` as `lastAt`, often `firstAt` too: parse each time only once.
    const last = entry.lastAt === entry.at ? time : timeOf(entry.lastAt);
    const first = entry.firstAt === entry.lastAt ? last : timeOf(entry.firstAt);
    if (!run) {
      run = { line: signalsLine(entry), first, last };
      lines.push(run.line);
      continue;
    }
    const { line } = run;
    line.at = entry.at;
    line.count += entry.count;
    line.total = Math.max(line.total, entry.total);
    line.entries += 1;
    line.late ||= entry.late ?? false;
    if (first < run.first) {
      run.first = first;
      line.firstAt = entry.firstAt;
    }
    // The newest signal's detail describes the run best, as the reducer keeps it per entry.
    if (last >= run.last) {
      run.last = last;
      line.lastAt = entry.lastAt;
      line.detail = entry.detail ?? line.detail;
    }
  }
  return lines;
}

const signalsLine = (entry: Extract<TimelineEntry, { type: "signals" }>): SignalsLine => ({
  type: "signals",
  at: entry.at,
  firstAt: entry.firstAt,
  lastAt: entry.lastAt,
  count: entry.count,
  total: entry.total,
  entries: 1,
  detail: entry.detail,
  late: entry.late ?? false,
});

/** A copy of an entry in the report's shape: every key present, nothing shared with the input. */
function lineOf(entry: TimelineEntry): PostmortemLine {
  switch (entry.type) {
    case "signals":
      return signalsLine(entry);
    case "opened":
      return {
        type: "opened",
        at: entry.at,
        severity: entry.severity,
        rule: entry.rule,
        title: entry.title,
        detail: entry.detail,
        flapping: entry.flapping,
      };
    case "severity":
      return { type: "severity", at: entry.at, from: entry.from, to: entry.to, rule: entry.rule };
    case "acknowledged":
      return { type: "acknowledged", at: entry.at, by: entry.by };
    case "resolved":
      return { type: "resolved", at: entry.at, by: entry.by, reason: entry.reason };
    case "stale-recovery":
      return {
        type: "stale-recovery",
        at: entry.at,
        signalAt: entry.signalAt,
        reason: entry.reason,
      };
    case "stale-trigger":
      return {
        type: "stale-trigger",
        at: entry.at,
        signalAt: entry.signalAt,
        count: entry.count,
        reason: entry.reason,
      };
    case "note":
      return { type: "note", at: entry.at, by: entry.by, text: entry.text };
    case "refused":
      return { type: "refused", at: entry.at, by: entry.by, attempted: entry.attempted };
    case "silenced":
      return {
        type: "silenced",
        at: entry.at,
        silenceId: entry.silenceId,
        until: entry.until,
        reason: entry.reason,
      };
    case "alert":
    case "edited":
      return structuredClone(entry);
    case "action":
      return {
        type: "action",
        at: entry.at,
        id: entry.id,
        action: entry.action,
        target: entry.target,
        status: entry.status,
        reason: entry.reason,
        by: entry.by ?? null,
      };
  }
}

/** `scale ecs-service:us-east-1/prod/api`, `page oncall`, `page oncall (resolved notice)`. */
function whatOf(action: ActionRecord): string {
  if (action.type !== "page") return `${action.type} ${action.targetKey}`;
  const channel = action.page?.channel ?? action.targetKey.replace(/^page:/, "");
  const kind = action.page?.kind ?? "page";
  return kind === "page" ? `page ${channel}` : `page ${channel} (${kind} notice)`;
}

/** A remediation that changed (or tried to change) something; pages and dry runs fix nothing. */
const ran = (action: ActionRecord) =>
  action.type !== "page" &&
  (action.status === "succeeded" ||
    action.status === "failed" ||
    (action.status === "simulated" && !action.dryRun));

function automationOf(
  record: IncidentRecord,
  end: string | null,
  now: string,
): Postmortem["automation"] {
  const steps = record.actions.map((action) => ({
    id: action.id,
    type: action.type,
    what: whatOf(action),
    trigger: action.trigger,
    status: action.status,
    reason: action.reason,
    plannedAt: action.plannedAt,
    at: action.at,
    dryRun: action.dryRun,
    approvedBy: action.approvedBy,
    before: action.before,
    // A copy: `actions` holds the same requests, and a consumer editing one must not edit both.
    requests: structuredClone(action.requests),
    verification: action.verification ?? null,
    follows: action.follows ?? null,
  }));
  const done = record.actions.filter(ran);
  if (done.length === 0) {
    return {
      summary: "no automated action ran",
      recovery: { state: "no-automated-action", actionId: null, afterSeconds: null },
      steps,
    };
  }
  const until = end ?? now;
  // The last remediation that finished by the resolution (or by now): the one recovery follows.
  let last: ActionRecord | undefined;
  for (const action of done) {
    if (timeOf(action.at) > timeOf(until)) continue;
    if (!last || timeOf(action.at) >= timeOf(last.at)) last = action;
  }
  if (!last) {
    return {
      summary: end
        ? "resolved before any automated action finished"
        : "not recovered yet; no automated action has finished",
      recovery: {
        state: end ? "resolved-before-automation" : "not-recovered",
        actionId: null,
        afterSeconds: null,
      },
      steps,
    };
  }
  const afterSeconds = secondsBetween(last.at, until);
  const after = `${formatDuration(afterSeconds * 1000)} after ${last.id} (${whatOf(last)}) ${last.status}`;
  const resolvedBy = record.incident.resolvedBy ?? "";
  const state =
    end === null ? "not-recovered" : resolvedBy.startsWith("recovery:") ? "recovered" : "resolved";
  const summary =
    state === "not-recovered"
      ? `not recovered yet, ${after}`
      : state === "recovered"
        ? `recovered ${after}`
        : `resolved by ${resolvedBy} ${after}`;
  return { summary, recovery: { state, actionId: last.id, afterSeconds }, steps };
}

// Markdown. Everything in a report that came from outside (titles, log lines, Sentry titles,
// alarm names, notes, reasons) is rendered as text: a hostile title must not become HTML, a link
// or a table cell of its own in the document people open.

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
const HTML_AND_INLINE_MARKDOWN = /[&<>\\`*_[\]|~$]/g;
/** Printable ASCII only: nothing for `oneLine` to do. */
const PLAIN = /^[ -~]*$/;
const LINE_BREAKS = /\s*[\n\r\u0085\u2028\u2029]+\s*/gu;
// Control characters and bidirectional overrides can hide or reorder what people read.
const INVISIBLE = /[\p{Cc}\p{Bidi_Control}]/gu;
/** Longest signal detail or reason on one timeline line; the JSON keeps them whole. */
const LINE_DETAIL_MAX = 160;

/** One line of plain text: line breaks, tabs and invisible characters become nothing harmful. */
const oneLine = (value: string) =>
  value.replace(LINE_BREAKS, " ").replace(/\t/g, " ").replace(INVISIBLE, "").trim();

/** Text that renders as itself in Markdown and HTML, on one line, safe in a table cell. */
function text(value: string): string {
  // Most text is plain printable ASCII: skip the Unicode-aware passes (a storm has 10,000 lines).
  const line = PLAIN.test(value) ? value.trim() : oneLine(value);
  return (
    line
      .replace(HTML_AND_INLINE_MARKDOWN, (char) => ENTITIES[char] ?? `\\${char}`)
      // Headings and lists only start a line; escaped anyway in case text ever lands there.
      .replace(/^([#+-])/, "\\$1")
      .replace(/^(\d+)([.)])/, "$1\\$2")
  );
}

/** Like `text`, cut to about `max` characters at a word (before escaping, so no escape splits). */
function clipped(value: string, max: number): string {
  const line = oneLine(value);
  if (line.length <= max) return text(line);
  const cut = line.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return text(`${space > max * 0.75 ? cut.slice(0, space) : cut}…`);
}

/** A code span for identifiers; text that could end the span or split a cell stays plain. */
function code(value: string): string {
  if (CODE_SAFE.test(value)) return `\`${value}\``;
  if (value === "" || /[`<>&|\p{Cc}\u2028\u2029\p{Bidi_Control}]/u.test(value)) return text(value);
  return `\`${value}\``;
}
/** Printable ASCII but for what ends a code span, starts HTML or splits a table cell. */
const CODE_SAFE = /^[ -%'-;=?-_a-{}~]+$/;

const percent = (char: string) =>
  char.charCodeAt(0) < 128
    ? `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`
    : encodeURIComponent(char);

/** A link when the URL is http(s) (never `javascript:`), else the label and URL as text. */
function link(label: string, url: string | undefined): string {
  if (!url) return text(label);
  if (!/^https?:\/\/\S/i.test(url)) return `${text(label)} (${text(url)})`;
  // Characters that could end the destination or split a table cell are percent-encoded.
  const destination = url.replace(/[\s<>()[\]|"'`\\\p{Cc}\p{Bidi_Control}]/gu, percent);
  return `[${text(label)}](${destination})`;
}

/** `2024-11-05T14:03:40.536Z` -> [`2024-11-05`, `14:03:40`]; null when it is not a time. */
function dayAndClock(iso: string): [string, string] | null {
  // Times are stored canonical (`canonicalTime`); parsing each of a storm's lines again is waste.
  const full = CANONICAL.test(iso) ? iso : toIso(timeOf(iso));
  return full ? [full.slice(0, 10), full.slice(11, 19)] : null;
}
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;
const toIso = (time: number) => (Number.isFinite(time) ? new Date(time).toISOString() : null);

/** `2024-11-05 14:03:40 UTC`. */
function stamp(iso: string): string {
  const parts = dayAndClock(iso);
  return parts ? `${parts[0]} ${parts[1]} UTC` : text(iso);
}

/** `14:03:40` on the incident's first day, with the date on any other. */
function clockOf(iso: string, day: string): string {
  const parts = dayAndClock(iso);
  if (!parts) return text(iso);
  return parts[0] === day ? parts[1] : `${parts[0]} ${parts[1]}`;
}

const seconds = (value: number) => `${value} s (${formatDuration(value * 1000)})`;

const ALERT_WORDS: Record<Extract<PostmortemLine, { type: "alert" }>["change"], string> = {
  joined: "joined",
  severity: "changed severity",
  resolved: "resolved",
  fired: "fired again",
  merged: "came in by merge",
  split: "was split off",
};

const STATUS_WORDS: Record<ActionRecord["status"], string> = {
  planned: "planned",
  "awaiting-approval": "waiting for approval",
  skipped: "skipped",
  simulated: "simulated",
  succeeded: "succeeded",
  failed: "failed",
};

const TRIGGER_WORDS: Record<ActionRecord["trigger"], string> = {
  opened: "on open",
  retriggered: "on re-trigger",
  "severity-raised": "on severity raise",
  escalation: "escalation",
  resolved: "on resolution",
  "approval-needed": "asking for approval",
  acknowledged: "on acknowledgement",
  held: "automation held",
  failure: "on failure",
  ineffective: "after an ineffective action",
};

/** The action's description for a line: the target key as code, the rest as text. */
function describeStep(step: Postmortem["automation"]["steps"][number]): string {
  if (step.type === "page") return text(step.what);
  return `${step.type} ${code(step.what.slice(step.type.length + 1))}`;
}

function timelineLines(report: Postmortem, day: string): string[] {
  const steps = new Map(report.automation.steps.map((step) => [step.id, step]));
  let lastDetail: string | null = null;
  // Repeats of one alarm carry the same detail: show it when it says something new.
  const detailOf = (detail: string | null) => {
    if (detail === null || detail === lastDetail) return "";
    lastDetail = detail;
    return `: ${clipped(detail, LINE_DETAIL_MAX)}`;
  };
  const render = (line: PostmortemLine): string => {
    const when = `**${clockOf(line.at, day)}**`;
    switch (line.type) {
      case "opened": {
        const rule = line.rule ? `by rule ${text(line.rule)}` : "(no rule matched)";
        const flapping = line.flapping ? ", flapping" : "";
        return `- ${when} Opened as ${line.severity} ${rule}${flapping}${detailOf(line.detail)}`;
      }
      case "signals": {
        const range =
          line.firstAt === line.lastAt
            ? when
            : `**${clockOf(line.firstAt, day)}–${clockOf(line.lastAt, day)}**`;
        const signals = line.count === 1 ? "1 more signal" : `${line.count} more signals`;
        const late = line.late ? ", some late (timed before the resolution)" : "";
        return `- ${range} ${signals} (${line.total} in all)${late}${detailOf(line.detail)}`;
      }
      case "severity":
        return `- ${when} Severity ${line.from} → ${line.to}${line.rule ? ` by rule ${text(line.rule)}` : ""}`;
      case "acknowledged":
        return `- ${when} Acknowledged by ${text(line.by)}`;
      case "resolved":
        return `- ${when} Resolved by ${text(line.by)}${line.reason ? `: ${clipped(line.reason, LINE_DETAIL_MAX)}` : ""}`;
      case "stale-recovery":
        return `- ${when} Recovery from ${clockOf(line.signalAt, day)} ignored: ${clipped(line.reason, LINE_DETAIL_MAX)}`;
      case "stale-trigger":
        return `- ${when} Trigger from ${clockOf(line.signalAt, day)} opened nothing: ${clipped(line.reason, LINE_DETAIL_MAX)}`;
      case "note": {
        const body = text(line.text);
        return `- ${when} Note from ${text(line.by)}${body ? `: ${body}` : ""}`;
      }
      case "refused":
        return `- ${when} Refused: ${text(line.by)} may not ${text(line.attempted)}`;
      case "silenced": {
        const reason = line.reason ? `: ${clipped(line.reason, LINE_DETAIL_MAX)}` : "";
        return `- ${when} Silenced by ${code(line.silenceId)} until ${stamp(line.until)}, nothing responds${reason}`;
      }
      case "alert": {
        const by = line.by ? ` by ${text(line.by)}` : "";
        return `- ${when} Alert ${text(line.alertId)} (${text(line.title)}, ${line.severity}) ${ALERT_WORDS[line.change]}${by}`;
      }
      case "edited": {
        const reason = line.reason ? `: ${clipped(line.reason, LINE_DETAIL_MAX)}` : "";
        return `- ${when} ${text(line.by)} set the ${line.field} from ${text(line.from)} to ${text(line.to)}${reason}`;
      }
      case "action": {
        const step = steps.get(line.id);
        const what = step
          ? describeStep(step)
          : `${line.action} ${code(line.target.replace(/^page:/, ""))}`;
        const by = line.by ? ` by ${text(line.by)}` : "";
        const reason = line.reason ? `: ${clipped(line.reason, LINE_DETAIL_MAX)}` : "";
        return `- ${when} **${text(line.id)}** ${what} ${STATUS_WORDS[line.status]}${by}${reason}`;
      }
    }
  };
  return report.timeline.map(render);
}

function automationLines(report: Postmortem, day: string): string[] {
  const { summary, steps } = report.automation;
  const lines = [`${text(summary.charAt(0).toUpperCase() + summary.slice(1))}.`, ""];
  if (steps.length === 0) return [...lines, "Nothing was planned for this incident."];
  for (const step of steps) {
    const dryRun = step.dryRun ? " (dry run)" : "";
    const reason = step.reason ? ` — ${text(step.reason)}` : "";
    lines.push(
      `- **${text(step.id)}** ${describeStep(step)}, ${TRIGGER_WORDS[step.trigger]}: ` +
        `${STATUS_WORDS[step.status]}${dryRun} at ${clockOf(step.at, day)}${reason}`,
    );
    if (step.follows) {
      lines.push(
        `  - Step ${step.follows.step + 1} of ${text(step.follows.root)}'s ladder, after ${text(step.follows.action)} was ineffective`,
      );
    }
    if (step.approvedBy) lines.push(`  - Approved by ${text(step.approvedBy)}`);
    if (step.before) lines.push(`  - Before: ${text(step.before)}`);
    for (const request of step.requests) {
      const region = request.region ? ` in ${text(request.region)}` : "";
      lines.push(
        `  - Request: ${code(`${request.service}:${request.operation}`)}${region}: ` +
          code(JSON.stringify(request.input)),
      );
    }
    const verification = verificationLine(step.verification, report.asOf !== null, day);
    if (verification) lines.push(`  - ${verification}`);
  }
  return lines;
}

/**
 * `Verified effective at 14:08:42: checkout-5xx is OK since 14:05:10`. A check still pending is
 * shown only in a report of an ongoing incident: once resolved, the check finds it effective.
 */
function verificationLine(
  verification: Postmortem["automation"]["steps"][number]["verification"],
  ongoing: boolean,
  day: string,
): string | null {
  if (!verification) return null;
  const evidence = verification.evidence ? `: ${text(verification.evidence)}` : "";
  if (verification.status === "pending") {
    return ongoing ? `Verification due at ${clockOf(verification.dueAt, day)}${evidence}` : null;
  }
  const at = clockOf(verification.checkedAt ?? verification.dueAt, day);
  return `Verified ${verification.status} at ${at}${evidence}`;
}

function factRows(report: Postmortem): Array<[string, string]> {
  const { incident, impact, detection } = report;
  const end = impact.end ? stamp(impact.end) : "ongoing";
  const soFar = impact.ongoing ? " so far" : "";
  const origin = detection.link
    ? [
        link(detection.link.label, detection.link.url),
        ...(detection.link.arn ? [`ARN ${code(detection.link.arn)}`] : []),
      ].join(" · ")
    : null;
  const rows: Array<[string, string]> = [
    ["Severity", incident.severity],
    ["Status", incident.status],
    ["Rule", incident.rule ? text(incident.rule) : "none (default severity)"],
    ["Source", incident.source],
    ["Impact", `${stamp(impact.start)} → ${end} (${text(impact.duration)}${soFar})`],
    [
      "Detection",
      `${stamp(detection.at)} by ${text(detection.origin)}, ` +
        (detection.rule
          ? `classified by rule ${text(detection.rule)}`
          : "no rule matched (default severity)"),
    ],
  ];
  if (origin) rows.push(["Origin", origin]);
  rows.push(
    [
      "Time to acknowledge",
      report.timeToAcknowledgeSeconds === null
        ? impact.ongoing
          ? "not acknowledged yet"
          : "never acknowledged"
        : `${seconds(report.timeToAcknowledgeSeconds)}, by ${text(incident.acknowledgedBy ?? "unknown")}`,
    ],
    [
      "Time to resolve",
      report.timeToResolveSeconds === null
        ? "not resolved yet"
        : `${seconds(report.timeToResolveSeconds)}, by ${text(incident.resolvedBy ?? "unknown")}`,
    ],
    [
      "Signals",
      `${report.signalCount}, first ${stamp(report.signals.first)}, last ${stamp(report.signals.last)}`,
    ],
    ["Fingerprint", code(incident.fingerprint)],
    ["Flapping", incident.flapping ? "yes: it resolved and re-opened repeatedly" : "no"],
  );
  return rows;
}

/**
 * Renders a post-mortem as Markdown: facts, timeline, what the automation did, contributing
 * signals, and the sections people fill in. Text from outside is escaped, so it renders as text
 * and never as HTML, a link or a table cell of its own.
 *
 * @example
 * ```ts
 * const markdown = renderPostmortemMarkdown(buildPostmortem(record, timeline, now));
 * markdown.split("\n")[0]; // "# Post-mortem: api-checkout-latency (K7Q2XPD)"
 * ```
 */
export function renderPostmortemMarkdown(report: Postmortem): string {
  const { incident, impact } = report;
  const day = dayAndClock(impact.start)?.[0] ?? "";
  const out: string[] = [`# Post-mortem: ${text(incident.title)} (${text(incident.id)})`, ""];
  if (report.asOf)
    out.push(`_Ongoing: this is the report so far, as of ${stamp(report.asOf)}._`, "");
  out.push("| Fact | Value |", "| --- | --- |");
  for (const [fact, value] of factRows(report)) out.push(`| ${fact} | ${value} |`);
  out.push("", "## Timeline (UTC)", "");
  // A loop, not `push(...lines)`: a storm's timeline could exceed the engine's argument limit.
  for (const line of timelineLines(report, day)) out.push(line);
  if (report.timeline.length === 0) out.push("_No timeline entries were recorded._");
  out.push("", "## What the automation did", "");
  for (const line of automationLines(report, day)) out.push(line);
  for (const line of postmortemChangesMarkdown(report.changes, text)) out.push(line);
  out.push("", "## Contributing signals", "");
  out.push("| Source | Signals | First | Last |", "| --- | ---: | --- | --- |");
  for (const row of report.contributingSignals) {
    out.push(`| ${row.source} | ${row.count} | ${stamp(row.firstAt)} | ${stamp(row.lastAt)} |`);
  }
  for (const section of report.followUp) {
    out.push("", `## ${text(section.heading)}`, "", `_${text(section.prompt)}_`);
    if (section.text) out.push("", text(section.text));
    else if (section.id === "follow-up-items") out.push("", "- [ ] Action, owner, due date");
  }
  return `${out.join("\n")}\n`;
}
