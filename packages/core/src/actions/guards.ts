import * as z from "zod";
import { formatDuration } from "../duration";
import { VersionConflictError } from "../errors";

const HOUR = 3_600_000;

export const GuardEntrySchema = z.object({
  at: z.iso.datetime(),
  type: z.string(),
  /** `<incident>/<action>`: the same action reserving twice (a retry) counts once. */
  ref: z.string(),
  /** The cooldown it was reserved under: the entry is kept that long, even beyond an hour. */
  cooldownMs: z.number().optional(),
});
export const GuardLedgerSchema = z.object({ entries: z.array(GuardEntrySchema) });
export type GuardLedger = z.infer<typeof GuardLedgerSchema>;

export interface GuardRequest {
  targetKey: string;
  type: string;
  ref: string;
  now: number;
  cooldownMs: number;
  maxPerHour: number;
}

export type GuardDecision =
  | { ok: true }
  | {
      ok: false;
      reason: string /** True when a circuit breaker (not a cooldown) refused. */;
      breaker: boolean;
    };

/** A small item read and written with a version check (DynamoDB item, or memory in tests). */
export interface VersionedItems {
  get(key: string): Promise<{ value: unknown; version: number } | null>;
  /**
   * Several items in one round trip, read as `get` reads them; a key without an item is absent
   * from the map. Absent: one `get` per key, side by side.
   */
  getMany?(keys: ReadonlyArray<string>): Promise<Map<string, { value: unknown; version: number }>>;
  /**
   * Writes `value` if the stored version is `version - 1` (absent for 1), else
   * VersionConflictError. With `expiresAt` (epoch seconds), the table's TTL may delete the item
   * once it has passed: items of a time window nobody reads again.
   */
  put(key: string, value: unknown, version: number, expiresAt?: number): Promise<void>;
}

/** Cooldowns and circuit breakers, kept across incidents and processes. */
export interface GuardStore {
  /** Records a run of an action on a target if no cooldown or breaker forbids it. */
  reserve(request: GuardRequest): Promise<GuardDecision>;
  /** Forgets a reservation whose action then did nothing (skipped), so it does not count. */
  release(targetKey: string, ref: string): Promise<void>;
}

const recent = (ledger: GuardLedger, now: number) =>
  ledger.entries.filter((entry) => now - Date.parse(entry.at) < HOUR);

/** Entries a later check may still need: the breaker's hour, or the entry's longer cooldown. */
const needed = (ledger: GuardLedger, now: number) =>
  ledger.entries.filter(
    (entry) => now - Date.parse(entry.at) < Math.max(HOUR, entry.cooldownMs ?? 0),
  );

/** The per-target check: the action type's cooldown, then the target's hourly breaker. */
export function checkTarget(ledger: GuardLedger, request: GuardRequest): GuardDecision {
  const within = recent(ledger, request.now);
  // All entries, not only the last hour's: a cooldown may be longer than the breaker's window.
  const last = ledger.entries
    .filter((entry) => entry.type === request.type)
    .map((entry) => Date.parse(entry.at))
    .sort((a, b) => b - a)[0];
  if (last !== undefined && request.now - last < request.cooldownMs) {
    return {
      ok: false,
      breaker: false,
      reason: `cooldown: ${request.type} ran on ${request.targetKey} ${formatDuration(request.now - last)} ago (cooldown ${formatDuration(request.cooldownMs)})`,
    };
  }
  if (within.length >= request.maxPerHour) {
    return {
      ok: false,
      breaker: true,
      reason: `circuit breaker: ${within.length} automated actions on ${request.targetKey} in the last hour (max ${request.maxPerHour})`,
    };
  }
  return { ok: true };
}

/** The global breaker: automated actions on all targets together. */
export function checkTotal(ledger: GuardLedger, request: GuardRequest): GuardDecision {
  const within = recent(ledger, request.now);
  if (within.length >= request.maxPerHour) {
    return {
      ok: false,
      breaker: true,
      reason: `circuit breaker: ${within.length} automated actions in total in the last hour (max ${request.maxPerHour})`,
    };
  }
  return { ok: true };
}

const TOTAL = "guard:all";
const targetItem = (targetKey: string) => `guard:target:${targetKey}`;

/**
 * Guards on any versioned item store: one ledger per target and one for all, each changed with
 * a compare-and-set, so concurrent dispatchers cannot both take the last slot.
 */
export class GuardKeeper implements GuardStore {
  constructor(private readonly items: VersionedItems) {}

  async reserve(request: GuardRequest): Promise<GuardDecision> {
    const entry = {
      at: new Date(request.now).toISOString(),
      type: request.type,
      ref: request.ref,
      cooldownMs: request.cooldownMs,
    };
    const target = await this.update(targetItem(request.targetKey), request.now, (ledger) => {
      if (ledger.entries.some((existing) => existing.ref === request.ref))
        return { decision: { ok: true } };
      const decision = checkTarget(ledger, request);
      return decision.ok ? { decision, add: entry } : { decision };
    });
    if (!target.ok) return target;
    const total = await this.update(TOTAL, request.now, (ledger) => {
      if (ledger.entries.some((existing) => existing.ref === request.ref))
        return { decision: { ok: true } };
      const decision = checkTotal(ledger, request);
      return decision.ok ? { decision, add: entry } : { decision };
    });
    if (!total.ok) await this.release(request.targetKey, request.ref);
    return total;
  }

  async release(targetKey: string, ref: string): Promise<void> {
    for (const key of [targetItem(targetKey), TOTAL]) {
      await this.update(key, undefined, () => ({ decision: { ok: true }, remove: ref }));
    }
  }

  /**
   * Reads a ledger, lets `change` decide, writes it back with a version check; retries races.
   * Entries no check needs any more are dropped as of `now`; a release has no clock of its own
   * (the dispatcher's may not be the wall clock), so it removes its entry and prunes nothing.
   */
  private async update(
    key: string,
    now: number | undefined,
    change: (ledger: GuardLedger) => {
      decision: GuardDecision;
      add?: z.infer<typeof GuardEntrySchema>;
      remove?: string;
    },
  ): Promise<GuardDecision> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.items.get(key);
      const ledger = stored ? GuardLedgerSchema.parse(stored.value) : { entries: [] };
      const { decision, add, remove } = change(ledger);
      if (!add && !remove) return decision;
      const kept = now === undefined ? ledger.entries : needed(ledger, now);
      const entries = kept.filter((entry) => entry.ref !== remove);
      if (add) entries.push(add);
      try {
        await this.items.put(key, { entries }, (stored?.version ?? 0) + 1);
        return decision;
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
    }
  }
}
