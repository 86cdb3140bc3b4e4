/**
 * What the console reads from the incidents API, parsed at the edge. A tolerant reader: only the
 * fields the console shows, unknown fields dropped, and words it has no style for (a new action
 * status, a new timeline entry) shown as they are rather than failing the page. The shapes are
 * checked against the API's own types in `test/wire.test.ts`.
 *
 * No DOM here: the tests import this file under Node.
 */
import { z } from "zod/mini";

export const SEVERITIES = ["critical", "warning", "info"] as const;
export const STATUSES = ["triggered", "acknowledged", "resolved"] as const;
export const SOURCES = ["cloudwatch", "logs", "sentry", "security", "health"] as const;

export const SeverityWire = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeverityWire>;
export const StatusWire = z.enum(STATUSES);
export type Status = z.infer<typeof StatusWire>;

const text = z.string();
const optionalText = z.nullable(z.string());

export const LinkWire = z.object({
  label: text,
  url: z.optional(text),
  arn: z.optional(text),
});

export const IncidentWire = z.object({
  id: text,
  fingerprint: text,
  title: text,
  source: text,
  severity: SeverityWire,
  status: StatusWire,
  rule: optionalText,
  count: z.number(),
  flapping: z.boolean(),
  firstSeenAt: text,
  lastSeenAt: text,
  acknowledgedAt: optionalText,
  acknowledgedBy: optionalText,
  resolvedAt: optionalText,
  resolvedBy: optionalText,
  sequence: z.number(),
  link: z.nullable(LinkWire),
  attributes: z.record(z.string(), z.unknown()),
  detail: optionalText,
  silencedBy: optionalText,
  /** The service `services` assigns it to; older APIs send none. */
  service: z.optional(optionalText),
  /** The service's runbook (any text: only an http(s) URL is made a link). */
  runbook: z.optional(optionalText),
  mergedInto: z.optional(optionalText),
});
export type IncidentItem = z.infer<typeof IncidentWire>;

export const IncidentPageWire = z.object({
  items: z.array(IncidentWire),
  nextCursor: optionalText,
});

/** Every kind of timeline entry in one loose shape: `type` says which fields are there. */
export const TimelineEntryWire = z.object({
  type: text,
  at: text,
  severity: z.optional(text),
  rule: z.optional(optionalText),
  title: z.optional(text),
  flapping: z.optional(z.boolean()),
  detail: z.optional(optionalText),
  count: z.optional(z.number()),
  firstAt: z.optional(text),
  lastAt: z.optional(text),
  total: z.optional(z.number()),
  late: z.optional(z.boolean()),
  from: z.optional(text),
  to: z.optional(text),
  by: z.optional(optionalText),
  reason: z.optional(optionalText),
  text: z.optional(text),
  attempted: z.optional(text),
  silenceId: z.optional(text),
  until: z.optional(text),
  signalAt: z.optional(text),
  id: z.optional(text),
  action: z.optional(text),
  target: z.optional(text),
  status: z.optional(text),
  byArrival: z.optional(z.boolean()),
  alertId: z.optional(text),
  fingerprint: z.optional(text),
  change: z.optional(text),
  field: z.optional(text),
});
export type TimelineEntry = z.infer<typeof TimelineEntryWire>;

export const AwsRequestWire = z.object({
  service: text,
  operation: text,
  region: z.optional(text),
  input: z.record(z.string(), z.unknown()),
});
export type AwsRequest = z.infer<typeof AwsRequestWire>;

export const ActionWire = z.object({
  id: text,
  type: text,
  rule: optionalText,
  targetKey: text,
  trigger: text,
  status: text,
  reason: optionalText,
  at: text,
  plannedAt: text,
  dryRun: z.boolean(),
  requests: z.array(AwsRequestWire),
  before: optionalText,
  attempts: z.number(),
  approvedBy: optionalText,
  page: z.optional(
    z.object({
      kind: text,
      text: text,
      deliveries: z.record(
        z.string(),
        z.object({ status: text, attempts: z.number(), detail: optionalText }),
      ),
    }),
  ),
  /** Whether it worked, checked after it ran; null while it has not run (older APIs: absent). */
  verification: z.optional(
    z.nullable(
      z.object({
        status: text,
        dueAt: optionalText,
        checkedAt: optionalText,
        evidence: optionalText,
      }),
    ),
  ),
  /** A step of an `ifIneffective` ladder: the action it follows and the ladder's first. */
  follows: z.optional(z.nullable(z.object({ action: text, root: text, step: z.number() }))),
});
export type Action = z.infer<typeof ActionWire>;

/** Where the incident's escalation stands (older APIs send none). */
export const EscalationWire = z.object({
  policy: optionalText,
  level: z.nullable(z.number()),
  round: z.nullable(z.number()),
  levels: z.nullable(z.number()),
  rounds: z.nullable(z.number()),
  nextAt: optionalText,
});
export type Escalation = z.infer<typeof EscalationWire>;

/** What one source says about one thing inside an incident, with its own lifecycle. */
export const AlertWire = z.object({
  id: text,
  fingerprint: text,
  source: text,
  title: text,
  description: optionalText,
  severity: SeverityWire,
  status: text,
  count: z.number(),
  firstSeen: text,
  lastSeen: text,
  /** The incident whose open alert holds this one quiet (inhibition). */
  inhibitedBy: optionalText,
});
export type Alert = z.infer<typeof AlertWire>;

/** A deploy or a pipeline's change to the incident's service (or one it depends on). */
export const ChangeWire = z.object({
  id: text,
  service: text,
  version: text,
  previousVersion: optionalText,
  commit: optionalText,
  author: optionalText,
  url: optionalText,
  at: text,
  origin: text,
  account: z.optional(optionalText),
});
export type Change = z.infer<typeof ChangeWire>;

export const IncidentDetailWire = z.object({
  ...IncidentWire.shape,
  timeline: z.array(TimelineEntryWire),
  actions: z.array(ActionWire),
  escalation: z.optional(EscalationWire),
  // Older APIs send neither: an incident is then its one alert, with no changes known.
  alerts: z._default(z.array(AlertWire), []),
  changes: z._default(z.array(ChangeWire), []),
});
export type IncidentDetail = z.infer<typeof IncidentDetailWire>;

export const CommandWire = z.object({
  changed: z.boolean(),
  message: text,
  incident: IncidentWire,
});
export type CommandResult = z.infer<typeof CommandWire>;

export const SilenceWire = z.object({
  id: text,
  matcher: text,
  reason: optionalText,
  createdBy: text,
  createdAt: text,
  endsAt: text,
});
export type Silence = z.infer<typeof SilenceWire>;
export const SilencesWire = z.object({ items: z.array(SilenceWire) });

const TimingWire = z.object({
  count: z.number(),
  medianSeconds: z.nullable(z.number()),
  p90Seconds: z.nullable(z.number()),
});
export type Timing = z.infer<typeof TimingWire>;
const counts = z.record(z.string(), z.number());
const timings = z.record(z.string(), TimingWire);

export const SummaryWire = z.object({
  range: z.object({ since: optionalText, until: optionalText }),
  incidents: z.number(),
  bySeverity: counts,
  bySource: counts,
  byStatus: counts,
  timeToAcknowledge: timings,
  timeToResolve: timings,
  noisiest: z.array(
    z.object({
      fingerprint: text,
      title: text,
      source: text,
      incidents: z.number(),
      signals: z.number(),
      lastSeenAt: text,
    }),
  ),
});
export type Summary = z.infer<typeof SummaryWire>;

/** Who is on call in each schedule; `person` null (and no span) when nobody is. */
export const OnCallWire = z.object({
  schedule: text,
  person: optionalText,
  from: optionalText,
  to: optionalText,
});
export type OnCall = z.infer<typeof OnCallWire>;
export const OnCallsWire = z.object({ items: z.array(OnCallWire) });

/** The API's error body: `{"error":{"code","message"}}`. */
export const ErrorWire = z.object({ error: z.object({ code: text, message: text }) });

/** One alarm's metric over the incident's time range (`GET /incidents/{id}/metrics`). */
export const MetricSeriesWire = z.object({
  alarmName: text,
  label: text,
  periodSeconds: z.number(),
  statistic: text,
  threshold: z.nullable(z.number()),
  comparison: optionalText,
  unit: z.optional(optionalText),
  points: z.array(z.object({ at: text, value: z.number() })),
});
export type MetricSeries = z.infer<typeof MetricSeriesWire>;
export const MetricsWire = z.object({
  items: z.array(z.object({ series: MetricSeriesWire, summary: text })),
});
export type Metrics = z.infer<typeof MetricsWire>;
