import * as z from "zod";
import { DurationSchema } from "../duration";

/** Who a level notifies: whoever a schedule has on call then, a named person, or a channel. */
export const NotifyTargetSchema = z.union([
  z.strictObject({ schedule: z.string().min(1).max(64) }),
  z.strictObject({ person: z.string().min(1).max(64) }),
  z.strictObject({ channel: z.string().min(1).max(40) }),
]);
export type NotifyTarget = z.infer<typeof NotifyTargetSchema>;

/** One level: everyone in `notify` at once, then the next level once `after` passes unacknowledged. */
export const EscalationLevelSchema = z.strictObject({
  notify: z.array(NotifyTargetSchema).min(1).max(10),
  after: DurationSchema,
});

/**
 * An escalation policy, as PagerDuty's: level 1 is notified when the incident opens, each next
 * level when the previous level's `after` passes without acknowledgement. `repeat` runs the whole
 * policy again that many more times (PagerDuty's "repeat N times"): `repeat: 1` notifies every
 * level twice in all. Acknowledging or resolving stops it.
 *
 * @example
 * escalationPolicies: {
 *   default: {
 *     levels: [
 *       { notify: [{ schedule: "primary" }], after: "5m" },
 *       { notify: [{ person: "dave" }, { channel: "managers" }], after: "10m" },
 *     ],
 *     repeat: 1,
 *     reacknowledgeAfter: "1h",
 *   },
 * }
 */
export const EscalationPolicySchema = z.strictObject({
  levels: z.array(EscalationLevelSchema).min(1).max(10),
  repeat: z.number().int().min(0).max(9).default(0),
  /** An acknowledged incident neither resolved nor updated this long notifies its acknowledger again. */
  reacknowledgeAfter: DurationSchema.optional(),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicySchema>;

export const PolicyNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/i, "use letters, digits, '_' and '-' (max 40)");

/**
 * How a person is reached: a Slack direct message from the Firebreak bot (`slack`, a user id),
 * an SMS through SNS (`phone`, E.164), a PagerDuty alert on their own service (`pagerduty`).
 * `email` is kept for people to read: SNS cannot mail one address without a confirmed topic
 * subscription per person, so Firebreak does not send email (see the README).
 */
export const PersonSchema = z.strictObject({
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, "a Slack user id such as U012AB3CD")
    .optional(),
  email: z.email().optional(),
  phone: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, "an E.164 number such as +14155550100")
    .optional(),
  pagerduty: z.strictObject({ routingKey: z.string().min(1) }).optional(),
});
export type Person = z.infer<typeof PersonSchema>;

/** The page channel a person's notifications are recorded under (channels cannot hold `:`). */
export const personChannel = (person: string) => `person:${person}`;

/** The person a page channel names, if it names one. */
export const personOf = (channel: string): string | null =>
  channel.startsWith("person:") ? channel.slice("person:".length) : null;
