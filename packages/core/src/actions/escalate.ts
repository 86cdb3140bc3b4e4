import type { MonitoringConfig } from "../config/schema";
import { formatDuration } from "../duration";
import { VersionConflictError } from "../errors";
import type { IncidentRecord } from "../incidents/model";
import type { Clock, IncidentStore, Logger } from "../ports";
import { type SilenceStore, silenceFor } from "../silences/silence";
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
  // Quiet since the last signal's own time or since it arrived, whichever is later.
  const lastHeard = Math.max(
    Date.parse(incident.lastSeenAt),
    current.lastReceivedAt ? Date.parse(current.lastReceivedAt) : 0,
  );
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
  if (
    !due ||
    incident.status !== "triggered" ||
    incident.severity !== "critical" ||
    current.escalation.repeats >= escalation.maxRepeats ||
    escalation.channels.length === 0
  ) {
    return null;
  }
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

export interface SweepOptions {
  store: IncidentStore;
  /** Silenced incidents are not escalated (they still auto-resolve). */
  silences?: SilenceStore;
  config: MonitoringConfig;
  clock: Clock;
  region: string;
  logger?: Logger;
}

export interface SweepReport {
  escalated: string[];
  autoResolved: string[];
  /** Incidents whose due actions sat untouched: re-saved so the stream hands them over again. */
  nudged: string[];
}

/** An action due this long ago and still not taken means its stream event was lost. */
const STUCK_MS = 5 * 60_000;

/**
 * The `escalations` function, run every minute (every second locally): walks the open incidents,
 * escalates and auto-resolves (each change a compare-and-set; a lost race is retried next
 * sweep), and nudges incidents with stuck actions so the dispatcher sees them again.
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { store, clock } = options;
  const report: SweepReport = { escalated: [], autoResolved: [], nudged: [] };
  const silences = (await options.silences?.listActive(clock.now())) ?? [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ status: "open", limit: 200, cursor });
    for (const incident of page.items) {
      // Only critical unacknowledged ones escalate; only logs and Sentry auto-resolve.
      const candidate =
        (incident.status === "triggered" && incident.severity === "critical") ||
        incident.source !== "cloudwatch";
      if (!candidate) continue;
      const record = await store.get(incident.id);
      if (!record) continue;
      const now = clock.now();
      const next = sweepIncident(record, {
        config: options.config,
        now,
        region: options.region,
        silences,
      });
      if (!next) continue;
      try {
        await store.save(next, null);
        (next.incident.status === "resolved" ? report.autoResolved : report.escalated).push(
          incident.id,
        );
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);

  for (const id of await store.listPending()) {
    const record = await store.get(id);
    const now = clock.now();
    const stuck = record?.actions.some(
      (action) =>
        action.status === "planned" &&
        now - Date.parse(action.notBefore ?? action.plannedAt) > STUCK_MS &&
        (!action.claim || Date.parse(action.claim.until) <= now),
    );
    if (!record || !stuck) continue;
    const touched = structuredClone(record);
    touched.version += 1;
    try {
      await store.save(touched, null);
      report.nudged.push(id);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  options.logger?.debug("sweep", { ...report });
  return report;
}
