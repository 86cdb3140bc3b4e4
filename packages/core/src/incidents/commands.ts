import type { ActionRecord } from "../actions/model";
import { type PlanContext, planResponses } from "../actions/plan";
import type { MonitoringConfig } from "../config/schema";
import { ConflictError, InvalidInputError, NotFoundError, VersionConflictError } from "../errors";
import type { Clock, IncidentStore } from "../ports";
import { maxSeverity, type Severity, severityRank } from "../severity";
import { isSlackResponseUrl } from "../slack/response-url";
import { acknowledge, addNote, type HumanChange, resolveByPerson } from "./human";
import { incidentId } from "./ids";
import type { Alert, DedupMarks, Incident, IncidentRecord } from "./model";
import { alertEntry, type IncidentEvent } from "./reduce";
import { saveIncident } from "./timeline";

export interface CommandResult {
  /** False when the command changed nothing (already acknowledged...); `message` says why. */
  changed: boolean;
  message: string;
  incident: Incident;
  record: IncidentRecord;
}

export interface IncidentCommandsOptions {
  store: IncidentStore;
  config: MonitoringConfig;
  clock: Clock;
  /** Default region of remediation targets. */
  region: string;
}

const MAX_ATTEMPTS = 10;

/** What a person may change on an incident with `PATCH /incidents/{id}`. */
export interface IncidentEdit {
  severity?: Severity;
  title?: string;
  reason?: string | null;
}

const isOpen = (record: IncidentRecord) => record.incident.status !== "resolved";

/**
 * What people do to incidents (from Slack, the API, the console), each as one compare-and-set
 * with its consequences planned in the same write: acknowledging stops escalation and
 * acknowledges PagerDuty, resolving sends resolve notices, approving releases a waiting action.
 * Every change names who made it.
 */
export class IncidentCommands {
  constructor(private readonly options: IncidentCommandsOptions) {}

  acknowledge(id: string, by: string): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const change = acknowledge(record, by, at);
      return {
        change,
        events: [{ type: "acknowledged", at, by }],
        done: `${id} acknowledged by ${by}`,
      };
    });
  }

  resolve(id: string, by: string, note: string | null): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const change = resolveByPerson(record, by, at, note);
      return { change, events: [{ type: "resolved", at, by }], done: `${id} resolved by ${by}` };
    });
  }

  note(id: string, by: string, text: string): Promise<CommandResult> {
    return this.change(id, (record, at) => ({
      change: addNote(record, by, at, text),
      events: [],
      done: `note added to ${id}`,
    }));
  }

  /**
   * Releases an action waiting for approval: it becomes `planned` and the dispatcher runs it
   * (guards still apply). Approving anything else says why not and changes nothing.
   */
  async approve(
    id: string,
    actionId: string,
    by: string,
    followUp?: { responseUrl: string },
  ): Promise<CommandResult> {
    if (followUp && !isSlackResponseUrl(followUp.responseUrl)) {
      throw new InvalidInputError("a response_url must be https://hooks.slack.com/...");
    }
    return this.change(id, (record, at) => {
      const action = record.actions.find((candidate) => candidate.id === actionId);
      if (!action) {
        const waiting = record.actions.filter(
          (candidate) => candidate.status === "awaiting-approval",
        );
        throw new NotFoundError(
          `${id} has no action ${actionId}${waiting.length ? ` (waiting: ${waiting.map((w) => w.id).join(", ")})` : ""}`,
        );
      }
      if (action.status !== "awaiting-approval") {
        return {
          change: {
            changed: false,
            record,
            reason: `${id}/${actionId} is ${action.status}, not waiting for approval`,
          },
          events: [],
          done: "",
        };
      }
      if (record.incident.status === "resolved") {
        throw new ConflictError(`${id} is resolved: ${actionId} can no longer run`);
      }
      const next = structuredClone(record);
      const mine = next.actions.find((candidate) => candidate.id === actionId) as ActionRecord;
      Object.assign(mine, {
        status: "planned",
        approvedBy: by,
        at,
        reason: `approved by ${by}`,
        followUp: followUp ?? null,
      });
      next.timeline.push({
        type: "action",
        at,
        id: mine.id,
        action: mine.type,
        target: mine.targetKey,
        status: "planned",
        reason: `approved by ${by}`,
        by,
      });
      next.version += 1;
      return {
        change: { changed: true, record: next },
        events: [],
        done: `${id}/${actionId} approved by ${by}`,
      };
    });
  }

  /**
   * Sets the severity or the title by hand, with who and why in the timeline. A severity set by
   * a person sticks: signals no longer raise or lower it until a person sets it again.
   */
  async edit(id: string, by: string, edit: IncidentEdit): Promise<CommandResult> {
    if (edit.severity === undefined && edit.title === undefined) {
      throw new InvalidInputError("give severity or title (or both)");
    }
    return this.change(id, (record, at) => {
      const { incident } = record;
      const next = structuredClone(record);
      const reason = edit.reason ?? null;
      const changed: string[] = [];
      if (
        edit.severity !== undefined &&
        (edit.severity !== incident.severity || !record.severitySetBy)
      ) {
        next.timeline.push({
          type: "edited",
          at,
          by,
          field: "severity",
          from: incident.severity,
          to: edit.severity,
          reason,
        });
        next.incident.severity = edit.severity;
        next.severitySetBy = by;
        changed.push(`severity ${edit.severity}`);
      }
      if (edit.title !== undefined && edit.title !== incident.title) {
        next.timeline.push({
          type: "edited",
          at,
          by,
          field: "title",
          from: incident.title,
          to: edit.title,
          reason,
        });
        next.incident.title = edit.title;
        changed.push("title");
      }
      if (changed.length === 0) {
        return {
          change: { changed: false, record, reason: `${id} already has that severity and title` },
          events: [],
          done: "",
        };
      }
      next.version += 1;
      return {
        change: { changed: true, record: next },
        events: [],
        done: `${id}: ${changed.join(" and ")} set by ${by}`,
      };
    });
  }

  /**
   * Merges incident `id` into `into`: `into` takes its alerts (with their counts), `id` is
   * resolved with `mergedInto`, and later signals of those alerts follow to `into`. Two
   * conditional writes, target first: a merge stopped between them is finished by running it
   * again (alerts the target already holds are not added twice).
   */
  async merge(id: string, into: string, by: string): Promise<CommandResult> {
    if (id === into) throw new ConflictError(`${id} cannot be merged into itself`);
    const { store } = this.options;
    for (let attempt = 1; ; attempt++) {
      const [source, target] = await Promise.all([store.get(id), store.get(into)]);
      if (!source) throw new NotFoundError(`no incident ${id}`);
      if (!target) throw new NotFoundError(`no incident ${into}`);
      if (source.incident.mergedInto === into) {
        return {
          changed: false,
          message: `${id} was already merged into ${into}`,
          incident: source.incident,
          record: source,
        };
      }
      if (!isOpen(target))
        throw new ConflictError(`${into} is resolved: merge into an open incident`);
      if (target.incident.mergedInto !== null)
        throw new ConflictError(`${into} was merged into ${target.incident.mergedInto}`);
      if (!isOpen(source)) throw new ConflictError(`${id} is resolved: nothing to merge`);
      const now = this.options.clock.now();
      const at = new Date(now).toISOString();
      try {
        const joined = this.takeAlerts(target, source, by, at);
        if (joined) await this.save(joined.record, joined.events, now);
        const next = structuredClone(source);
        Object.assign(next.incident, {
          status: "resolved",
          resolvedAt: at,
          resolvedBy: by,
          mergedInto: into,
        });
        next.timeline.push({ type: "resolved", at, by, reason: `merged into ${into}` });
        next.version += 1;
        const saved = await this.save(next, [{ type: "resolved", at, by }], now);
        return {
          changed: true,
          message: `${id} merged into ${into} by ${by}`,
          incident: saved.incident,
          record: saved,
        };
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Takes alert `alertId` out of incident `id` into an incident of its own, keyed by its
   * fingerprint: later signals of that fingerprint go there. The new incident is written first,
   * then the pointer, then the old incident: a split stopped part way is finished by running it
   * again. The new incident starts without automatic responses: a person just made it.
   */
  async split(id: string, alertId: string, by: string): Promise<CommandResult> {
    const { store } = this.options;
    for (let attempt = 1; ; attempt++) {
      const source = await store.get(id);
      if (!source) throw new NotFoundError(`no incident ${id}`);
      const alert = source.alerts.find((candidate) => candidate.id === alertId);
      if (!alert) {
        const ids = source.alerts.map((candidate) => candidate.id).join(", ");
        throw new NotFoundError(`${id} has no alert ${alertId} (alerts: ${ids})`);
      }
      if (!isOpen(source)) throw new ConflictError(`${id} is resolved: nothing to split`);
      if (source.alerts.length === 1)
        throw new ConflictError(`${alertId} is the only alert of ${id}`);
      if (alert.fingerprint === source.incident.fingerprint) {
        throw new ConflictError(
          `${id} is keyed by ${alertId}'s fingerprint: split the other alerts off instead`,
        );
      }
      const now = this.options.clock.now();
      const at = new Date(now).toISOString();
      try {
        const pointer = await store.getFingerprint(alert.fingerprint);
        const existing = pointer.record;
        let ownId: string;
        if (
          existing &&
          isOpen(existing) &&
          existing.incident.id !== id &&
          existing.alerts.some((a) => a.fingerprint === alert.fingerprint)
        ) {
          ownId = existing.incident.id;
        } else {
          const own = splitRecord(source, alert, (existing?.incident.sequence ?? 0) + 1, by, at);
          await saveIncident(store, own);
          await store.setCurrent(alert.fingerprint, own.incident.id, own.incident.sequence);
          ownId = own.incident.id;
        }
        const next = structuredClone(source);
        next.alerts = next.alerts.filter((candidate) => candidate.id !== alertId);
        next.timeline.push(alertEntry(alert, "split", at, `split off into ${ownId}`, by));
        const events: IncidentEvent[] = [];
        if (next.alerts.every((candidate) => candidate.status === "resolved")) {
          Object.assign(next.incident, { status: "resolved", resolvedAt: at, resolvedBy: by });
          next.timeline.push({
            type: "resolved",
            at,
            by,
            reason: `its last firing alert was split off into ${ownId}`,
          });
          events.push({ type: "resolved", at, by });
        }
        next.version += 1;
        const saved = await this.save(next, events, now);
        return {
          changed: true,
          message: `${id}/${alertId} split off into ${ownId} by ${by}`,
          incident: saved.incident,
          record: saved,
        };
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** The target with the source's alerts it does not hold yet, or null when it holds them all. */
  private takeAlerts(
    target: IncidentRecord,
    source: IncidentRecord,
    by: string,
    at: string,
  ): { record: IncidentRecord; events: IncidentEvent[] } | null {
    const held = new Set(target.alerts.map((alert) => alert.fingerprint));
    const moving = source.alerts.filter((alert) => !held.has(alert.fingerprint));
    if (moving.length === 0) return null;
    const next = structuredClone(target);
    const events: IncidentEvent[] = [];
    let highest = Math.max(...next.alerts.map((alert) => Number(alert.id.slice(2))));
    for (const alert of moving) {
      highest += 1;
      const moved: Alert = { ...structuredClone(alert), id: `al${highest}` };
      next.alerts.push(moved);
      next.incident.count += moved.count;
      if (moved.lastSeen > next.incident.lastSeenAt) next.incident.lastSeenAt = moved.lastSeen;
      next.timeline.push(alertEntry(moved, "merged", at, `from ${source.incident.id}`, by));
      const raises =
        moved.status === "firing" &&
        next.severitySetBy === null &&
        severityRank(moved.severity) > severityRank(next.incident.severity);
      if (raises) {
        const from = next.incident.severity;
        next.incident.severity = maxSeverity(from, moved.severity);
        next.incident.rule = moved.rule;
        next.timeline.push({ type: "severity", at, from, to: moved.severity, rule: moved.rule });
        events.push({ type: "severity-raised", at, from, to: moved.severity, joined: true });
      }
    }
    // The source's delivery marks come along: a redelivery of a signal the source already
    // counted, routed here by `mergedInto`, stays a duplicate.
    next.seen = mergedMarks(next.seen, source.seen);
    const archivedUntil = [next.marksArchivedUntil, source.marksArchivedUntil].filter(
      (until): until is string => until !== null,
    );
    next.marksArchivedUntil = archivedUntil.sort().at(-1) ?? null;
    next.version += 1;
    return { record: next, events };
  }

  /** Plans the consequences of `events` into the record and saves it, version-checked. */
  private async save(
    record: IncidentRecord,
    events: IncidentEvent[],
    now: number,
  ): Promise<IncidentRecord> {
    const context: PlanContext = { config: this.options.config, now, region: this.options.region };
    return saveIncident(this.options.store, planResponses(record, events, context));
  }

  /** Records that someone who may only look tried to change the incident. */
  refuse(id: string, by: string, attempted: string): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const next = structuredClone(record);
      next.timeline.push({ type: "refused", at, by, attempted });
      next.version += 1;
      return {
        change: { changed: true, record: next },
        events: [],
        done: `${by} may not ${attempted}`,
      };
    });
  }

  private async change(
    id: string,
    apply: (
      record: IncidentRecord,
      at: string,
    ) => { change: HumanChange; events: IncidentEvent[]; done: string },
  ): Promise<CommandResult> {
    const { store } = this.options;
    for (let attempt = 1; ; attempt++) {
      const record = await store.get(id);
      if (!record) throw new NotFoundError(`no incident ${id}`);
      const now = this.options.clock.now();
      const { change, events, done } = apply(record, new Date(now).toISOString());
      if (!change.changed) {
        return { changed: false, message: change.reason, incident: record.incident, record };
      }
      const context: PlanContext = {
        config: this.options.config,
        now,
        region: this.options.region,
      };
      const next = planResponses(change.record, events, context);
      try {
        const saved = await saveIncident(store, next);
        return { changed: true, message: done, incident: saved.incident, record: saved };
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

/** A new incident holding one alert split off `source`, keyed by the alert's fingerprint. */
function splitRecord(
  source: IncidentRecord,
  alert: Alert,
  sequence: number,
  by: string,
  at: string,
): IncidentRecord {
  const own: Alert = { ...structuredClone(alert), id: "al1" };
  return {
    incident: {
      ...structuredClone(source.incident),
      id: incidentId(alert.fingerprint, sequence),
      fingerprint: alert.fingerprint,
      title: alert.title,
      source: alert.source,
      severity: alert.severity,
      rule: alert.rule,
      status: "triggered",
      count: alert.count,
      firstSeenAt: alert.firstSeen,
      lastSeenAt: alert.lastSeen,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      sequence,
      link: alert.link,
      attributes: alert.attributes,
      mergedInto: null,
    },
    alerts: [own],
    severitySetBy: null,
    recoveredBefore: {},
    version: 1,
    timeline: [
      {
        type: "opened",
        at,
        severity: alert.severity,
        rule: alert.rule,
        title: alert.title,
        detail: `split off ${source.incident.id} by ${by}`,
        flapping: false,
      },
      alertEntry(own, "split", at, `from ${source.incident.id}`, by),
    ],
    timelinePages: 0,
    signalEntries: 0,
    lastSignalEntryAt: null,
    lastTriggerAt: alert.lastTriggerAt,
    lastReceivedAt: at,
    seen: [],
    marksArchivedUntil: null,
    opens: [alert.firstSeen],
    actions: [],
    escalation: { repeats: 0, nextAt: null },
  };
}

/** Two incidents' delivery marks as one: each generation's marks, once each. */
function mergedMarks(a: DedupMarks, b: DedupMarks): DedupMarks {
  const byGeneration = new Map<number, Set<string>>();
  for (const { generation, ids } of [...a, ...b]) {
    const marks = byGeneration.get(generation) ?? new Set<string>();
    for (const id of ids) marks.add(id);
    byGeneration.set(generation, marks);
  }
  return [...byGeneration]
    .sort(([x], [y]) => x - y)
    .map(([generation, ids]) => ({ generation, ids: [...ids] }));
}
