import { InvalidInputError, VersionConflictError } from "../errors";
import type { IncidentRecord, TimelinePage } from "../incidents/model";
import type { IncidentPage, IncidentQuery, IncidentStore } from "../ports";

/**
 * The store contract in memory, for core tests: the same compare-and-set rules as DynamoDB,
 * and copies in and out so a test cannot share state with the store by accident.
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly records = new Map<string, IncidentRecord>();
  readonly pointers = new Map<string, { incidentId: string; sequence: number }>();
  readonly pages = new Map<string, TimelinePage>();
  writes = 0;

  async getCurrent(fingerprint: string): Promise<IncidentRecord | null> {
    const pointer = this.pointers.get(fingerprint);
    return pointer ? this.get(pointer.incidentId) : null;
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const record = this.records.get(id);
    return record ? structuredClone(record) : null;
  }

  async save(record: IncidentRecord, page: TimelinePage | null): Promise<void> {
    if (page) this.pages.set(`${page.incidentId}#${page.page}`, structuredClone(page));
    const stored = this.records.get(record.incident.id);
    const expected = record.version - 1;
    if ((stored?.version ?? 0) !== expected) {
      throw new VersionConflictError(`incident ${record.incident.id}`);
    }
    this.writes += 1;
    this.records.set(record.incident.id, structuredClone(record));
  }

  async setCurrent(fingerprint: string, incidentId: string, sequence: number): Promise<void> {
    const pointer = this.pointers.get(fingerprint);
    if (pointer && pointer.sequence >= sequence) return;
    this.pointers.set(fingerprint, { incidentId, sequence });
  }

  async getTimelinePages(incidentId: string): Promise<TimelinePage[]> {
    return [...this.pages.values()]
      .filter((page) => page.incidentId === incidentId)
      .sort((a, b) => a.page - b.page)
      .map((page) => structuredClone(page));
  }

  async listPending(): Promise<string[]> {
    return [...this.records.values()]
      .filter((record) => record.actions.some((action) => action.status === "planned"))
      .map((record) => record.incident.id)
      .sort();
  }

  async list(query: IncidentQuery): Promise<IncidentPage> {
    const matches = [...this.records.values()]
      .map((record) => record.incident)
      .filter((incident) => {
        if (query.status === "open" && incident.status === "resolved") return false;
        if (query.status && query.status !== "open" && incident.status !== query.status) {
          return false;
        }
        if (query.severity && incident.severity !== query.severity) return false;
        if (query.source && incident.source !== query.source) return false;
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
