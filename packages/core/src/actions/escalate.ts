import type { CloudWatchReader } from "../cloudwatch/ports";
import type { MonitoringConfig } from "../config/schema";
import { formatDuration } from "../duration";
import { VersionConflictError } from "../errors";
import type { IncidentRecord } from "../incidents/model";
import { saveIncident } from "../incidents/timeline";
import { whoIsOnCall } from "../oncall/overrides";
import { onCallAt } from "../oncall/rotation";
import type { PageDigestsDeps } from "../paging/digest";
import type { Clock, IncidentStore, Logger, OverrideStore } from "../ports";
import { holdRevisitAt } from "../silences/hold";
import { HoldReader } from "../silences/holds";
import type { SilenceStore } from "../silences/record";
import { silenceFor } from "../silences/silence";
import { autoResolveAfter, isStuck, lastHeardAt, mayEscalate, policyOf } from "./due";
import { type EscalationPolicy, personChannel } from "./escalation-policy";
import { escalationStep } from "./escalation-view";
import {
  type OnCallLookup,
  type PlanContext,
  planEscalationStep,
  planPage,
  planResponses,
  recordSkippedPage,
  reviseHold,
} from "./plan";
import type { ChangeLookup } from "./targets";
import { verifyDue } from "./verify";

const iso = (time: number) => new Date(time).toISOString();

/**
 * What the minute-by-minute sweep does to one incident, on a copy: resolve a log or Sentry
 * incident that has gone quiet; under its rule's escalation policy, notify the next level whose
 * time has come (or remind the acknowledger); otherwise re-page an unacknowledged critical one
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

  const quietFor = autoResolveAfter(current, config.incidents.autoResolve);
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
    for (const alert of record.alerts) {
      if (alert.status === "firing") Object.assign(alert, { status: "resolved", resolvedAt: at });
    }
    record.timeline.push({ type: "resolved", at, by: "auto-resolve", reason });
    record.version += 1;
    return planResponses(record, [{ type: "resolved", at, by: "auto-resolve" }], context);
  }

  const revisit = holdRevisitAt(current);
  if (revisit !== null && revisit <= now) {
    const revised = reviseHold(current, context);
    if (revised) return revised;
  }
  const due = current.escalation.nextAt !== null && Date.parse(current.escalation.nextAt) <= now;
  const held =
    context.hold === undefined ? silenceFor(incident, context.silences ?? [], now) : context.hold;
  if (due && held) return null;
  if (!due) return null;
  const policy = policyOf(current, config);
  if (policy) return sweepPolicy(current, policy, context);
  if (!mayEscalate(current, config)) return null;
  const { escalation } = config;
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

/** Who schedules have on call by their rotations alone (no override store to read). */
function rotationsOnly(config: Pick<MonitoringConfig, "schedules">): OnCallLookup {
  return (name, at) => {
    const schedule = config.schedules[name];
    const found = schedule ? onCallAt(schedule, [], at) : null;
    return found ? { person: found.person } : null;
  };
}

/**
 * Who every schedule has on call at `at`, read once (one override query per schedule) for a
 * whole sweep, as a lookup planning can call without waiting.
 */
export async function onCallLookup(
  config: Pick<MonitoringConfig, "schedules">,
  overrides: OverrideStore,
  at: number,
): Promise<OnCallLookup> {
  const found = new Map(
    (await whoIsOnCall(config, overrides, at)).map((entry) => [entry.schedule, entry.person]),
  );
  return (schedule) => {
    const person = found.get(schedule);
    return person ? { person } : null;
  };
}

/**
 * The person an acknowledger is: the `people` entry of that name or with that Slack user id
 * (Slack acknowledges as `slack:<user id>`, the API as `api:<token name>`).
 */
function personNamed(config: MonitoringConfig, acknowledgedBy: string): string | null {
  const who = acknowledgedBy.replace(/^(slack|api):/, "");
  if (Object.hasOwn(config.people, who)) return who;
  const found = Object.entries(config.people).find(([, person]) => person.slack === who);
  return found ? found[0] : null;
}

/** A due policy incident: its next level while triggered, a reminder once acknowledged. */
function sweepPolicy(
  current: IncidentRecord,
  policy: EscalationPolicy,
  context: PlanContext,
): IncidentRecord | null {
  const { incident } = current;
  const dueAt = Date.parse(current.escalation.nextAt ?? "");
  const record = structuredClone(current);
  if (incident.status === "triggered") {
    const { notified, total } = escalationStep(current, policy);
    if (notified >= total) record.escalation.nextAt = null;
    else planEscalationStep(record, policy, context, dueAt);
    record.version += 1;
    return record;
  }
  const remindAfter = policy.reacknowledgeAfter;
  if (incident.status !== "acknowledged" || remindAfter === undefined) {
    record.escalation.nextAt = null;
    record.version += 1;
    return record;
  }
  // Counted from the acknowledgement or the last signal, whichever is later: an incident still
  // being heard from is still moving, a quiet one may have been forgotten.
  const quietSince = Math.max(
    Date.parse(incident.acknowledgedAt ?? incident.firstSeenAt),
    lastHeardAt(current),
  );
  const { now } = context;
  if (quietSince + remindAfter > now) {
    record.escalation.nextAt = iso(quietSince + remindAfter);
    record.version += 1;
    return record;
  }
  const who = incident.acknowledgedBy ?? "";
  const person = personNamed(context.config, who);
  const note = `acknowledged by ${who || "someone"} ${formatDuration(now - Date.parse(incident.acknowledgedAt ?? incident.firstSeenAt))} ago, nothing since for ${formatDuration(now - quietSince)}`;
  if (person === null) {
    recordSkippedPage(
      record,
      "page:acknowledger",
      "escalation",
      `${note}: the acknowledger is not in people, no reminder sent`,
      context,
    );
  } else planPage(record, personChannel(person), "escalation", "escalation", note, context);
  record.escalation.nextAt = iso(now + remindAfter);
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
  /** Overrides of on-call schedules (absent: the schedules' rotations alone say who is on call). */
  overrides?: OverrideStore;
  /** Where the page budget's digests go out, once their minute has turned. */
  digests?: Pick<PageDigestsDeps, "budget" | "delivery">;
  /**
   * Alarm states, to verify remediations of CloudWatch incidents. Absent: such an action is
   * judged by its incident alone (resolved: effective; still open: ineffective).
   */
  cloudwatch?: CloudWatchReader;
  /** The last change to a service, for ladders that roll it back (`target: "last-change"`). */
  changes?: ChangeLookup;
}

export interface SweepReport {
  escalated: string[];
  autoResolved: string[];
  /** Incidents whose due actions sat untouched: re-saved so the stream hands them over again. */
  nudged: string[];
  /** Incidents whose actions' verifications were due and checked (a verdict or a re-check). */
  verified: string[];
  /** How long the longest-waiting due action has waited for the dispatcher (0: none waits). */
  pendingActionsOldestAgeSeconds: number;
}

/**
 * The due part of a sweep (see `sweep` in ./sweep, which imports this module only when
 * `IncidentStore.listDue` names something): reads the silences and who is on call once, then,
 * for each incident, verifies what is due, escalates or auto-resolves (each change a
 * compare-and-set; a lost race is retried next sweep), and nudges it when its actions are stuck,
 * so the dispatcher sees them again. Fills `report` in.
 */
export async function sweepDue(
  options: SweepOptions,
  due: ReadonlyArray<string>,
  report: SweepReport,
): Promise<void> {
  const { store, clock } = options;
  const silences = (await options.silences?.listActive(clock.now())) ?? [];
  // Holds are read once per sweep (each read kept for the whole sweep): one silence and one
  // window query, and one open-incident query per service an inhibit rule asks about.
  const holds = options.silences
    ? new HoldReader({
        store,
        silences: options.silences,
        config: options.config,
        maxAgeMs: Number.POSITIVE_INFINITY,
      })
    : null;
  const onCall = options.overrides
    ? await onCallLookup(options.config, options.overrides, clock.now())
    : rotationsOnly(options.config);
  for (const id of due) {
    let record = await store.get(id);
    if (!record) continue;
    const context = { config: options.config, now: clock.now(), region: options.region };
    try {
      const hold = holds ? await holds.holdFor(record, context.now) : undefined;
      // The verdict and the ladder's next step in one version-checked write: of two sweeps
      // checking at once, one writes and the other's write conflicts, so no step is planned twice.
      const verified = await verifyDue(record, {
        ...context,
        silences,
        onCall,
        hold,
        cloudwatch: options.cloudwatch,
        changes: options.changes,
        logger: options.logger,
      });
      if (verified) {
        record = await saveIncident(store, verified);
        report.verified.push(id);
      }
      const next = sweepIncident(record, { ...context, silences, onCall, hold });
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
}
