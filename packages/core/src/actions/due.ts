import type { MonitoringConfig } from "../config/schema";
import type { IncidentRecord } from "../incidents/model";
import { holdRevisitAt } from "../silences/hold";
import type { EscalationPolicy } from "./escalation-policy";
import type { ActionRecord } from "./model";

// When an incident next needs the sweep, apart from the sweep itself (./escalate): the store
// computes it on every save, so every function that saves an incident loads this module. The
// sweep is imported only when something is due (./sweep.ts) and carries planning, silences and
// on-call, with RE2 and luxon beneath them; kept there, these few functions made every store
// load all of it (about 225 KB of the dispatcher's and the sweep's cold starts).

/** The parts of the policy that say which escalation policy an incident follows. */
export type PolicyChoice = Partial<Pick<MonitoringConfig, "rules" | "escalationPolicies">>;

/**
 * The escalation policy an incident follows: the one its rule names. Null: it follows the
 * `escalation` block (re-pages to channels), as incidents did before policies existed.
 */
export function policyOf(record: IncidentRecord, config: PolicyChoice): EscalationPolicy | null {
  const rule = config.rules?.find((candidate) => candidate.name === record.incident.rule);
  if (rule?.escalation === undefined) return null;
  return config.escalationPolicies?.[rule.escalation] ?? null;
}

/** Quiet since the last signal's own time or since it arrived, whichever is later. */
/**
 * How long an incident must be quiet to resolve itself: the longest of its firing alerts'
 * sources' `autoResolve`, and never while one of them cannot (an alarm in a grouped incident
 * resolves only on its own OK, whatever the log lines beside it do).
 */
export function autoResolveAfter(
  record: IncidentRecord,
  settings: MonitoringConfig["incidents"]["autoResolve"],
): number | false {
  const firing = record.alerts.filter((alert) => alert.status === "firing");
  const sources =
    firing.length > 0 ? firing.map((alert) => alert.source) : [record.incident.source];
  let longest = 0;
  for (const source of new Set(sources)) {
    const quietFor = source === "cloudwatch" ? false : settings[source];
    if (quietFor === false) return false;
    longest = Math.max(longest, quietFor);
  }
  return longest;
}

export function lastHeardAt(record: IncidentRecord): number {
  return Math.max(
    Date.parse(record.incident.lastSeenAt),
    record.lastReceivedAt ? Date.parse(record.lastReceivedAt) : 0,
  );
}

/** Whether a due `escalation.nextAt` re-pages (only unacknowledged critical ones, while allowed). */
export function mayEscalate(record: IncidentRecord, config: SweepPolicy | undefined): boolean {
  const { incident } = record;
  if (incident.status !== "triggered" || incident.severity !== "critical") return false;
  // Without the policy, any triggered critical incident with a next time may be due.
  if (!config) return true;
  return (
    record.escalation.repeats < config.escalation.maxRepeats &&
    config.escalation.channels.length > 0
  );
}

/** An action due this long ago and still not taken means its stream event was lost. */
const STUCK_MS = 5 * 60_000;

/** When a planned action counts as stuck: past `STUCK_MS` since it was due, and unclaimed. */
function stuckFrom(action: ActionRecord): number {
  const dueAt = Date.parse(action.notBefore ?? action.plannedAt) + STUCK_MS + 1;
  return action.claim ? Math.max(dueAt, Date.parse(action.claim.until)) : dueAt;
}

export const isStuck = (record: IncidentRecord, now: number) =>
  record.actions.some((action) => action.status === "planned" && stuckFrom(action) <= now);

/** The parts of the policy that decide when the sweep has work for an incident. */
/**
 * Since when the incident's earliest planned action has been due (its `notBefore`, or when it was
 * planned), or null when nothing waits: how long its work has waited for the dispatcher.
 */
export const pendingSince = (record: IncidentRecord): string | null =>
  record.actions
    .filter((action) => action.status === "planned")
    .map((action) => action.notBefore ?? action.plannedAt)
    .sort()[0] ?? null;

export type SweepPolicy = Pick<MonitoringConfig, "incidents" | "escalation"> & PolicyChoice;

/**
 * The earliest time (ms) the sweep has something to do for this record: auto-resolve once
 * quiet, the next re-page, nudging a stuck action, or verifying an action that ran (resolved
 * or not: a resolved incident's pending verification is due too, and found effective). The store indexes records by it, so the
 * sweep reads only what is due. Without `config` it errs early (auto-resolve counted from the
 * last signal, every next re-page), so a store built without the policy still misses nothing.
 * A silenced escalation stays due: the silence may end before the incident changes again.
 * @returns null when nothing will ever be due without a change to the record
 *
 * @example
 * nextDueAt(record, config); // Date.parse(record.escalation.nextAt) for a critical one
 */
export function nextDueAt(record: IncidentRecord, config?: SweepPolicy): number | null {
  const { incident } = record;
  const times: number[] = [];
  if (incident.status !== "resolved") {
    const quietFor = config ? autoResolveAfter(record, config.incidents.autoResolve) : 0;
    if (quietFor !== false) times.push(lastHeardAt(record) + quietFor);
    const { nextAt } = record.escalation;
    // A policy's next level or reminder is exactly `nextAt`, whatever the severity or status.
    const byPolicy = !config || policyOf(record, config) !== null;
    if (nextAt !== null && (byPolicy || mayEscalate(record, config)))
      times.push(Date.parse(nextAt));
    // A held incident is looked at again when its hold ends (a window's end, every sweep for
    // an inhibition), so it pages then if it is still open.
    const revisit = holdRevisitAt(record);
    if (revisit !== null) times.push(revisit);
  }
  for (const action of record.actions) {
    if (action.status === "planned") times.push(stuckFrom(action));
  }
  times.push(...verificationsDueAt(record));
  return times.length > 0 ? Math.min(...times) : null;
}

/** The due times of pending verifications (the sweep's due index includes them). */
export function verificationsDueAt(record: IncidentRecord): number[] {
  return record.actions.flatMap((action) =>
    action.verification?.status === "pending" ? [Date.parse(action.verification.dueAt)] : [],
  );
}
