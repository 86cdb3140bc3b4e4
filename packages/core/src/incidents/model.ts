import * as z from "zod";
import { ActionRecordSchema, ActionStatusSchema, ActionTypeSchema } from "../actions/model";
import { SeveritySchema } from "../severity";
import { LinkSchema, SignalAttributesSchema, SourceSchema } from "../signal";
import { DELIVERY_MARK_LENGTH } from "./ids";

export const INCIDENT_STATUSES = ["triggered", "acknowledged", "resolved"] as const;
export const IncidentStatusSchema = z.enum(INCIDENT_STATUSES);
export type IncidentStatus = z.infer<typeof IncidentStatusSchema>;

const Timestamp = z.iso.datetime();

/** An incident as people and the API see it. */
export const IncidentSchema = z.object({
  id: z.string(),
  fingerprint: z.string(),
  title: z.string(),
  source: SourceSchema,
  severity: SeveritySchema,
  status: IncidentStatusSchema,
  rule: z.string().nullable(),
  count: z.number().int().nonnegative(),
  flapping: z.boolean(),
  firstSeenAt: Timestamp,
  lastSeenAt: Timestamp,
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: Timestamp.nullable(),
  resolvedBy: z.string().nullable(),
  /** The nth incident of this fingerprint (1 for the first). */
  sequence: z.number().int().positive(),
  link: LinkSchema.nullable(),
  attributes: SignalAttributesSchema,
  detail: z.string().nullable(),
  /** The service `services` assigns its signals to (`Policy.serviceOf`), or null for none. */
  service: z.string().nullable().default(null),
  /** The service's runbook when the incident opened. */
  runbook: z.string().nullable().default(null),
  /** Set when a person merged this incident into another: signals of its alerts follow it. */
  mergedInto: z.string().nullable().default(null),
});
export type Incident = z.infer<typeof IncidentSchema>;

export const ALERT_STATUSES = ["firing", "resolved"] as const;
export const AlertStatusSchema = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof AlertStatusSchema>;

/**
 * What one source says about one thing (one fingerprint) inside an incident, with its own
 * lifecycle: it fires and resolves on its own signals; the incident resolves with its last.
 */
export const AlertSchema = z.object({
  /** `al1`, `al2`... in the order alerts joined the incident. */
  id: z.string().regex(/^al[1-9][0-9]*$/),
  fingerprint: z.string(),
  source: SourceSchema,
  title: z.string(),
  /** What the team wrote about it (`signal.attributes.description`). */
  description: z.string().nullable(),
  severity: SeveritySchema,
  rule: z.string().nullable(),
  status: AlertStatusSchema,
  count: z.number().int().nonnegative(),
  firstSeen: Timestamp,
  lastSeen: Timestamp,
  /** The incident whose open alert holds this one quiet (inhibition), or null. */
  inhibitedBy: z.string().nullable().default(null),
  link: LinkSchema.nullable(),
  attributes: SignalAttributesSchema,
  /** Its newest trigger: a recovery older than this is stale. */
  lastTriggerAt: Timestamp,
  /** Its newest recovery (null while it never recovered): a trigger before it is late. */
  resolvedAt: Timestamp.nullable().default(null),
});
export type Alert = z.infer<typeof AlertSchema>;

/** An alert as the API shows it (`GET /incidents/{id}`). */
export const AlertViewSchema = AlertSchema.pick({
  id: true,
  fingerprint: true,
  source: true,
  title: true,
  description: true,
  severity: true,
  status: true,
  count: true,
  firstSeen: true,
  lastSeen: true,
  inhibitedBy: true,
});
export type AlertView = z.infer<typeof AlertViewSchema>;

export const alertView = (alert: Alert): AlertView => ({
  id: alert.id,
  fingerprint: alert.fingerprint,
  source: alert.source,
  title: alert.title,
  description: alert.description,
  severity: alert.severity,
  status: alert.status,
  count: alert.count,
  firstSeen: alert.firstSeen,
  lastSeen: alert.lastSeen,
  inhibitedBy: alert.inhibitedBy,
});

const Actor = z.string().max(200);

/**
 * The timeline entries the post-mortem reports as recorded (reports/postmortem.ts reuses them;
 * it merges `signals` entries into runs and always states an action's `by`).
 */
export const RecordedEntrySchemas = [
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
  z
    .object({
      type: z.literal("stale-trigger"),
      at: Timestamp,
      /** The newest of them. */
      signalAt: Timestamp,
      count: z.number().int().positive(),
      reason: z.string(),
    })
    .describe("Triggers that arrived after a newer recovery, with nothing open: none opened"),
  z.object({ type: z.literal("note"), at: Timestamp, by: Actor, text: z.string() }),
  z
    .object({ type: z.literal("refused"), at: Timestamp, by: Actor, attempted: z.string() })
    .describe("Someone who may look but not act tried to change the incident"),
  z.object({
    type: z.literal("silenced"),
    at: Timestamp,
    silenceId: z.string(),
    until: Timestamp,
    reason: z.string().nullable(),
  }),
  z
    .object({
      type: z.literal("alert"),
      at: Timestamp,
      alertId: z.string(),
      fingerprint: z.string(),
      change: z.enum(["joined", "severity", "resolved", "fired", "merged", "split"]),
      severity: SeveritySchema,
      title: z.string(),
      /** A person's change (merge, split); null for what signals did. */
      by: Actor.nullable(),
      reason: z.string().nullable(),
    })
    .describe("An alert joined, changed, resolved, fired again, came by merge or left by split"),
  z
    .object({
      type: z.literal("edited"),
      at: Timestamp,
      by: Actor,
      field: z.enum(["severity", "title"]),
      from: z.string(),
      to: z.string(),
      reason: z.string().nullable(),
    })
    .describe("A person changed the incident's severity or title (PATCH)"),
] as const;

/** The fields of an `action` entry but `by`, which the timeline and the report state differently. */
export const ActionEntryFields = {
  type: z.literal("action"),
  at: Timestamp,
  /** The action's id on this incident (`a1`). */
  id: z.string(),
  action: ActionTypeSchema,
  target: z.string(),
  status: ActionStatusSchema,
  reason: z.string().nullable(),
};

/**
 * One line of an incident's story. Signals are aggregated (`count`, `firstAt`, `lastAt`) and,
 * under a storm, sampled: the exact count lives on the incident, not in one entry per signal.
 */
export const TimelineEntrySchema = z.discriminatedUnion("type", [
  ...RecordedEntrySchemas,
  z.object({
    type: z.literal("signals"),
    at: Timestamp,
    count: z.number().int().positive(),
    firstAt: Timestamp,
    lastAt: Timestamp,
    /** The incident's total when this entry was written. */
    total: z.number().int().positive(),
    detail: z.string().nullable(),
    late: z.boolean().optional(),
    /** Some signal reported a time outside the trusted window: it is ordered by its arrival. */
    byArrival: z.boolean().optional(),
  }),
  z.object({ ...ActionEntryFields, by: Actor.optional() }),
]);
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type TimelineEntryType = TimelineEntry["type"];

/** A page of timeline entries moved out of the incident item when its inline tail grows. */
export interface TimelinePage {
  incidentId: string;
  page: number;
  entries: TimelineEntry[];
}

const DedupGenerationSchema = z.object({ generation: z.number().int(), ids: z.array(z.string()) });
/**
 * A generation as `storedRecord` writes it: its marks (all of one length) as one string, so
 * a storm's thousand marks are one value to write, escape, parse and check, not a thousand.
 */
const StoredGenerationSchema = z
  .object({
    generation: z.number().int(),
    marks: z.string().regex(new RegExp(`^(?:[A-Za-z0-9_-]{${DELIVERY_MARK_LENGTH}})*$`)),
  })
  .transform(({ generation, marks }) => {
    const ids: string[] = [];
    for (let at = 0; at < marks.length; at += DELIVERY_MARK_LENGTH) {
      ids.push(marks.slice(at, at + DELIVERY_MARK_LENGTH));
    }
    return { generation, ids };
  });

/**
 * Delivery ids seen recently for a fingerprint, bucketed by generation so old ones age out.
 * Read in either stored shape: a list of marks (items written before) or one string.
 */
export const DedupMarksSchema = z.array(z.union([StoredGenerationSchema, DedupGenerationSchema]));
export type DedupMarks = Array<z.infer<typeof DedupGenerationSchema>>;

/**
 * An incident with the bookkeeping that makes writes safe: the optimistic-concurrency
 * `version`, the inline tail of the timeline, the delivery ids seen (carried from one incident
 * of a fingerprint to the next, so a redelivery after a rollover is still recognised) and the
 * recent open times used to detect flapping.
 */
const IncidentRecordFields = z.object({
  incident: IncidentSchema,
  /** Its alerts, one per fingerprint; an ungrouped incident has exactly one. */
  alerts: z.array(AlertSchema).min(1),
  /** Who set the severity by hand: signals no longer change it until a person does again. */
  severitySetBy: z.string().nullable().default(null),
  /**
   * The last recovery of each alert of the key's earlier incidents, by fingerprint, carried
   * from one incident of a service to the next: a trigger older than its own alert's recovery
   * opens nothing, even after another alert opened the next incident.
   */
  recoveredBefore: z.record(z.string(), Timestamp).default({}),
  version: z.number().int().positive(),
  timeline: z.array(TimelineEntrySchema),
  timelinePages: z.number().int().nonnegative(),
  signalEntries: z.number().int().nonnegative(),
  lastSignalEntryAt: Timestamp.nullable(),
  lastTriggerAt: Timestamp,
  /**
   * When Firebreak last took in a trigger for it (its own clock, not the signal's): "quiet" for
   * auto-resolve is counted from here, so a late or redriven batch does not resolve at once.
   */
  lastReceivedAt: Timestamp.nullable().default(null),
  seen: DedupMarksSchema,
  /**
   * Marks of this fingerprint moved out of the item (a generation outgrew it) are kept until
   * then: before it, a delivery not marked inline is also looked up among the archived ones.
   */
  marksArchivedUntil: Timestamp.nullable().default(null),
  opens: z.array(Timestamp),
  /** Every automated response decided for this incident, with its outcome (the outbox too). */
  actions: z.array(ActionRecordSchema).default([]),
  /** Re-paging of an unacknowledged critical incident: how many repeats, and when the next. */
  escalation: z
    .object({ repeats: z.number().int().nonnegative(), nextAt: Timestamp.nullable() })
    .default({ repeats: 0, nextAt: null }),
});

/**
 * Records written before incidents held alerts read as one alert made from the incident, so
 * existing tables need no migration.
 */
export const IncidentRecordSchema = z.preprocess((stored) => {
  const value = expandedRecord(stored);
  return isLegacyRecord(value) ? { ...value, alerts: [legacyAlert(value)] } : value;
}, IncidentRecordFields);
export type IncidentRecord = z.infer<typeof IncidentRecordFields>;

/**
 * The record as a store writes it (then `JSON.stringify`): each generation's delivery marks as
 * one string, which `IncidentRecordSchema` reads back as the list (a generation holding a mark
 * of another length stays a list), and without the fields `STORED_DEFAULTS` and the derived
 * lists below put back.
 */
export function storedRecord(record: IncidentRecord): object {
  const compact = (marks: string[]) => marks.every((id) => id.length === DELIVERY_MARK_LENGTH);
  const { incident } = record;
  return {
    ...withoutDerived(
      withoutDefaults(record, STORED_DEFAULTS.record),
      RECORD_FROM_INCIDENT,
      record,
    ),
    incident: withoutDefaults(incident, STORED_DEFAULTS.incident),
    alerts: record.alerts.map((alert) =>
      withoutDerived(withoutDefaults(alert, STORED_DEFAULTS.alert), ALERT_FROM_INCIDENT, record),
    ),
    actions: record.actions.map((action) => {
      const stored = withoutDerived(
        withoutDefaults(action, STORED_DEFAULTS.action),
        ACTION_FROM_PAGE,
        action,
      );
      return action.page
        ? { ...stored, page: mapDeliveries(action.page, withoutDefaults) }
        : stored;
    }),
    timeline: record.timeline.map((entry) =>
      withoutDefaults(entry, TIMELINE_DEFAULTS[entry.type] ?? NO_DEFAULTS),
    ),
    seen: record.seen.map(({ generation, ids }) =>
      compact(ids) ? { generation, marks: ids.join("") } : { generation, ids },
    ),
  };
}

/**
 * What a stored record leaves out, and reading puts back: fields at their usual value (null,
 * false, empty), and an alert's fields that say what its incident says (an incident of one
 * alert repeats its title, link and attributes otherwise). DynamoDB bills a write per started
 * kilobyte and an incident is written at least twice, so the item's size is its cost: a new
 * Sentry incident's item takes 1.9 KB instead of 3.1 (2 write units, not 4).
 */
const STORED_DEFAULTS = {
  record: {
    severitySetBy: null,
    recoveredBefore: {},
    timelinePages: 0,
    lastReceivedAt: null,
    marksArchivedUntil: null,
    actions: [],
    escalation: { repeats: 0, nextAt: null },
  },
  incident: {
    rule: null,
    flapping: false,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    link: null,
    detail: null,
    service: null,
    runbook: null,
    mergedInto: null,
  },
  // Not the fields an alert may take from its incident: an absent one is the incident's.
  alert: { description: null, inhibitedBy: null, resolvedAt: null },
  action: {
    rule: null,
    reason: null,
    dryRun: false,
    requests: [],
    before: null,
    notBefore: null,
    claim: null,
    approvedBy: null,
    followUp: null,
    page: null,
  },
} satisfies Record<string, Record<string, unknown>>;

/** What a table of usual values holds for a kind that has none. */
const NO_DEFAULTS: Readonly<Record<string, unknown>> = {};

/** A timeline entry's fields at their usual value, by the entry's type (the inline tail only). */
const TIMELINE_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  opened: { rule: null, detail: null, flapping: false },
  severity: { rule: null },
  resolved: { reason: null },
  silenced: { reason: null },
  action: { reason: null },
  alert: { by: null, reason: null },
};

/** A page's delivery to one transport, at its usual value: not tried, no detail, no wait. */
const DELIVERY_DEFAULTS = { attempts: 0, detail: null, notBefore: null };

/** A page with `change` applied to each of its deliveries. */
function mapDeliveries(
  page: unknown,
  change: (delivery: object, defaults: Readonly<Record<string, unknown>>) => unknown,
): unknown {
  if (typeof page !== "object" || page === null || !("deliveries" in page)) return page;
  const { deliveries } = page as { deliveries: unknown };
  if (typeof deliveries !== "object" || deliveries === null) return page;
  return {
    ...page,
    deliveries: Object.fromEntries(
      Object.entries(deliveries).map(([transport, delivery]) => [
        transport,
        typeof delivery === "object" && delivery !== null
          ? change(delivery, DELIVERY_DEFAULTS)
          : delivery,
      ]),
    ),
  };
}

/** A field left out when it equals what `from` makes of its owner, and made so when read. */
type Derived<T> = ReadonlyArray<[string, (owner: T) => unknown]>;

/** The record's times a new incident's own say (the newest trigger, its one open...). */
const RECORD_FROM_INCIDENT: Derived<RecordShape> = [
  ["lastTriggerAt", (record) => record.incident.lastSeenAt],
  ["lastSignalEntryAt", (record) => record.incident.lastSeenAt],
  ["opens", (record) => [record.incident.firstSeenAt]],
];

/** An alert's fields left out when they equal the incident's (or the record's) value. */
const ALERT_FROM_INCIDENT: Derived<RecordShape> = [
  ["fingerprint", (record) => record.incident.fingerprint],
  ["source", (record) => record.incident.source],
  ["title", (record) => record.incident.title],
  ["severity", (record) => record.incident.severity],
  ["rule", (record) => record.incident.rule],
  ["count", (record) => record.incident.count],
  ["firstSeen", (record) => record.incident.firstSeenAt],
  ["lastSeen", (record) => record.incident.lastSeenAt],
  ["link", (record) => record.incident.link],
  ["attributes", (record) => record.incident.attributes],
  ["lastTriggerAt", (record) => record.lastTriggerAt],
];

/** A page's spec and target, which its channel and kind say. */
const ACTION_FROM_PAGE: Derived<{ page?: unknown }> = [
  ["spec", ({ page }) => (isPage(page) ? { channel: page.channel, kind: page.kind } : undefined)],
  ["targetKey", ({ page }) => (isPage(page) ? `page:${page.channel}` : undefined)],
];

const isPage = (page: unknown): page is { channel: unknown; kind: unknown } =>
  typeof page === "object" && page !== null && "channel" in page && "kind" in page;

interface RecordShape {
  incident: Record<string, unknown>;
  lastTriggerAt?: unknown;
}

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

/**
 * Equal as JSON. Every save asks it of each field with a usual value, so the common answers come
 * without serializing: the same value, or an object against a value that is not one (which never
 * serialize alike).
 */
const same = (a: unknown, b: unknown) =>
  a === b || (isObject(a) === isObject(b) && JSON.stringify(a) === JSON.stringify(b));

/** A fresh copy of a usual value: a primitive is its own. */
const copy = <T>(value: T): T => (isObject(value) ? structuredClone(value) : value);

const defaultEntries = new WeakMap<object, Array<[string, unknown]>>();
/** The fields of a defaults table, listed once: every save and read walks them. */
function fieldsOf(defaults: Readonly<Record<string, unknown>>): Array<[string, unknown]> {
  let entries = defaultEntries.get(defaults);
  if (!entries) {
    entries = Object.entries(defaults);
    defaultEntries.set(defaults, entries);
  }
  return entries;
}

function withoutDefaults(
  value: object,
  defaults: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...value };
  for (const [field, usual] of fieldsOf(defaults)) {
    if (field in kept && same(kept[field], usual)) delete kept[field];
  }
  return kept;
}

function withoutDerived<T>(
  stored: Record<string, unknown>,
  derived: Derived<T>,
  owner: T,
): Record<string, unknown> {
  for (const [field, from] of derived) {
    const value = from(owner);
    if (value !== undefined && same(stored[field], value)) delete stored[field];
  }
  return stored;
}

function withDerived<T>(value: unknown, derived: Derived<T>, owner: T): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const full: Record<string, unknown> = { ...value };
  for (const [field, from] of derived) {
    const made = field in full ? undefined : from(owner);
    if (made !== undefined) full[field] = copy(made);
  }
  return full;
}

function withDefaults(value: unknown, defaults: Readonly<Record<string, unknown>>): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const full: Record<string, unknown> = { ...value };
  for (const [field, usual] of fieldsOf(defaults)) {
    if (!(field in full)) full[field] = copy(usual);
  }
  return full;
}

/** A record as `storedRecord` wrote it, whole again (a record written whole reads as it is). */
function expandedRecord(stored: unknown): unknown {
  if (typeof stored !== "object" || stored === null || !("incident" in stored)) return stored;
  const { alerts, actions, ...rest } = stored as { alerts?: unknown; actions?: unknown };
  const incident = withDefaults((stored as RecordShape).incident, STORED_DEFAULTS.incident);
  const partial = { ...rest, incident } as RecordShape;
  const record = withDerived(
    withDefaults(partial, STORED_DEFAULTS.record),
    RECORD_FROM_INCIDENT,
    partial,
  ) as RecordShape & Record<string, unknown>;
  const { timeline } = record as { timeline?: unknown };
  return {
    ...record,
    ...(Array.isArray(timeline)
      ? {
          timeline: timeline.map((entry) =>
            typeof entry === "object" && entry !== null && "type" in entry
              ? withDefaults(entry, TIMELINE_DEFAULTS[String(entry.type)] ?? NO_DEFAULTS)
              : entry,
          ),
        }
      : {}),
    // No alerts at all: a record from before alerts, which the legacy reading makes one.
    ...(Array.isArray(alerts)
      ? {
          alerts: alerts.map((alert) =>
            withDerived(withDefaults(alert, STORED_DEFAULTS.alert), ALERT_FROM_INCIDENT, record),
          ),
        }
      : {}),
    ...(Array.isArray(actions)
      ? {
          actions: actions.map((action) => {
            const full = withDefaults(action, STORED_DEFAULTS.action) as { page?: unknown };
            const page = mapDeliveries(full.page, withDefaults);
            return withDerived({ ...full, page }, ACTION_FROM_PAGE, { page });
          }),
        }
      : {}),
  };
}

interface LegacyRecord {
  incident: Record<string, unknown>;
  lastTriggerAt?: unknown;
}

function isLegacyRecord(value: unknown): value is LegacyRecord {
  return (
    typeof value === "object" &&
    value !== null &&
    !("alerts" in value) &&
    "incident" in value &&
    typeof value.incident === "object" &&
    value.incident !== null
  );
}

function legacyAlert({ incident, lastTriggerAt }: LegacyRecord): Record<string, unknown> {
  const attributes = (incident.attributes ?? {}) as Record<string, unknown>;
  return {
    id: "al1",
    fingerprint: incident.fingerprint,
    source: incident.source,
    title: incident.title,
    description: attributes.description ?? null,
    severity: incident.severity,
    rule: incident.rule ?? null,
    status: incident.status === "resolved" ? "resolved" : "firing",
    count: incident.count,
    firstSeen: incident.firstSeenAt,
    lastSeen: incident.lastSeenAt,
    link: incident.link ?? null,
    attributes,
    lastTriggerAt: lastTriggerAt ?? incident.lastSeenAt,
    resolvedAt: incident.resolvedAt ?? null,
  };
}
