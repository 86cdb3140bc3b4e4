import { nextDueAt, pendingSince, type SweepPolicy } from "../actions/due";
import { InvalidInputError, VersionConflictError } from "../errors";
import type { IncidentRecord, TimelinePage } from "../incidents/model";
import type { ArchivedMark } from "../incidents/reduce";
import { DEFAULT_RETENTION_MS, expiresAtSeconds, isExpired } from "../incidents/retention";
import {
  type Clock,
  type FingerprintState,
  type IncidentPage,
  type IncidentQuery,
  type IncidentStore,
  StaleRecordError,
  systemClock,
} from "../ports";

export interface MemoryIncidentStoreOptions {
  /** Decides due times and retention, as the DynamoDB store's policy does. */
  config?: SweepPolicy;
  clock?: Clock;
}

/**
 * The store contract in memory, for core tests: the same compare-and-set rules as DynamoDB,
 * and copies in and out so a test cannot share state with the store by accident. Expiry is
 * kept per record (pages and the pointer expire with the incident they belong to).
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly records = new Map<string, IncidentRecord>();
  readonly pointers = new Map<string, { incidentId: string; sequence: number }>();
  readonly pages = new Map<string, TimelinePage>();
  /** Epoch seconds, by incident id: what `expiresAt` holds in DynamoDB. */
  readonly expiries = new Map<string, number>();
  /** Recoveries remembered per fingerprint, kept until `until` (ms). */
  readonly recoveries = new Map<string, { at: string; until: number }>();
  /** Archived delivery marks by `<fingerprint>#<mark>`, each kept until its time (ms). */
  readonly archived = new Map<string, number>();
  writes = 0;
  private readonly config: SweepPolicy | undefined;
  private readonly clock: Clock;

  constructor(options: MemoryIncidentStoreOptions = {}) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
  }

  async getCurrent(fingerprint: string): Promise<IncidentRecord | null> {
    const pointer = this.pointers.get(fingerprint);
    return pointer ? this.get(pointer.incidentId) : null;
  }

  async getFingerprints(
    fingerprints: ReadonlyArray<string>,
  ): Promise<Map<string, FingerprintState>> {
    const states = new Map<string, FingerprintState>();
    for (const fingerprint of fingerprints) {
      states.set(fingerprint, await this.getFingerprint(fingerprint));
    }
    return states;
  }

  async getFingerprint(fingerprint: string): Promise<FingerprintState> {
    const recovery = this.recoveries.get(fingerprint);
    return {
      record: await this.getCurrent(fingerprint),
      recoveredAt: recovery && recovery.until > this.clock.now() ? recovery.at : null,
    };
  }

  async rememberRecovery(
    fingerprint: string,
    at: string,
    incidentId: string | null,
    until: number,
  ): Promise<void> {
    const pointer = this.pointers.get(fingerprint);
    const current = pointer && this.live(pointer.incidentId) ? pointer.incidentId : null;
    const kept = this.recoveries.get(fingerprint);
    const newer = kept && kept.until > this.clock.now() && Date.parse(kept.at) >= Date.parse(at);
    if (current !== incidentId || newer) throw new VersionConflictError(`pointer ${fingerprint}`);
    this.writes += 1;
    this.recoveries.set(fingerprint, { at, until });
  }

  async archiveMarks(fingerprint: string, marks: ReadonlyArray<ArchivedMark>): Promise<void> {
    for (const { mark, until } of marks) this.archived.set(`${fingerprint}#${mark}`, until);
  }

  async findArchivedMarks(fingerprint: string, marks: ReadonlyArray<string>): Promise<Set<string>> {
    const now = this.clock.now();
    return new Set(
      marks.filter((mark) => (this.archived.get(`${fingerprint}#${mark}`) ?? 0) > now),
    );
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const record = this.live(id);
    return record ? structuredClone(record) : null;
  }

  async expiredAt(id: string): Promise<string | null> {
    const expiresAt = this.expiries.get(id);
    return this.records.has(id) && isExpired(expiresAt, this.clock.now())
      ? new Date((expiresAt as number) * 1000).toISOString()
      : null;
  }

  async save(record: IncidentRecord, page: TimelinePage | null): Promise<void> {
    const { id } = record.incident;
    if (this.records.has(id) && !this.live(id)) {
      // An expired incident is absent: forget it and its pages, as TTL eventually does.
      this.records.delete(id);
      this.expiries.delete(id);
      for (const [key, stored] of this.pages) if (stored.incidentId === id) this.pages.delete(key);
    }
    if (page) this.pages.set(`${page.incidentId}#${page.page}`, structuredClone(page));
    const stored = this.records.get(id);
    const expected = record.version - 1;
    if ((stored?.version ?? 0) !== expected) {
      // As DynamoDB's failed write does, it tells what won.
      throw new StaleRecordError(`incident ${id}`, stored ? structuredClone(stored) : null);
    }
    this.writes += 1;
    this.records.set(id, structuredClone(record));
    const expiresAt = expiresAtSeconds(
      record,
      this.config?.incidents.retention ?? DEFAULT_RETENTION_MS,
    );
    if (expiresAt === null) this.expiries.delete(id);
    else this.expiries.set(id, expiresAt);
  }

  async setCurrent(fingerprint: string, incidentId: string, sequence: number): Promise<void> {
    const pointer = this.pointers.get(fingerprint);
    if (pointer && pointer.sequence >= sequence && this.live(pointer.incidentId)) return;
    this.pointers.set(fingerprint, { incidentId, sequence });
  }

  async getTimelinePages(incidentId: string): Promise<TimelinePage[]> {
    if (this.records.has(incidentId) && !this.live(incidentId)) return [];
    return [...this.pages.values()]
      .filter((page) => page.incidentId === incidentId)
      .sort((a, b) => a.page - b.page)
      .map((page) => structuredClone(page));
  }

  async listPending(): Promise<string[]> {
    return this.liveRecords()
      .filter((record) => record.actions.some((action) => action.status === "planned"))
      .map((record) => record.incident.id)
      .sort();
  }

  async oldestPendingSince(): Promise<string | null> {
    return (
      this.liveRecords()
        .map(pendingSince)
        .filter((since): since is string => since !== null)
        .sort()[0] ?? null
    );
  }

  async listDue(now: number): Promise<string[]> {
    return this.liveRecords()
      .map((record) => ({ id: record.incident.id, due: nextDueAt(record, this.config) }))
      .filter(
        (entry): entry is { id: string; due: number } => entry.due !== null && entry.due <= now,
      )
      .sort((a, b) => a.due - b.due || a.id.localeCompare(b.id))
      .map((entry) => entry.id);
  }

  private live(id: string): IncidentRecord | undefined {
    const record = this.records.get(id);
    return record && !isExpired(this.expiries.get(id), this.clock.now()) ? record : undefined;
  }

  private liveRecords(): IncidentRecord[] {
    return [...this.records.keys()].flatMap((id) => this.live(id) ?? []);
  }

  async list(query: IncidentQuery): Promise<IncidentPage> {
    const matches = this.liveRecords()
      .map((record) => record.incident)
      .filter((incident) => {
        if (query.status === "open" && incident.status === "resolved") return false;
        if (query.status && query.status !== "open" && incident.status !== query.status) {
          return false;
        }
        if (query.severity && incident.severity !== query.severity) return false;
        if (query.source && incident.source !== query.source) return false;
        if (query.service && incident.service !== query.service) return false;
        if (query.since && incident.firstSeenAt < query.since) return false;
        if (query.until && incident.firstSeenAt > query.until) return false;
        return true;
      })
      // Open incidents first, then newest first, as the DynamoDB store orders them.
      .sort(
        (a, b) =>
          Number(a.status === "resolved") - Number(b.status === "resolved") ||
          b.firstSeenAt.localeCompare(a.firstSeenAt) ||
          b.id.localeCompare(a.id),
      );
    let start = 0;
    if (query.cursor) {
      start = matches.findIndex((incident) => incident.id === query.cursor) + 1;
      if (start === 0) throw new InvalidInputError("cursor is not valid");
    }
    const items = matches.slice(start, start + query.limit);
    const more = start + query.limit < matches.length;
    return {
      items: structuredClone(items),
      nextCursor: more ? (items.at(-1)?.id ?? null) : null,
    };
  }
}
