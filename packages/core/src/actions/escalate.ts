import type { MonitoringConfig } from "../config/schema";
import { formatDuration } from "../duration";
import { VersionConflictError } from "../errors";
import type { IncidentRecord } from "../incidents/model";
import { type PageDigestsDeps, sendDigests } from "../paging/digest";
import { saveIncident } from "../incidents/timeline";
import type { Clock, IncidentStore, Logger } from "../ports";
import { type SilenceStore, silenceFor } from "../silences/silence";
import type { ActionRecord } from "./model";
import { type PlanContext, planPage, planResponses } from "./plan";

const iso = (time: number) => new Date(time).toISOString();

/**
 * What the minute-by-minute sweep does to one incident, on a copy: resolve a log or Sentry
 * incident that has gone quiet, and re-page an unacknowledged critical one whose time has come
 * (repeat n to `escalation.channels[n]`, the last channel once the list runs out).
 * @returns the changed record, or null when nothing was due
 */
export function sweepIncident(
  current: IncidentRecord,
  context: PlanContext,
): IncidentRecord | null {
  const { config, now } = context;
  const { incident } = current;
  if (incident.status === "resolved") return null;

  const quietFor =
    incident.source === "cloudwatch" ? false : config.incidents.autoResolve[incident.source];
  const lastHeard = lastHeardAt(current);
  if (quietFor !== false && now - lastHeard >= quietFor) {
    const record = structuredClone(current);
    const at = iso(now);
    const reason = `quiet for ${formatDuration(now - lastHeard)} (auto-resolve after ${formatDuration(quietFor)})`;
    Object.assign(record.incident, {
      status: "resolved",
      resolvedAt: at,
      resolvedBy: "auto-resolve",
    });
    record.timeline.push({ type: "resolved", at, by: "auto-resolve", reason });
    record.version += 1;
    return planResponses(record, [{ type: "resolved", at, by: "auto-resolve" }], context);
  }

  const { escalation } = config;
  const due = current.escalation.nextAt !== null && Date.parse(current.escalation.nextAt) <= now;
  if (due && silenceFor(incident, context.silences ?? [], now)) return null;
  if (!due || !mayEscalate(current, config)) return null;
  const record = structuredClone(current);
  const repeat = record.escalation.repeats + 1;
  const channel = escalation.channels[Math.min(repeat, escalation.channels.length - 1)] as string;
  planPage(
    record,
    channel,
    "escalation",
    "escalation",
    `repeat ${repeat} of ${escalation.maxRepeats}: unacknowledged for ${formatDuration(now - Date.parse(incident.firstSeenAt))}`,
    context,
  );
  record.escalation = {
    repeats: repeat,
    nextAt: repeat < escalation.maxRepeats ? iso(now + escalation.repeatAfter) : null,
  };
  record.version += 1;
  return record;
}

/** Quiet since the last signal's own time or since it arrived, whichever is later. */
function lastHeardAt(record: IncidentRecord): number {
  return Math.max(
    Date.parse(record.incident.lastSeenAt),
    record.lastReceivedAt ? Date.parse(record.lastReceivedAt) : 0,
  );
}

/** Whether a due `escalation.nextAt` re-pages (only unacknowledged critical ones, while allowed). */
function mayEscalate(record: IncidentRecord, config: SweepPolicy | undefined): boolean {
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

const isStuck = (record: IncidentRecord, now: number) =>
  record.actions.some((action) => action.status === "planned" && stuckFrom(action) <= now);

/** The parts of the policy that decide when the sweep has work for an incident. */
export type SweepPolicy = Pick<MonitoringConfig, "incidents" | "escalation">;

/**
 * The earliest time (ms) the sweep has something to do for this record: auto-resolve once
 * quiet, the next re-page, or nudging a stuck action. The store indexes records by it, so the
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
    if (incident.source !== "cloudwatch") {
      const quietFor = config ? config.incidents.autoResolve[incident.source] : 0;
      if (quietFor !== false) times.push(lastHeardAt(record) + quietFor);
    }
    const { nextAt } = record.escalation;
    if (nextAt !== null && mayEscalate(record, config)) times.push(Date.parse(nextAt));
  }
  for (const action of record.actions) {
    if (action.status === "planned") times.push(stuckFrom(action));
  }
  return times.length > 0 ? Math.min(...times) : null;
}

export interface SweepOptions {
  store: IncidentStore;
  /** Silenced incidents are not escalated (they still auto-resolve). */
  silences?: SilenceStore;
  config: MonitoringConfig;
  clock: Clock;
  region: string;
  logger?: Logger;
  /** Where the page budget's digests go out, once their minute has turned. */
  digests?: Pick<PageDigestsDeps, "budget" | "pager" | "consoleUrl">;
}

export interface SweepReport {
  escalated: string[];
  autoResolved: string[];
  /** Incidents whose due actions sat untouched: re-saved so the stream hands them over again. */
  nudged: string[];
  /** How long the longest-waiting due action has waited for the dispatcher (0: none waits). */
  pendingActionsOldestAgeSeconds: number;
}

/**
 * The `escalations` function, run every minute (every second locally): reads the incidents with
 * something due (`IncidentStore.listDue`), escalates and auto-resolves (each change a
 * compare-and-set; a lost race is retried next sweep), and nudges incidents with stuck actions
 * so the dispatcher sees them again.
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { store, clock } = options;
  const report: SweepReport = {
    escalated: [],
    autoResolved: [],
    nudged: [],
    pendingActionsOldestAgeSeconds: 0,
  };
  const silences = (await options.silences?.listActive(clock.now())) ?? [];
  for (const id of await store.listDue(clock.now())) {
    let record = await store.get(id);
    if (!record) continue;
    const next = sweepIncident(record, {
      config: options.config,
      now: clock.now(),
      region: options.region,
      silences,
    });
    try {
      if (next) {
        record = await saveIncident(store, next);
        (record.incident.status === "resolved" ? report.autoResolved : report.escalated).push(id);
      }
      // Checked after the change, as a page it just planned is not stuck, but an older one is.
      if (!isStuck(record, clock.now())) continue;
      const touched = structuredClone(record);
      touched.version += 1;
      await saveIncident(store, touched);
      report.nudged.push(id);
    } catch (error) {
      // Someone else wrote it first, which hands it to the dispatcher as well as a nudge would.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  if (options.digests) {
    const { config, logger } = options;
    await sendDigests(
      { ...options.digests, store, channels: config.channels, logger },
      clock.now(),
    );
  }
  // Read after the nudges: what the dispatcher still has not taken (an alarm watches it).
  const since = await store.oldestPendingSince();
  report.pendingActionsOldestAgeSeconds = since
    ? Math.max(0, Math.round((clock.now() - Date.parse(since)) / 1000))
    : 0;
  options.logger?.debug("sweep", { ...report });
  return report;
}
