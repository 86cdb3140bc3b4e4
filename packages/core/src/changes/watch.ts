import type { ActionRecord } from "../actions/model";
import type { ActionSpec } from "../actions/schema";
import type { MonitoringConfig } from "../config/schema";
import type { Incident, IncidentRecord } from "../incidents/model";
import type { IncidentEvent } from "../incidents/reduce";
import { globMatcher } from "../policy/glob";
import type { Change } from "./model";
import type { ChangeStore } from "./store";
import { spanInWords } from "./text";

/**
 * A deploy caught in its bake window: the change, and the alert that fired within `watch.bake`
 * after it. Read ahead of planning (`deployWatchFor`), so planning stays synchronous.
 */
export interface DeployWatch {
  change: Change;
  /** The alarm's name (the alert's title for other sources). */
  alert: string;
  /** When that alert started: the bake window is measured to it. */
  alertStartedAt: string;
  /** The watch's `verifyAfter` (ms) for the rollback, when it sets one. */
  verifyAfter?: number;
}

/** The name deploy-watch actions carry as their `rule` in the ledger and the timeline. */
export const watchRuleName = (service: string) => `watch:${service}`;

type WatchedIncident = Pick<
  Incident,
  "service" | "firstSeenAt" | "severity" | "title" | "attributes"
>;

/**
 * Whether an opening incident is one its service's deploy watch asks about: an alarm named in
 * `watch.alarms` (globs), or, with `alarms` absent, any critical incident of the service.
 * @returns the alert's name, or null
 */
export function watchedAlert(incident: WatchedIncident, config: MonitoringConfig): string | null {
  const watch = incident.service ? config.services[incident.service]?.watch : undefined;
  if (!watch) return null;
  const alarmName = incident.attributes.alarmName;
  if (watch.alarms === undefined)
    return incident.severity === "critical" ? (alarmName ?? incident.title) : null;
  if (alarmName === undefined) return null;
  return watch.alarms.some((glob) => globMatcher(glob)(alarmName)) ? alarmName : null;
}

/**
 * The change an incident catches in a bake window: when it opens, or when an alert joins it,
 * and a firing alert is one its service's watch asks about, the service's newest change at
 * most `watch.bake` before that alert started. Null when nothing opened or joined, the
 * incident is not watched, the watch already acted on it, or no change is that recent. One
 * query, only for watched openings and joins.
 *
 * @example
 * deployWatch: await deployWatchFor(changes, record, events, config),
 */
export async function deployWatchFor(
  store: ChangeStore,
  record: Pick<IncidentRecord, "incident" | "alerts" | "actions">,
  events: ReadonlyArray<IncidentEvent>,
  config: MonitoringConfig,
): Promise<DeployWatch | null> {
  if (!events.some((event) => event.type === "opened" || event.type === "alert-joined")) {
    return null;
  }
  const { incident } = record;
  const service = incident.service ?? null;
  const watch = service === null ? undefined : config.services[service]?.watch;
  if (service === null || watch === undefined) return null;
  const { bake, verifyAfter } = watch;
  if (record.actions.some((action) => action.rule === watchRuleName(service))) return null;
  for (const candidate of record.alerts) {
    if (candidate.status !== "firing") continue;
    const alert = watchedAlert(
      {
        service,
        firstSeenAt: candidate.firstSeen,
        severity: candidate.severity,
        title: candidate.title,
        attributes: candidate.attributes,
      },
      config,
    );
    if (alert === null) continue;
    const { items } = await store.list({
      services: [service],
      since: new Date(Date.parse(candidate.firstSeen) - bake).toISOString(),
      until: candidate.firstSeen,
      limit: 1,
    });
    const change = items[0];
    if (!change) return null;
    return {
      change,
      alert,
      alertStartedAt: candidate.firstSeen,
      ...(verifyAfter === undefined ? {} : { verifyAfter }),
    };
  }
  return null;
}

/** Plans one action the way rule actions are planned (guards, holds, approvals). */
export type PlanOne = (spec: ActionSpec, rule: string, lastChange: Change) => ActionRecord;

/**
 * Plans the rollback of the change a deploy watch caught: `rollback` of `last-change`, the
 * change itself as the last change, behind the same guards as a rule's actions (`plan` applies
 * holds, flapping and approvals; the dispatcher dry runs, cooldowns and the circuit breaker).
 * Once per incident; not when the incident's own rule already rolls that change back.
 */
export function planDeployWatch(
  record: IncidentRecord,
  watch: DeployWatch,
  plan: PlanOne,
): ActionRecord | null {
  const { change, alert } = watch;
  const rule = watchRuleName(change.service);
  const undoes = (action: ActionRecord) =>
    (action.spec as { change?: { id?: unknown } }).change?.id === change.id;
  if (
    record.actions.some(
      (action) => action.rule === rule || (action.type === "rollback" && undoes(action)),
    )
  ) {
    return null;
  }
  const { verifyAfter } = watch;
  const action = plan(
    {
      type: "rollback",
      target: "last-change",
      ...(verifyAfter === undefined ? {} : { verifyAfter }),
    },
    rule,
    change,
  );
  if (action.status === "planned" || action.status === "awaiting-approval") {
    const ago = spanInWords(Date.parse(watch.alertStartedAt) - Date.parse(change.at));
    const why = `rolled back ${change.version} (deployed ${ago} earlier): ${alert} fired in its bake window`;
    action.reason = action.reason ? `${why}; ${action.reason}` : why;
    const entry = record.timeline.findLast(
      (line) => line.type === "action" && line.id === action.id,
    );
    if (entry?.type === "action") entry.reason = action.reason;
  }
  return action;
}
