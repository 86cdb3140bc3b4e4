import type { VersionedItems } from "../actions/guards";
import { VersionConflictError } from "../errors";

/** Versioned items in memory, with the DynamoDB store's compare-and-set rules. */
export class MemoryVersionedItems implements VersionedItems {
  readonly items = new Map<string, { value: unknown; version: number; expiresAt?: number }>();

  async get(key: string) {
    const item = this.items.get(key);
    return item ? { value: structuredClone(item.value), version: item.version } : null;
  }

  /** Every call's keys, in order: how many round trips a caller made. */
  readonly manyReads: Array<ReadonlyArray<string>> = [];

  async getMany(keys: ReadonlyArray<string>) {
    this.manyReads.push(keys);
    const found = new Map<string, { value: unknown; version: number }>();
    for (const key of keys) {
      const item = this.items.get(key);
      if (item) found.set(key, { value: structuredClone(item.value), version: item.version });
    }
    return found;
  }

  async put(key: string, value: unknown, version: number, expiresAt?: number): Promise<void> {
    if ((this.items.get(key)?.version ?? 0) !== version - 1) throw new VersionConflictError(key);
    this.items.set(key, {
      value: structuredClone(value),
      version,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }
}
