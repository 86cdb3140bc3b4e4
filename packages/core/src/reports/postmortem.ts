import { z } from "zod";
import { AwsRequestSchema } from "../actions/gateway";
import {
  type ActionRecord,
  ActionStatusSchema,
  ActionTriggerSchema,
  PageKindSchema,
} from "../actions/model";
import { actionView } from "../actions/view";
import { formatDuration } from "../duration";
import {
  type Incident,
  type IncidentRecord,
  IncidentSchema,
  type TimelineEntry,
} from "../incidents/model";
import { SeveritySchema } from "../severity";
import { SignalAttributesSchema, SourceSchema } from "../signal";

const Timestamp = z.iso.datetime();
const Seconds = z.number().int().nonnegative();
const Actor = z.string();
const ActionTypeSchema = z.enum(["scale", "rollback", "failover", "page"]);

/** One line of the report's timeline: an entry as recorded, or a run of signal entries merged. */
export const PostmortemLineSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("opened"),
    at: Timestamp,
    severity: SeveritySchema,
    rule: z.string().nullable(),
    title: z.string(),
    detail: z.string().nullable(),
    flapping: z.boolean(),
  }),
  z.object({
    type: z.literal("signals"),
    /** The latest signal of the run, as on the entries it merges. */
    at: Timestamp,
    firstAt: Timestamp,
    lastAt: Timestamp,
    /** Signals the merged entries recorded (a sampled storm records fewer than arrived). */
    count: z.number().int().positive(),
    /** The incident's exact count after the run: the number to trust under sampling. */
    total: z.number().int().positive(),
    /** How many timeline entries the run merges. */
    entries: z.number().int().positive(),
    detail: z.string().nullable(),
    late: z.boolean(),
  }),
  z.object({
    type: z.literal("severity"),
    at: Timestamp,
    from: SeveritySchema,
    to: SeveritySchema,
    rule: z.string().nullable(),
  }),
  z.object({ type: z.literal("acknowledged"), at: Timestamp, by: Actor }),
  z.object({
    type: z.literal("resolved"),
    at: Timestamp,
    by: Actor,
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal("stale-recovery"),
    at: Timestamp,
    signalAt: Timestamp,
    reason: z.string(),
  }),
  z.object({ type: z.literal("note"), at: Timestamp, by: Actor, text: z.string() }),
  z.object({
    type: z.literal("action"),
    at: Timestamp,
    id: z.string(),
    action: ActionTypeSchema,
    target: z.string(),
    status: ActionStatusSchema,
    reason: z.string().nullable(),
    /** The person behind the change (an approval), when it was not the automation. */
    by: Actor.nullable(),
  }),
]);
export type PostmortemLine = z.infer<typeof PostmortemLineSchema>;
type SignalsLine = Extract<PostmortemLine, { type: "signals" }>;

/** An action as `actionView` shows it. */
const ActionViewSchema = z.object({
  id: z.string(),
  type: ActionTypeSchema,
  rule: z.string().nullable(),
  /** The configured target, or `{ channel }` for pages. */
  target: z.unknown(),
  targetKey: z.string(),
  trigger: ActionTriggerSchema,
  status: ActionStatusSchema,
  reason: z.string().nullable(),
  at: Timestamp,
  plannedAt: Timestamp,
  dryRun: z.boolean(),
  requests: z.array(AwsRequestSchema),
  before: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  approvedBy: z.string().nullable(),
  page: z
    .object({
      kind: PageKindSchema,
      text: z.string(),
      deliveries: z.record(
        z.string(),
        z.object({
          status: z.enum(["pending", "sent", "failed"]),
          attempts: z.number().int().nonnegative(),
          detail: z.string().nullable(),
        }),
      ),
    })
    .optional(),
});

/** What the automation did to one target, for the "what the automation did" section. */
const AutomatedStepSchema = z.object({
  id: z.string(),
  type: ActionTypeSchema,
  /** `scale ecs-service:us-east-1/prod/api`, `page oncall`. */
  what: z.string(),
  trigger: ActionTriggerSchema,
  status: ActionStatusSchema,
  reason: z.string().nullable(),
  plannedAt: Timestamp,
  /** When the status last changed: the outcome's time once the action ran. */
  at: Timestamp,
  dryRun: z.boolean(),
  approvedBy: z.string().nullable(),
  before: z.string().nullable(),
  requests: z.array(AwsRequestSchema),
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
  /** Empty until people write it. */
  text: z.string(),
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
  /** The time an open incident's report was made ("so far"); null once it is resolved. */
  asOf: Timestamp.nullable(),
  impact: z.object({
    /** The first signal. */
    start: Timestamp,
    /** The resolution, or null while the incident is open. */
    end: Timestamp.nullable(),
    /** To the resolution, or to `asOf` while open. */
    durationSeconds: Seconds,
    duration: z.string(),
    ongoing: z.boolean(),
  }),
  detection: z.object({
    at: Timestamp,
    source: SourceSchema,
    /** The rule that classified the first signal (null: the default severity applied). */
    rule: z.string().nullable(),
    /** Where it came from, for people: `CloudWatch alarm api-latency (123456789012, us-east-1)`. */
    origin: z.string(),
    /** The way back to the origin: alarm console URL and ARN, log stream, Sentry issue. */
    link: IncidentSchema.shape.link,
    attributes: OriginAttributesSchema,
    detail: z.string().nullable(),
  }),
  /** From the first signal to the acknowledgement; null until someone acknowledges. */
  timeToAcknowledgeSeconds: Seconds.nullable(),
  timeToAcknowledge: z.string().nullable(),
  /** From the first signal to the resolution; null while open. */
  timeToResolveSeconds: Seconds.nullable(),
  timeToResolve: z.string().nullable(),
  /** The exact number of signals (the timeline samples under a storm; this does not). */
  signalCount: z.number().int().nonnegative(),
  signals: z.object({
    first: Timestamp,
    last: Timestamp,
    count: z.number().int().nonnegative(),
  }),
  /** In time order (equal times keep their recorded order); consecutive signal entries merged. */
  timeline: z.array(PostmortemLineSchema),
  actions: z.array(ActionViewSchema),
  automation: z.object({
    /** `recovered 4m 12s after a1 (scale ecs-service:…) succeeded`, `no automated action ran`. */
    summary: z.string(),
    recovery: z.object({
      state: z.enum(RECOVERY_STATES),
      /** The last remediation that ran before the resolution (or so far). */
      actionId: z.string().nullable(),
      /** From that action's outcome to the resolution (or to `asOf`). */
      afterSeconds: Seconds.nullable(),
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
const secondsBetween = (from: string, to: string) =>
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
  for (const { entry } of order) {
    if (entry.type !== "signals") {
      run = null;
      lines.push(lineOf(entry));
      continue;
    }
    const first = timeOf(entry.firstAt);
    const last = timeOf(entry.lastAt);
    if (!run) {
      run = {
        line: {
          type: "signals",
          at: entry.at,
          firstAt: entry.firstAt,
          lastAt: entry.lastAt,
          count: entry.count,
          total: entry.total,
          entries: 1,
          detail: entry.detail,
          late: entry.late ?? false,
        },
        first,
        last,
      };
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

/** A copy of an entry in the report's shape: every key present, nothing shared with the input. */
function lineOf(entry: Exclude<TimelineEntry, { type: "signals" }>): PostmortemLine {
  switch (entry.type) {
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
    case "note":
      return { type: "note", at: entry.at, by: entry.by, text: entry.text };
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
    requests: action.requests,
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
