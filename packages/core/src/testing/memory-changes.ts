import type { Change } from "../changes/model";
import {
  type ChangeDedupe,
  type ChangePage,
  type ChangeQuery,
  type ChangeStore,
  changeExpiresAt,
  changeSortKey,
  decodeChangeCursor,
  encodeChangeCursor,
  type RecordedChange,
} from "../changes/store";
import type { Clock } from "../ports";

interface Claim {
  change: Change;
  reusableAfter: number | null;
}

/** The ChangeStore in memory, with the DynamoDB store's semantics (see the contract). */
export class MemoryChangeStore implements ChangeStore {
  private readonly claims = new Map<string, Claim>();
  /** Every change recorded, by sort key. */
  readonly changes = new Map<string, Change>();

  constructor(
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  async record(change: Change, dedupe: ChangeDedupe): Promise<RecordedChange> {
    const now = this.clock.now();
    const claim = this.claims.get(dedupe.key);
    const live =
      claim !== undefined &&
      changeExpiresAt(claim.change, this.retentionMs) * 1000 > now &&
      (claim.reusableAfter === null || claim.reusableAfter >= now);
    if (live) return { change: structuredClone(claim.change), created: false };
    this.claims.set(dedupe.key, {
      change: structuredClone(change),
      reusableAfter: dedupe.reusableAfter,
    });
    this.changes.set(changeSortKey(change), structuredClone(change));
    return { change: structuredClone(change), created: true };
  }

  async list(query: ChangeQuery): Promise<ChangePage> {
    const now = this.clock.now();
    const below = query.cursor ? decodeChangeCursor(query.cursor) : undefined;
    const matching = [...this.changes.entries()]
      .filter(
        ([key, change]) =>
          query.services.includes(change.service) &&
          changeExpiresAt(change, this.retentionMs) * 1000 > now &&
          (query.since === undefined || change.at >= query.since) &&
          (query.until === undefined || change.at <= query.until) &&
          (below === undefined || key < below),
      )
      .sort(([a], [b]) => (a < b ? 1 : -1));
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(([, change]) => structuredClone(change)),
      nextCursor: matching.length > query.limit && last ? encodeChangeCursor(last[0]) : null,
    };
  }
}
