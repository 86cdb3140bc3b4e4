import * as z from "zod";
import { AwsRequestSchema } from "./gateway";

export const ACTION_STATUSES = [
  "planned",
  "awaiting-approval",
  "skipped",
  "simulated",
  "succeeded",
  "failed",
] as const;
export const ActionStatusSchema = z.enum(ACTION_STATUSES);
export type ActionStatus = z.infer<typeof ActionStatusSchema>;

/** Why an action was planned. */
export const ActionTriggerSchema = z.enum([
  "opened",
  "retriggered",
  "severity-raised",
  "escalation",
  "resolved",
  "approval-needed",
  "acknowledged",
  "held",
  "failure",
  /** The step of an `ifIneffective` ladder after an action verified ineffective. */
  "ineffective",
]);
export type ActionTrigger = z.infer<typeof ActionTriggerSchema>;

const Timestamp = z.iso.datetime();

/** The kind of page: the first for an incident, a repeat while unacknowledged, or "it's over". */
export const PageKindSchema = z.enum(["page", "escalation", "acknowledged", "resolved"]);
export type PageKind = z.infer<typeof PageKindSchema>;

export const TRANSPORTS = ["sns", "slack", "pagerduty"] as const;
export const TransportSchema = z.enum(TRANSPORTS);
export type Transport = z.infer<typeof TransportSchema>;

/** One transport's delivery of a page: `pending` until it went out or gave up. */
export const DeliverySchema = z.object({
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int().nonnegative(),
  detail: z.string().nullable(),
  /** Not before this time (a 429's Retry-After, or backoff). */
  notBefore: Timestamp.nullable(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

/**
 * Whether a remediation worked, checked `verifyAfter` after it ran (the alarm back to OK, the
 * signals stopped). Only actions that succeeded (or were simulated) are verified.
 */
export const VerificationSchema = z.object({
  status: z.enum(["pending", "effective", "ineffective"]),
  /** When the (next) check is due. */
  dueAt: Timestamp,
  /** When the verdict was reached; null while pending. */
  checkedAt: Timestamp.nullable(),
  /** What was found: `checkout-5xx is OK since 12:04:10`; while pending, why it waits. */
  evidence: z.string().nullable(),
});
export type Verification = z.infer<typeof VerificationSchema>;

/**
 * Where a chained action comes from: the `ifIneffective` ladder of `root`, step `step`
 * (0-based), planned because `action` was verified ineffective.
 */
export const ChainLinkSchema = z.object({
  action: z.string(),
  root: z.string(),
  step: z.number().int().nonnegative(),
});
export type ChainLink = z.infer<typeof ChainLinkSchema>;

/** The kinds of automated response. */
export const ActionTypeSchema = z.enum(["scale", "rollback", "failover", "page"]);

/**
 * One automated response to an incident, from decision to outcome: the action ledger on the
 * incident record. Decided with the incident change (so it is never lost), executed by the
 * dispatcher once (claimed with a compare-and-set, then describe-before-act), and every step of
 * it recorded: the exact AWS requests, the reason it was skipped, who approved it.
 */
export const ActionRecordSchema = z.object({
  /** `a1`, `a2`...: unique within the incident; `<incident>/<id>` is unique everywhere. */
  id: z.string(),
  type: ActionTypeSchema,
  /** The rule that asked for it (null for escalations and notices). */
  rule: z.string().nullable(),
  /** The action as configured (target, bounds...) or, for pages, the channel and kind. */
  spec: z.record(z.string(), z.unknown()),
  /** What cooldowns and circuit breakers count: `ecs-service:us-east-1/prod/api`, `page:oncall`. */
  targetKey: z.string(),
  trigger: ActionTriggerSchema,
  status: ActionStatusSchema,
  reason: z.string().nullable(),
  plannedAt: Timestamp,
  /** When the status last changed. */
  at: Timestamp,
  dryRun: z.boolean(),
  /** The requests that change something, exactly as sent (or, simulated, as they would be). */
  requests: z.array(AwsRequestSchema),
  /** What the target looked like before (the describe step), briefly. */
  before: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  /** Retry no sooner than this (transient failures back off). */
  notBefore: Timestamp.nullable(),
  /** Held by one dispatcher until `until`, so two never run it at once. */
  claim: z.object({ token: z.string(), until: Timestamp }).nullable(),
  approvedBy: z.string().nullable(),
  /** Where to report the outcome: the `response_url` of the Slack command that approved it. */
  followUp: z.object({ responseUrl: z.string() }).nullable().default(null),
  /** Pages: the channel, the kind, the text and each transport's delivery. */
  page: z
    .object({
      channel: z.string(),
      kind: PageKindSchema,
      text: z.string(),
      deliveries: z.partialRecord(TransportSchema, DeliverySchema),
    })
    .nullable(),
  /**
   * Remediations that ran: whether they worked. Absent or null: not verified (a page, a
   * skipped or failed action, one not yet run). Optional so records written before it parse.
   */
  verification: VerificationSchema.nullish(),
  /** A step of an `ifIneffective` ladder: the action it follows. Absent or null: none. */
  follows: ChainLinkSchema.nullish(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** Statuses the dispatcher still has work for. */
export const isPending = (action: ActionRecord) => action.status === "planned";

/** Statuses after which nothing more happens to an action. */
export const isFinal = (action: ActionRecord) =>
  action.status === "skipped" ||
  action.status === "simulated" ||
  action.status === "succeeded" ||
  action.status === "failed";
