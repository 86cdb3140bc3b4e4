import type { VersionedItems } from "../actions/guards";
import { VersionConflictError } from "../errors";

/** Versioned items in memory, with the DynamoDB store's compare-and-set rules. */
export class MemoryVersionedItems implements VersionedItems {
  readonly items = new Map<string, { value: unknown; version: number; expiresAt?: number }>();

  async get(key: string) {
    const item = this.items.get(key);
    return item ? { value: structuredClone(item.value), version: item.version } : null;
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
