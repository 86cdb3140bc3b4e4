import { VersionConflictError } from "./errors";
import type { Incident, IncidentRecord, IncidentStatus, TimelinePage } from "./incidents/model";
import type { ArchivedMark } from "./incidents/reduce";
import type { ScheduleOverride } from "./oncall/model";
import type { Severity } from "./severity";
import type { Source } from "./signal";

/** Time, injected so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The logging Firebreak needs; Powertools' Logger and the console both satisfy it. */
export interface Logger {
  debug(message: string, ...extra: Array<Record<string, unknown>>): void;
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface IncidentQuery {
  /** `open` means triggered or acknowledged. */
  status?: IncidentStatus | "open";
  severity?: Severity;
  source?: Source;
  /** Incidents of this service (`Incident.service`). */
  service?: string;
  /** ISO times bounding `firstSeenAt`. */
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

export interface IncidentPage {
  items: Incident[];
  nextCursor: string | null;
}

/** What the correlator reads of a fingerprint: its current incident and a recovery kept for it. */
export interface FingerprintState {
  record: IncidentRecord | null;
  /** The newest recovery that arrived while nothing was open (`rememberRecovery`), or null. */
  recoveredAt: string | null;
}

/**
 * A lost compare-and-set on an incident that also tells what won: the stored record (null when
 * there is none, or it expired), so the writer reduces again without reading it back. DynamoDB
 * returns it with the failed write (`ReturnValuesOnConditionCheckFailure`); a store that cannot
 * throws a plain `VersionConflictError` or reads it itself.
 */
export class StaleRecordError extends VersionConflictError {
  constructor(
    key: string,
    readonly current: IncidentRecord | null,
    options?: ErrorOptions,
  ) {
    super(key, options);
  }
}

/**
 * Where incidents live. Writes are compare-and-set on `version`: a record with version 1 is
 * created only if absent; version n replaces the stored version n-1, else
 * `VersionConflictError` (`StaleRecordError` when the store knows the stored record). There are no multi-item transactions: every decision is made so one
 * conditional write per item is enough.
 */
export interface IncidentStore {
  /** The incident a fingerprint currently points at, or null for a fingerprint never seen. */
  getCurrent(fingerprint: string): Promise<IncidentRecord | null>;
  /** The incident, or null when there is none or it expired under `incidents.retention`. */
  get(id: string): Promise<IncidentRecord | null>;
  /**
   * When an incident `get` no longer returns expired (ISO time), or null when there is no
   * expired incident of that id to speak of (never created, or already deleted by TTL).
   */
  expiredAt(id: string): Promise<string | null>;
  /**
   * Writes `page` first (idempotent), then the record with the version check. A resolved
   * record, its timeline pages and its fingerprint's pointer then expire `incidents.retention`
   * after `resolvedAt`; a record that is not resolved drops that expiry again. Version 1 may
   * replace an expired incident of the same id (its fingerprint's numbering started over).
   */
  save(record: IncidentRecord, page: TimelinePage | null): Promise<void>;
  /** Points a fingerprint at its incident number `sequence`; never moves it backwards. */
  setCurrent(fingerprint: string, incidentId: string, sequence: number): Promise<void>;
  /** `getCurrent` with the recovery remembered for the fingerprint, read from the same pointer. */
  getFingerprint(fingerprint: string): Promise<FingerprintState>;
  /**
   * `getFingerprint` of many at once (in DynamoDB, batched reads: the pointers, then their
   * incidents), each fingerprint in the map.
   */
  getFingerprints(fingerprints: ReadonlyArray<string>): Promise<Map<string, FingerprintState>>;
  /**
   * Remembers a recovery that arrived while nothing was open, at least until `until` (ms), on
   * the fingerprint's pointer: one conditional write. Only while the pointer still leads to
   * `incidentId` (null: to no live incident) and keeps no recovery as new, else
   * `VersionConflictError` (reload and reduce again).
   */
  rememberRecovery(
    fingerprint: string,
    at: string,
    incidentId: string | null,
    until: number,
  ): Promise<void>;
  /**
   * Keeps delivery marks that left an incident item, each until its `until` (ms). Idempotent,
   * and written before the item that no longer holds them, so a mark is always somewhere.
   */
  archiveMarks(fingerprint: string, marks: ReadonlyArray<ArchivedMark>): Promise<void>;
  /** Which of `marks` are archived for the fingerprint and not past their `until`. */
  findArchivedMarks(fingerprint: string, marks: ReadonlyArray<string>): Promise<Set<string>>;
  getTimelinePages(incidentId: string): Promise<TimelinePage[]>;
  list(query: IncidentQuery): Promise<IncidentPage>;
  /** Ids of incidents with actions waiting for the dispatcher (a sparse index). */
  listPending(): Promise<string[]>;
  /** Since when the longest-waiting planned action has been due, or null when nothing waits. */
  oldestPendingSince(): Promise<string | null>;
  /**
   * Ids of incidents the sweep has something due for at `now` (ms), earliest first: each saved
   * record is indexed by `nextDueAt` (escalation, auto-resolve, stuck action), so the sweep
   * reads due work instead of every open incident. Records with nothing due are not indexed.
   */
  listDue(now: number): Promise<string[]>;
}

/** The queue between the edge and the processor: SQS in AWS, a durable journal locally. */
export interface MessageQueue {
  /** Resolves once every body is durably accepted (it will be processed or dead-lettered). */
  send(bodies: ReadonlyArray<string>): Promise<void>;
}

/**
 * Remembers keys, atomically, until a time: the edges apply a signed request once, however
 * often it is replayed while its signature is still accepted. In DynamoDB one conditional
 * PutItem per key; the first caller of a key gets true, every later caller until `until` false.
 */
export interface ReplayGuard {
  /**
   * Whether `key` is new, remembering it until `until` (ms). A key is claimed before what it
   * guards is applied, so two concurrent copies of one request cannot both pass.
   */
  firstTime(key: string, until: number): Promise<boolean>;
}

/**
 * Where schedule overrides live (in DynamoDB: one partition per schedule, sorted by start).
 * Who is on call is computed from the config and these alone.
 */
export interface OverrideStore {
  put(override: ScheduleOverride): Promise<void>;
  /** Removes an override; false when the schedule has none of that id. */
  delete(schedule: string, id: string): Promise<boolean>;
  /** The schedule's overrides overlapping [from, to) (ms), earliest start first. */
  list(schedule: string, from: number, to: number): Promise<ScheduleOverride[]>;
}
