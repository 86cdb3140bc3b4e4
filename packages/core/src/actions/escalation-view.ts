import * as z from "zod";
import type { MonitoringConfig } from "../config/schema";
import type { IncidentRecord } from "../incidents/model";
import { policyOf } from "./due";
import type { EscalationPolicy } from "./escalation-policy";

/**
 * Where an incident stands in its policy. `record.escalation.repeats` counts the levels notified
 * so far over every round, so level and round follow from it and the policy's shape.
 */
export function escalationStep(
  record: IncidentRecord,
  policy: EscalationPolicy,
): { notified: number; level: number; round: number; total: number } {
  const levels = policy.levels.length;
  const notified = record.escalation.repeats;
  const last = Math.max(0, notified - 1);
  return {
    notified,
    level: (last % levels) + 1,
    round: Math.floor(last / levels) + 1,
    total: levels * (policy.repeat + 1),
  };
}

/** Where an incident's escalation stands, for people to read (the API and the console). */
export const EscalationViewSchema = z.object({
  /** The policy's name; null: the `escalation` block's re-pages to channels. */
  policy: z.string().nullable(),
  /** The level last notified (1-based) and its round; null before any. */
  level: z.number().int().nullable(),
  round: z.number().int().nullable(),
  levels: z.number().int().nullable(),
  rounds: z.number().int().nullable(),
  /** When the next level (or the acknowledger's reminder, or re-page) is due; null: none. */
  nextAt: z.string().nullable(),
});
export type EscalationView = z.infer<typeof EscalationViewSchema>;

/**
 * Where an incident's escalation stands.
 *
 * @example
 * escalationView(record, config);
 * // { policy: "default", level: 1, round: 1, levels: 2, rounds: 2, nextAt: "2026-...Z" }
 */
export function escalationView(record: IncidentRecord, config: MonitoringConfig): EscalationView {
  const name = config.rules.find((rule) => rule.name === record.incident.rule)?.escalation;
  const policy = policyOf(record, config);
  const { nextAt } = record.escalation;
  if (!policy || name === undefined) {
    return { policy: null, level: null, round: null, levels: null, rounds: null, nextAt };
  }
  const step = escalationStep(record, policy);
  const started = step.notified > 0;
  return {
    policy: name,
    level: started ? step.level : null,
    round: started ? step.round : null,
    levels: policy.levels.length,
    rounds: policy.repeat + 1,
    nextAt,
  };
}
