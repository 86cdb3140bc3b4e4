import type { MonitoringConfig } from "../config/schema";
import { maxSeverity, type Severity, severityRank } from "../severity";
import type { Signal } from "../signal";
import { deliveryMark, incidentId } from "./ids";
import type { Alert, DedupMarks, IncidentRecord, TimelineEntry } from "./model";

/** A signal after classification: the severity and rule the policy gave it. */
export interface ClassifiedSignal extends Signal {
  severity: Severity;
  rule: string | null;
  /** The service the policy assigns it to (`Policy.serviceOf`); absent or null: none. */
  service?: string | null;
  /** That service's runbook, if it has one. */
  runbook?: string | null;
}

export type IncidentSettings = MonitoringConfig["incidents"];

/** What happened to an incident in one reduction; the response planner acts on these. */
export type IncidentEvent =
  | { type: "opened"; at: string }
  | { type: "retriggered"; at: string; count: number }
  | {
      type: "severity-raised";
      at: string;
      from: Severity;
      to: Severity;
      /** Raised by an alert joining the incident: channels already paged are not paged again. */
      joined?: boolean;
    }
  | { type: "resolved"; at: string; by: string }
  | { type: "acknowledged"; at: string; by: string }
  /** A new alert (fingerprint) joined the open incident: deploy watching looks at it. */
  | { type: "alert-joined"; at: string; alert: string };

/**
 * `stale-trigger`: a trigger older than a recovery already seen while nothing was open (it
 * arrived late); opening an incident for it would leave one that nothing resolves.
 */
export type SignalOutcome = "applied" | "duplicate" | "ignored" | "stale-trigger";

/** A delivery mark moved out of the incident item to make room, kept until `until` (ms). */
export interface ArchivedMark {
  mark: string;
  until: number;
}

/** What is remembered of a fingerprint outside its incident record. */
export interface FingerprintMemory {
  /** The newest recovery that arrived while nothing was open, if one is remembered. */
  recoveredAt: string | null;
  /**
   * The same per fingerprint, for a key that groups several (a service): a fingerprint in the
   * map uses its entry, never `recoveredAt`, so one alarm's recovery cannot make another stale.
   */
  recoveries?: ReadonlyMap<string, string | null>;
  /** Which of the signals' delivery marks are archived (seen before, moved out of the item). */
  archived: ReadonlySet<string>;
}

const NOTHING_REMEMBERED: FingerprintMemory = { recoveredAt: null, archived: new Set() };

export interface Reduction {
  /** The state to write, or null when nothing changed (duplicates, stray recoveries). */
  record: IncidentRecord | null;
  /** True when `record` is a new incident (create it, then point the fingerprint at it). */
  created: boolean;
  /** Outcome per consumed signal, in input order of consumption. */
  outcomes: Array<{ signal: ClassifiedSignal; outcome: SignalOutcome }>;
  /**
   * Signals left for the next reduction: they belong to an incident opened after this one, or
   * this one already holds as many new delivery marks as one write may add.
   */
  rest: ClassifiedSignal[];
  events: IncidentEvent[];
  /** Marks to archive before `record` is written (they leave the item with it). */
  archive: ArchivedMark[];
  /** Recoveries to remember, by fingerprint (nothing was open for them). */
  recovered: Map<string, string>;
  /**
   * Signals that belong to no incident of this key: a new alert outside the group window, or an
   * alert merged in whose incident no longer holds it open. They go to their own fingerprint.
   */
  detached: ClassifiedSignal[];
}

/**
 * How the reducer keys incidents: `key` is the correlation key (`service:<name>` or a
 * fingerprint); with `groupWindow`, alerts of other fingerprints may join an open incident that
 * started within that window of them (a service key), else only the key's own fingerprint and
 * alerts merged in by people belong here.
 */
export interface Correlation {
  key: string;
  groupWindow: number | null;
}

/** The correlation key of a signal: its service when the service groups, else its fingerprint. */
export function correlationKey(signal: ClassifiedSignal, config: MonitoringConfig): string {
  const service = signal.service ? config.services[signal.service] : undefined;
  return service && service.group !== false ? `service:${signal.service}` : signal.fingerprint;
}

/**
 * Most marks kept in the item per generation: a storm on one fingerprint must not outgrow the
 * item (400 KB). Older marks are archived (`Reduction.archive`), never forgotten early.
 */
export const MAX_MARKS_PER_GENERATION = 2000;
/** After this many signal entries the timeline only samples (see `shouldSampleSignals`). */
const SAMPLE_INTERVAL_MS = 15 * 60_000;

const ms = (iso: string) => Date.parse(iso);
const iso = (time: number) => new Date(time).toISOString();

/** Signals in time order at whole seconds; within a second, in the order they arrived (stable). */
function inTimeOrder<T extends Signal>(signals: ReadonlyArray<T>): T[] {
  // Each time parsed once, not twice per comparison.
  const keyed = signals.map((signal) => ({ signal, second: Math.floor(ms(signal.at) / 1000) }));
  keyed.sort((a, b) => a.second - b.second);
  return keyed.map(({ signal }) => signal);
}

/**
 * Whether a recovery is older than the trigger it would end, compared at whole seconds: sources
 * time their signals at different precisions (a Sentry `issue.resolved` by its hook's whole
 * seconds, the error before it to the millisecond), so within one second the order they arrived
 * in decides, and a recovery that arrived later is not taken as older.
 */
const olderAtCoarsestPrecision = (recovery: string, trigger: string) =>
  Math.floor(ms(recovery) / 1000) < Math.floor(ms(trigger) / 1000);

/**
 * Folds a group of signals with one correlation key into its current incident, each signal
 * into its fingerprint's alert. Pure: the caller loads `current`, writes `record` with a version
 * check, calls again with `rest`, and sends `detached` to their own fingerprints.
 *
 * - a trigger on an open incident counts (`count`, `lastSeenAt`) and may raise the severity;
 *   a new fingerprint of a service joins as a new alert when the incident started within the
 *   group window, else it is detached (it opens an incident of its own);
 * - a recovery resolves its alert, unless it is older than that alert's last trigger (out of
 *   order: ignored); the incident resolves with its last firing alert;
 * - a trigger after resolution opens the next incident (the sequence grows), except a late
 *   trigger timed before the resolution, which is only counted;
 * - a recovery with nothing open is remembered (`recovered`) for `trustedTime.past`, and a
 *   trigger that arrives after it but is older does not open an incident (`stale-trigger`);
 * - a delivery id already seen for the fingerprint (inline or archived) changes nothing.
 */
export function reduce(
  current: IncidentRecord | null,
  signals: ClassifiedSignal[],
  settings: IncidentSettings,
  now: number,
  memory: FingerprintMemory = NOTHING_REMEMBERED,
  correlation: Correlation | null = null,
): Reduction {
  const sorted = inTimeOrder(signals);
  const outcomes: Reduction["outcomes"] = [];
  const events: IncidentEvent[] = [];
  const archive: ArchivedMark[] = [];
  const detached: ClassifiedSignal[] = [];
  /** Fingerprints sent elsewhere in this reduction: their later signals follow. */
  const detachedFingerprints = new Set<string>();
  let target: IncidentRecord | null = current;
  let created = false;
  let changed = false;
  let pending: PendingSignals | null = null;
  let retriggered: { at: string; count: number } | null = null;
  const trusted = (at: string | null | undefined) =>
    at != null && ms(at) >= now - settings.trustedTime.past ? at : null;
  // Past the trusted window a late trigger is ordered by its arrival anyway: nothing to compare.
  const remembered = (fingerprint: string) =>
    trusted(
      memory.recoveries?.has(fingerprint)
        ? memory.recoveries.get(fingerprint)
        : correlation?.groupWindow == null
          ? memory.recoveredAt
          : null,
    );
  const recovered = new Map<string, string>();
  // Triggers older than a remembered recovery: how many, the newest of them and its recovery.
  let staleCount = 0;
  let staleAt: string | null = null;
  let staleRecovery: string | null = null;
  // Marks added by this reduction: at most a generation's worth, so only marks already written
  // (in `current`) are ever evicted to the archive.
  let fresh = 0;
  const newestRecovery = (fingerprint: string) =>
    recovered.get(fingerprint) ??
    newest(remembered(fingerprint), trusted(target?.recoveredBefore[fingerprint]));
  // Archived before this reduction, or evicted by it (written, then moved out of the item).
  const archivedNow = new Set<string>();
  let archivedRead = 0;
  const archived = (deliveryId: string) => {
    for (; archivedRead < archive.length; archivedRead++) {
      archivedNow.add((archive[archivedRead] as ArchivedMark).mark);
    }
    const mark = markOf(deliveryId);
    return memory.archived.has(mark) || archivedNow.has(mark);
  };
  // Only a grouping key takes alerts of other fingerprints; any other key only its own and
  // those people merged in, while its incident is open.
  const home = (fingerprint: string) =>
    correlation === null || correlation.groupWindow !== null || fingerprint === correlation.key;

  /** Copy on first write, so the caller's `current` is never mutated. */
  const edit = (): IncidentRecord => {
    if (!target) throw new Error("no incident to edit");
    if (!changed && !created) target = copyRecord(target);
    changed = true;
    return target;
  };
  const flush = () => {
    if (pending && target) appendSignalEntry(target, pending, settings);
    pending = null;
  };
  const alertOf = (fingerprint: string) =>
    target?.alerts.find((alert) => alert.fingerprint === fingerprint);
  const detach = (signal: ClassifiedSignal) => {
    detachedFingerprints.add(signal.fingerprint);
    detached.push(signal);
  };

  for (let index = 0; index < sorted.length; index++) {
    const signal = sorted[index] as ClassifiedSignal;
    if (detachedFingerprints.has(signal.fingerprint)) {
      detached.push(signal);
      continue;
    }
    if ((target && hasSeen(target.seen, signal.deliveryId)) || archived(signal.deliveryId)) {
      outcomes.push({ signal, outcome: "duplicate" });
      continue;
    }
    if (fresh >= MAX_MARKS_PER_GENERATION && (changed || created)) {
      flush();
      return finish(sorted.slice(index));
    }
    const open = target !== null && target.incident.status !== "resolved";
    const held = alertOf(signal.fingerprint);
    if (!home(signal.fingerprint) && (!open || !held)) {
      detach(signal);
      continue;
    }

    if (signal.kind === "recovery") {
      if (!open || !held || (held.status === "resolved" && !isNewer(signal.at, held.resolvedAt))) {
        // Nothing open to recover. Remembered (newest only) so that an older trigger arriving
        // after it opens nothing; replaying it later is just as harmless, so no mark.
        const known = [newestRecovery(signal.fingerprint), held?.resolvedAt ?? null];
        if (
          ms(signal.at) >= now - settings.trustedTime.past &&
          known.every((at) => isNewer(signal.at, at))
        ) {
          recovered.set(signal.fingerprint, signal.at);
        }
        outcomes.push({ signal, outcome: "ignored" });
        continue;
      }
      flush();
      const record = edit();
      const alert = alertOf(signal.fingerprint) as Alert;
      markSeen(record, signal.deliveryId, settings, now, archive);
      fresh += 1;
      if (alert.status === "resolved") {
        // An alert of an open incident recovered again: a trigger before this is late.
        alert.resolvedAt = signal.at;
        outcomes.push({ signal, outcome: "ignored" });
        continue;
      }
      if (olderAtCoarsestPrecision(signal.at, alert.lastTriggerAt)) {
        record.timeline.push({
          type: "stale-recovery",
          at: iso(now),
          signalAt: signal.at,
          reason: `${describe(signal)} is older than the last trigger; the incident stays open`,
        });
        outcomes.push({ signal, outcome: "applied" });
        continue;
      }
      Object.assign(alert, { status: "resolved", resolvedAt: signal.at });
      if (record.alerts.every((candidate) => candidate.status === "resolved")) {
        const by = `recovery:${signal.source}`;
        Object.assign(record.incident, {
          status: "resolved",
          resolvedAt: signal.at,
          resolvedBy: by,
        });
        record.timeline.push({
          type: "resolved",
          at: signal.at,
          by,
          reason: signal.detail ?? describe(signal),
        });
        events.push({ type: "resolved", at: signal.at, by });
      } else {
        record.timeline.push(alertEntry(alert, "resolved", signal.at, signal.detail));
        lowerSeverity(record, signal.at);
      }
      outcomes.push({ signal, outcome: "applied" });
      continue;
    }

    const recoveredAt = newestRecovery(signal.fingerprint);
    // Late: timed before its own alert's resolution (an incident resolves with its alerts; a
    // trigger after its alert recovered is news even when another alert resolved the incident).
    const late =
      held !== undefined && held.resolvedAt !== null && ms(signal.at) <= ms(held.resolvedAt);
    // Older than a recovery of its own fingerprint that nothing held: opens or joins nothing.
    const stale = recoveredAt !== null && olderAtCoarsestPrecision(signal.at, recoveredAt);
    if (stale && (open ? !held : !late)) {
      if (target) {
        flush();
        markSeen(edit(), signal.deliveryId, settings, now, archive);
        fresh += 1;
      }
      staleCount += 1;
      if (staleAt === null || ms(signal.at) > ms(staleAt)) {
        staleAt = signal.at;
        staleRecovery = recoveredAt;
      }
      outcomes.push({ signal, outcome: "stale-trigger" });
      continue;
    }

    if (!target) {
      target = openIncident(null, signal, settings, now, archive, correlation?.key);
      fresh += 1;
      created = true;
      events.push({ type: "opened", at: signal.at });
      outcomes.push({ signal, outcome: "applied" });
      continue;
    }

    if (!open && !late) {
      if (changed || created) {
        flush();
        return finish(sorted.slice(index));
      }
      target = openIncident(target, signal, settings, now, archive, correlation?.key);
      fresh += 1;
      created = true;
      events.push({ type: "opened", at: signal.at });
      outcomes.push({ signal, outcome: "applied" });
      continue;
    }

    if (!held) {
      // A new alert of the service: it joins only an incident that started within the window.
      const window = correlation?.groupWindow ?? 0;
      if (ms(signal.at) - ms(target.incident.firstSeenAt) > window) {
        detach(signal);
        continue;
      }
      flush();
      const record = edit();
      markSeen(record, signal.deliveryId, settings, now, archive);
      fresh += 1;
      const alert = newAlert(record, signal);
      record.alerts.push(alert);
      countTrigger(record, signal, now);
      record.timeline.push(alertEntry(alert, "joined", signal.at, signal.detail));
      events.push({ type: "alert-joined", at: signal.at, alert: alert.id });
      raiseSeverity(record, signal, events, true);
      outcomes.push({ signal, outcome: "applied" });
      continue;
    }

    const record = edit();
    const alert = alertOf(signal.fingerprint) as Alert;
    markSeen(record, signal.deliveryId, settings, now, archive);
    fresh += 1;
    countTrigger(record, signal, now);
    alert.count += 1;
    if (ms(signal.at) > ms(alert.lastSeen)) alert.lastSeen = signal.at;
    if (ms(signal.at) > ms(alert.lastTriggerAt)) alert.lastTriggerAt = signal.at;
    if (severityRank(signal.severity) > severityRank(alert.severity)) {
      alert.severity = signal.severity;
      alert.rule = signal.rule;
      if (record.alerts.length > 1) {
        flush();
        record.timeline.push(alertEntry(alert, "severity", signal.at, signal.detail));
      }
    }
    // An alert that recovered fires again on a trigger after its recovery (not a late one).
    if (alert.status === "resolved" && open && isNewer(signal.at, alert.resolvedAt)) {
      alert.status = "firing";
      flush();
      record.timeline.push(alertEntry(alert, "fired", signal.at, signal.detail));
    }
    if (raiseSeverity(record, signal, events, false)) flush();
    pending = addPending(pending, signal, late);
    if (!late) retriggered = { at: signal.at, count: record.incident.count };
    outcomes.push({ signal, outcome: "applied" });
  }
  flush();
  return finish([]);

  function finish(rest: ClassifiedSignal[]): Reduction {
    if (retriggered) events.push({ type: "retriggered", ...retriggered });
    if (staleAt !== null && target && changed) {
      const triggers = staleCount === 1 ? "a trigger" : `${staleCount} triggers`;
      target.timeline.push({
        type: "stale-trigger",
        at: iso(now),
        signalAt: staleAt,
        count: staleCount,
        reason: `${triggers} older than the recovery at ${staleRecovery} arrived after it; no incident opened`,
      });
    }
    if (target && (changed || created)) target.version = created ? 1 : target.version + 1;
    return {
      record: changed || created ? target : null,
      created,
      outcomes,
      rest,
      events,
      archive,
      recovered,
      detached,
    };
  }
}

const newest = (a: string | null, b: string | null) =>
  a === null ? b : b === null || ms(a) >= ms(b) ? a : b;

/** Whether `at` is after `than` (null: nothing to be after). */
const isNewer = (at: string, than: string | null) => than === null || ms(at) > ms(than);

function countTrigger(record: IncidentRecord, signal: ClassifiedSignal, now: number): void {
  record.incident.count += 1;
  if (ms(signal.at) > ms(record.incident.lastSeenAt)) record.incident.lastSeenAt = signal.at;
  if (ms(signal.at) > ms(record.lastTriggerAt)) record.lastTriggerAt = signal.at;
  record.lastReceivedAt = iso(now);
}

/**
 * Raises the incident to a trigger's severity when it is higher (and no person set it).
 * @returns whether it was raised.
 */
function raiseSeverity(
  record: IncidentRecord,
  signal: ClassifiedSignal,
  events: IncidentEvent[],
  joined: boolean,
): boolean {
  if (record.severitySetBy !== null) return false;
  if (severityRank(signal.severity) <= severityRank(record.incident.severity)) return false;
  const from = record.incident.severity;
  record.incident.severity = maxSeverity(from, signal.severity);
  record.incident.rule = signal.rule;
  record.timeline.push({
    type: "severity",
    at: signal.at,
    from,
    to: signal.severity,
    rule: signal.rule,
  });
  events.push({
    type: "severity-raised",
    at: signal.at,
    from,
    to: signal.severity,
    ...(joined ? { joined } : {}),
  });
  return true;
}

/** After an alert resolves, the incident is as severe as its firing alerts (unless a person set it). */
function lowerSeverity(record: IncidentRecord, at: string): void {
  if (record.severitySetBy !== null) return;
  const firing = record.alerts.filter((alert) => alert.status === "firing");
  const highest = firing.reduce<Alert | null>(
    (best, alert) =>
      best === null || severityRank(alert.severity) > severityRank(best.severity) ? alert : best,
    null,
  );
  if (!highest || severityRank(highest.severity) >= severityRank(record.incident.severity)) return;
  const from = record.incident.severity;
  Object.assign(record.incident, { severity: highest.severity, rule: highest.rule });
  record.timeline.push({ type: "severity", at, from, to: highest.severity, rule: highest.rule });
}

/** The next alert of an incident, from the signal that starts it. */
export function newAlert(record: IncidentRecord | null, signal: ClassifiedSignal): Alert {
  const highest = Math.max(0, ...(record?.alerts ?? []).map((alert) => Number(alert.id.slice(2))));
  return {
    id: `al${highest + 1}`,
    fingerprint: signal.fingerprint,
    source: signal.source,
    title: signal.title,
    description: signal.attributes.description ?? null,
    severity: signal.severity,
    rule: signal.rule,
    status: "firing",
    count: 1,
    firstSeen: signal.at,
    lastSeen: signal.at,
    inhibitedBy: null,
    link: signal.link,
    attributes: signal.attributes,
    lastTriggerAt: signal.at,
    resolvedAt: null,
  };
}

/** A timeline entry about one alert. */
export function alertEntry(
  alert: Alert,
  change: Extract<TimelineEntry, { type: "alert" }>["change"],
  at: string,
  reason: string | null,
  by: string | null = null,
): TimelineEntry {
  return {
    type: "alert",
    at,
    alertId: alert.id,
    fingerprint: alert.fingerprint,
    change,
    severity: alert.severity,
    title: alert.title,
    by,
    reason,
  };
}

interface PendingSignals {
  count: number;
  firstAt: string;
  lastAt: string;
  detail: string | null;
  late: boolean;
  /** Some signal reported a time outside the trusted window and is ordered by arrival. */
  byArrival: boolean;
}

function addPending(
  pending: PendingSignals | null,
  signal: ClassifiedSignal,
  late: boolean,
): PendingSignals {
  if (!pending) {
    return {
      count: 1,
      firstAt: signal.at,
      lastAt: signal.at,
      detail: signal.detail,
      late,
      byArrival: signal.reportedAt !== undefined,
    };
  }
  pending.count += 1;
  if (ms(signal.at) < ms(pending.firstAt)) pending.firstAt = signal.at;
  if (ms(signal.at) >= ms(pending.lastAt)) {
    pending.lastAt = signal.at;
    pending.detail = signal.detail ?? pending.detail;
  }
  pending.late ||= late;
  pending.byArrival ||= signal.reportedAt !== undefined;
  return pending;
}

/**
 * Keeps the timeline cheap under a storm: the first `timelineSignals` groups of signals get an
 * entry each; after that, an entry only when the total crosses a power of two or a quarter of an
 * hour has passed since the last one. The exact count is always on the incident.
 */
function appendSignalEntry(
  record: IncidentRecord,
  pending: PendingSignals,
  settings: IncidentSettings,
): void {
  const total = record.incident.count;
  const before = total - pending.count;
  const crossedPowerOfTwo =
    Math.floor(Math.log2(total)) > Math.floor(Math.log2(Math.max(1, before)));
  const quiet =
    record.lastSignalEntryAt === null ||
    ms(pending.lastAt) - ms(record.lastSignalEntryAt) >= SAMPLE_INTERVAL_MS;
  if (record.signalEntries >= settings.timelineSignals && !crossedPowerOfTwo && !quiet) return;
  record.timeline.push({
    type: "signals",
    at: pending.lastAt,
    count: pending.count,
    firstAt: pending.firstAt,
    lastAt: pending.lastAt,
    total,
    detail: pending.detail,
    ...(pending.late ? { late: true } : {}),
    ...(pending.byArrival ? { byArrival: true } : {}),
  });
  record.signalEntries += 1;
  record.lastSignalEntryAt = pending.lastAt;
}

/**
 * Opens the next incident of a fingerprint. Delivery marks and recent open times carry over
 * from the previous incident, so a redelivery is still a duplicate and flapping is seen; marks
 * evicted to make room go to `archive`, for the caller to write before the record.
 */
export function openIncident(
  previous: IncidentRecord | null,
  signal: ClassifiedSignal,
  settings: IncidentSettings,
  now: number,
  archive: ArchivedMark[] = [],
  key: string = signal.fingerprint,
): IncidentRecord {
  const sequence = (previous?.incident.sequence ?? 0) + 1;
  const openedAt = ms(signal.at);
  const opens = [
    ...(previous?.opens ?? []).filter((at) => openedAt - ms(at) <= settings.flapping.window),
    signal.at,
  ];
  // Each open after the first inside the window is one resolve-and-retrigger.
  const flapping = opens.length - 1 >= settings.flapping.transitions;
  const record: IncidentRecord = {
    incident: {
      id: incidentId(key, sequence),
      // The correlation key: a service's incidents share `service:<name>`.
      fingerprint: key,
      title: signal.title,
      source: signal.source,
      severity: signal.severity,
      status: "triggered",
      rule: signal.rule,
      count: 1,
      flapping,
      firstSeenAt: signal.at,
      lastSeenAt: signal.at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      sequence,
      link: signal.link,
      attributes: signal.attributes,
      detail: signal.detail,
      service: signal.service ?? null,
      runbook: signal.runbook ?? null,
      mergedInto: null,
    },
    alerts: [newAlert(null, signal)],
    severitySetBy: null,
    recoveredBefore: carriedRecoveries(previous, openedAt - settings.trustedTime.past),
    version: 1,
    timeline: [
      {
        type: "opened",
        at: signal.at,
        severity: signal.severity,
        rule: signal.rule,
        title: signal.title,
        detail: signal.detail,
        flapping,
      },
    ],
    timelinePages: 0,
    signalEntries: 1,
    lastSignalEntryAt: signal.at,
    lastTriggerAt: signal.at,
    lastReceivedAt: iso(now),
    seen: structuredClone(previous?.seen ?? []),
    marksArchivedUntil: previous?.marksArchivedUntil ?? null,
    opens,
    actions: [],
    escalation: { repeats: 0, nextAt: null },
  };
  markSeen(record, signal.deliveryId, settings, now, archive);
  return record;
}

/** Most recoveries one record carries forward: the newest are kept. */
const MAX_CARRIED_RECOVERIES = 200;

/** The previous incident's recoveries by fingerprint, and its alerts', newer than `since`. */
function carriedRecoveries(previous: IncidentRecord | null, since: number): Record<string, string> {
  if (!previous) return {};
  const carried = new Map(Object.entries(previous.recoveredBefore));
  for (const alert of previous.alerts) {
    const kept = carried.get(alert.fingerprint) ?? null;
    if (alert.resolvedAt !== null)
      carried.set(alert.fingerprint, newest(kept, alert.resolvedAt) as string);
  }
  const entries = [...carried].filter(([, at]) => ms(at) >= since);
  entries.sort((a, b) => ms(b[1]) - ms(a[1]));
  return Object.fromEntries(entries.slice(0, MAX_CARRIED_RECOVERIES));
}

/** Moves the incident to another id after an id collision with a different fingerprint. */
export function withSalt(record: IncidentRecord, salt: number): IncidentRecord {
  const next = structuredClone(record);
  next.incident.id = incidentId(record.incident.fingerprint, record.incident.sequence, salt);
  return next;
}

// Membership sets per marks array, built once per reduction instead of scanning per signal.
const markSets = new WeakMap<DedupMarks, Set<string>>();

function markSet(marks: DedupMarks): Set<string> {
  let set = markSets.get(marks);
  if (!set) {
    set = new Set();
    for (const generation of marks) for (const id of generation.ids) set.add(id);
    markSets.set(marks, set);
  }
  return set;
}

export function hasSeen(marks: DedupMarks, deliveryId: string): boolean {
  return markSet(marks).has(markOf(deliveryId));
}

/** Marks of recent deliveries: a signal is checked and marked, often more than once (retries). */
const recentMarks = new Map<string, string>();
const RECENT_MARKS = 8192;

function markOf(deliveryId: string): string {
  let mark = recentMarks.get(deliveryId);
  if (mark === undefined) {
    mark = deliveryMark(deliveryId);
    if (recentMarks.size >= RECENT_MARKS)
      recentMarks.delete(recentMarks.keys().next().value as string);
    recentMarks.set(deliveryId, mark);
  }
  return mark;
}

/** A deep copy; the marks (thousands of immutable strings) are copied as lists, not cloned. */
function copyRecord(record: IncidentRecord): IncidentRecord {
  const { seen, ...rest } = record;
  const copy = structuredClone(rest) as IncidentRecord;
  copy.seen = seen.map(({ generation, ids }) => ({ generation, ids: ids.slice() }));
  const known = markSets.get(seen);
  if (known) markSets.set(copy.seen, new Set(known));
  return copy;
}

/**
 * Remembers a delivery id in the current generation and drops generations older than the
 * previous one, so an id is remembered for between one and two `dedupWindow`s. A generation
 * past `MAX_MARKS_PER_GENERATION` moves its oldest mark to `archive`, kept for as long.
 */
function markSeen(
  record: IncidentRecord,
  deliveryId: string,
  settings: IncidentSettings,
  now: number,
  archive: ArchivedMark[],
): void {
  const generation = Math.floor(now / settings.dedupWindow);
  if (record.seen.some((bucket) => bucket.generation < generation - 1)) {
    record.seen = record.seen.filter((bucket) => bucket.generation >= generation - 1);
  }
  let bucket = record.seen.find((candidate) => candidate.generation === generation);
  if (!bucket) {
    bucket = { generation, ids: [] };
    record.seen.push(bucket);
  }
  const mark = markOf(deliveryId);
  bucket.ids.push(mark);
  const set = markSet(record.seen);
  set.add(mark);
  if (bucket.ids.length > MAX_MARKS_PER_GENERATION) {
    const evicted = bucket.ids.shift() as string;
    set.delete(evicted);
    const until = (bucket.generation + 2) * settings.dedupWindow;
    archive.push({ mark: evicted, until });
    if (record.marksArchivedUntil === null || ms(record.marksArchivedUntil) < until) {
      record.marksArchivedUntil = iso(until);
    }
  }
}

const describe = (signal: Signal) => `${signal.source} recovery at ${signal.at}`;

/** The timeline entries recorded so far, oldest first (spilled pages, then the inline tail). */
export type Timeline = TimelineEntry[];
