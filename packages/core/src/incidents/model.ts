import * as z from "zod";
import { ActionRecordSchema, ActionStatusSchema, ActionTypeSchema } from "../actions/model";
import { SeveritySchema } from "../severity";
import { LinkSchema, SignalAttributesSchema, SourceSchema } from "../signal";

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
});
export type Incident = z.infer<typeof IncidentSchema>;

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

/** Delivery ids seen recently for a fingerprint, bucketed by generation so old ones age out. */
export const DedupMarksSchema = z.array(
  z.object({ generation: z.number().int(), ids: z.array(z.string()) }),
);
export type DedupMarks = z.infer<typeof DedupMarksSchema>;

/**
 * An incident with the bookkeeping that makes writes safe: the optimistic-concurrency
 * `version`, the inline tail of the timeline, the delivery ids seen (carried from one incident
 * of a fingerprint to the next, so a redelivery after a rollover is still recognised) and the
 * recent open times used to detect flapping.
 */
export const IncidentRecordSchema = z.object({
  incident: IncidentSchema,
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
export type IncidentRecord = z.infer<typeof IncidentRecordSchema>;
