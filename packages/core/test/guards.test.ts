import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkTarget,
  checkTotal,
  GuardKeeper,
  type GuardLedger,
  type GuardRequest,
  VersionConflictError,
  type VersionedItems,
} from "../src";
import { MemoryVersionedItems } from "../src/testing";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A fixed clock well in the past: guards must use the time they are given, not the wall clock. */
const T0 = Date.parse("2024-03-01T12:00:00.000Z");
const TARGET = "ecs-service:eu-west-1/prod/checkout";

const request = (overrides: Partial<GuardRequest> = {}): GuardRequest => ({
  targetKey: TARGET,
  type: "scale",
  ref: "INC-1/a1",
  now: T0,
  cooldownMs: 10 * MINUTE,
  maxPerHour: 6,
  ...overrides,
});

/** A ledger entry `ago` milliseconds before T0. */
const entry = (ago: number, type = "scale", ref = `ref-${ago}-${type}`) => ({
  at: new Date(T0 - ago).toISOString(),
  type,
  ref,
});
const ledger = (...entries: ReturnType<typeof entry>[]): GuardLedger => ({ entries });

describe("checkTarget", () => {
  it("allows the first action on a target", () => {
    expect(checkTarget(ledger(), request())).toEqual({ ok: true });
  });

  it("refuses the same action type within its cooldown, naming the cooldown", () => {
    expect(checkTarget(ledger(entry(4 * MINUTE)), request())).toEqual({
      ok: false,
      breaker: false,
      reason: `cooldown: scale ran on ${TARGET} 4m ago (cooldown 10m)`,
    });
  });

  it("measures the cooldown from the latest run of the type", () => {
    const decision = checkTarget(ledger(entry(9 * MINUTE), entry(2 * MINUTE)), request());
    expect(decision).toMatchObject({ ok: false, reason: expect.stringContaining("2m ago") });
  });

  it("allows the same type once the cooldown is over (the boundary included)", () => {
    expect(checkTarget(ledger(entry(10 * MINUTE)), request())).toEqual({ ok: true });
    expect(checkTarget(ledger(entry(25 * MINUTE)), request())).toEqual({ ok: true });
  });

  it("does not apply one type's cooldown to another type", () => {
    expect(checkTarget(ledger(entry(MINUTE, "rollback")), request())).toEqual({ ok: true });
  });

  it("refuses when the target has had maxPerHour actions in the last hour, of any type", () => {
    const recent = ledger(
      entry(50 * MINUTE, "rollback"),
      entry(30 * MINUTE, "failover"),
      entry(20 * MINUTE, "scale"),
    );
    expect(checkTarget(recent, request({ maxPerHour: 3 }))).toEqual({
      ok: false,
      breaker: true,
      reason: `circuit breaker: 3 automated actions on ${TARGET} in the last hour (max 3)`,
    });
    expect(checkTarget(recent, request({ maxPerHour: 4 }))).toEqual({ ok: true });
  });

  it("counts only the last hour toward the breaker (an entry exactly an hour old is out)", () => {
    const old = ledger(entry(HOUR, "a"), entry(90 * MINUTE, "b"), entry(5 * HOUR, "c"));
    expect(checkTarget(old, request({ maxPerHour: 1 }))).toEqual({ ok: true });
    const mixed = ledger(entry(HOUR - 1, "a"), entry(2 * HOUR, "b"));
    expect(checkTarget(mixed, request({ maxPerHour: 1 }))).toMatchObject({ breaker: true });
  });

  it("reports the cooldown rather than the breaker when both refuse", () => {
    const decision = checkTarget(ledger(entry(MINUTE)), request({ maxPerHour: 1 }));
    expect(decision).toMatchObject({ ok: false, breaker: false });
  });

  it("refuses everything with maxPerHour 0", () => {
    expect(checkTarget(ledger(), request({ maxPerHour: 0 }))).toMatchObject({
      ok: false,
      breaker: true,
    });
  });

  it("holds a cooldown longer than an hour, which the breaker's window would forget", () => {
    const twoHours = request({ cooldownMs: 2 * HOUR, maxPerHour: 1 });
    expect(checkTarget(ledger(entry(90 * MINUTE)), twoHours)).toEqual({
      ok: false,
      breaker: false,
      reason: `cooldown: scale ran on ${TARGET} 1h 30m ago (cooldown 2h)`,
    });
    expect(checkTarget(ledger(entry(2 * HOUR)), twoHours)).toEqual({ ok: true });
  });
});

describe("checkTotal", () => {
  it("counts the last hour's actions on all targets, of any type", () => {
    const all = ledger(entry(MINUTE, "scale"), entry(2 * MINUTE, "rollback"));
    expect(checkTotal(all, request({ maxPerHour: 2 }))).toEqual({
      ok: false,
      breaker: true,
      reason: "circuit breaker: 2 automated actions in total in the last hour (max 2)",
    });
    expect(checkTotal(all, request({ maxPerHour: 3 }))).toEqual({ ok: true });
  });

  it("has no cooldown of its own", () => {
    expect(checkTotal(ledger(entry(0)), request())).toEqual({ ok: true });
  });

  it("forgets entries older than an hour", () => {
    const old = ledger(entry(HOUR), entry(3 * HOUR));
    expect(checkTotal(old, request({ maxPerHour: 1 }))).toEqual({ ok: true });
  });
});

describe("checkTarget and checkTotal, for any ledger", () => {
  const anEntry = fc.record({
    ago: fc.integer({ min: -MINUTE, max: 4 * HOUR }),
    type: fc.constantFrom("scale", "rollback", "failover"),
  });
  const aRequest = fc.record({
    type: fc.constantFrom("scale", "rollback", "failover"),
    cooldownMs: fc.integer({ min: 0, max: 3 * HOUR }),
    maxPerHour: fc.integer({ min: 0, max: 8 }),
  });
  const toLedger = (entries: Array<{ ago: number; type: string }>) =>
    ledger(...entries.map(({ ago, type }, index) => entry(ago, type, `ref-${index}`)));

  it("never approve more once entries are added (refusals are monotone)", () => {
    fc.assert(
      fc.property(fc.array(anEntry), fc.array(anEntry), aRequest, (some, more, overrides) => {
        const guard = request(overrides);
        for (const check of [checkTarget, checkTotal]) {
          if (!check(toLedger(some), guard).ok) {
            expect(check(toLedger([...some, ...more]), guard).ok).toBe(false);
          }
        }
      }),
    );
  });

  it("ignore entries older than both the hour and the cooldown", () => {
    fc.assert(
      fc.property(fc.array(anEntry), aRequest, (entries, overrides) => {
        const guard = request(overrides);
        const horizon = Math.max(HOUR, guard.cooldownMs);
        const young = entries.filter(({ ago }) => ago < horizon);
        for (const check of [checkTarget, checkTotal]) {
          expect(check(toLedger(entries), guard)).toEqual(check(toLedger(young), guard));
        }
      }),
    );
  });

  it("refuse with breaker: true exactly when the hour's count reaches the max", () => {
    fc.assert(
      fc.property(fc.array(anEntry), aRequest, (entries, overrides) => {
        const guard = request(overrides);
        const inHour = entries.filter(({ ago }) => ago < HOUR).length;
        const decision = checkTotal(toLedger(entries), guard);
        expect(decision.ok).toBe(inHour < guard.maxPerHour);
        if (!decision.ok) expect(decision.breaker).toBe(true);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

const TARGET_ITEM = `guard:target:${TARGET}`;
const TOTAL_ITEM = "guard:all";

function keeper(items = new MemoryVersionedItems()) {
  return { guards: new GuardKeeper(items), items };
}

/** The refs a stored ledger holds. */
function refsIn(items: MemoryVersionedItems, key: string): string[] {
  const value = items.items.get(key)?.value as GuardLedger | undefined;
  return (value?.entries ?? []).map((stored) => stored.ref);
}

/** Memory items that yield between every read and write, so concurrent callers interleave. */
class SlowItems implements VersionedItems {
  conflicts = 0;
  constructor(readonly inner = new MemoryVersionedItems()) {}

  async get(key: string) {
    await pause();
    return this.inner.get(key);
  }

  async put(key: string, value: unknown, version: number) {
    await pause();
    try {
      await this.inner.put(key, value, version);
    } catch (error) {
      if (error instanceof VersionConflictError) this.conflicts++;
      throw error;
    }
  }
}
const pause = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("GuardKeeper", () => {
  it("grants a reservation and records it on the target's ledger and the total", async () => {
    const { guards, items } = keeper();
    await expect(guards.reserve(request())).resolves.toEqual({ ok: true });
    expect(items.items.get(TARGET_ITEM)?.value).toEqual({
      entries: [
        { at: "2024-03-01T12:00:00.000Z", type: "scale", ref: "INC-1/a1", cooldownMs: 600_000 },
      ],
    });
    expect(refsIn(items, TOTAL_ITEM)).toEqual(["INC-1/a1"]);
  });

  it("refuses the same type on the same target within the cooldown, naming it", async () => {
    const { guards, items } = keeper();
    await guards.reserve(request());
    const decision = await guards.reserve(request({ ref: "INC-2/a1", now: T0 + 3 * MINUTE }));
    expect(decision).toEqual({
      ok: false,
      breaker: false,
      reason: `cooldown: scale ran on ${TARGET} 3m ago (cooldown 10m)`,
    });
    expect(refsIn(items, TARGET_ITEM)).toEqual(["INC-1/a1"]);
    expect(refsIn(items, TOTAL_ITEM)).toEqual(["INC-1/a1"]);
  });

  it("lets another type act on the same target, or the same type on another target", async () => {
    const { guards } = keeper();
    await guards.reserve(request());
    await expect(guards.reserve(request({ ref: "b", type: "rollback" }))).resolves.toEqual({
      ok: true,
    });
    await expect(
      guards.reserve(request({ ref: "c", targetKey: "autoscaling-group:eu-west-1/web" })),
    ).resolves.toEqual({ ok: true });
  });

  it("counts the same ref once: a retry is granted again and not recorded twice", async () => {
    const { guards, items } = keeper();
    await guards.reserve(request());
    await expect(guards.reserve(request({ now: T0 + MINUTE }))).resolves.toEqual({ ok: true });
    expect(refsIn(items, TARGET_ITEM)).toEqual(["INC-1/a1"]);
    expect(refsIn(items, TOTAL_ITEM)).toEqual(["INC-1/a1"]);
  });

  it("trips the target's breaker, of any type, with breaker: true", async () => {
    const { guards } = keeper();
    const types = ["scale", "rollback", "failover"];
    for (const [index, type] of types.entries()) {
      await guards.reserve(request({ ref: `r${index}`, type, maxPerHour: 3, cooldownMs: 0 }));
    }
    await expect(
      guards.reserve(request({ ref: "r3", now: T0 + MINUTE, maxPerHour: 3, cooldownMs: 0 })),
    ).resolves.toEqual({
      ok: false,
      breaker: true,
      reason: `circuit breaker: 3 automated actions on ${TARGET} in the last hour (max 3)`,
    });
  });

  it("release frees the slot and the cooldown", async () => {
    const { guards, items } = keeper();
    const guard = request({ maxPerHour: 1 });
    await guards.reserve(guard);
    await expect(guards.reserve({ ...guard, ref: "INC-2/a1" })).resolves.toMatchObject({
      ok: false,
    });
    await guards.release(TARGET, guard.ref);
    expect(refsIn(items, TARGET_ITEM)).toEqual([]);
    expect(refsIn(items, TOTAL_ITEM)).toEqual([]);
    await expect(guards.reserve({ ...guard, ref: "INC-2/a1" })).resolves.toEqual({ ok: true });
  });

  it("release of a ref that holds nothing changes nothing", async () => {
    const { guards, items } = keeper();
    await guards.reserve(request());
    await guards.release(TARGET, "never-reserved");
    await guards.release("another-target", "INC-1/a1");
    expect(refsIn(items, TARGET_ITEM)).toEqual(["INC-1/a1"]);
  });

  it("release prunes nothing by the wall clock: other entries keep counting", async () => {
    const { guards, items } = keeper();
    await guards.reserve(request({ ref: "a", type: "scale" }));
    await guards.reserve(request({ ref: "b", type: "rollback" }));
    await guards.release(TARGET, "b");
    expect(refsIn(items, TARGET_ITEM)).toEqual(["a"]);
    await expect(guards.reserve(request({ ref: "c", now: T0 + MINUTE }))).resolves.toMatchObject({
      ok: false,
      breaker: false,
    });
  });

  it("trips the total breaker across targets, leaving the refused target clean", async () => {
    const { guards, items } = keeper();
    const on = (targetKey: string, ref: string) =>
      guards.reserve(request({ targetKey, ref, maxPerHour: 2 }));
    await expect(on("t1", "r1")).resolves.toEqual({ ok: true });
    await expect(on("t2", "r2")).resolves.toEqual({ ok: true });
    await expect(on("t3", "r3")).resolves.toEqual({
      ok: false,
      breaker: true,
      reason: "circuit breaker: 2 automated actions in total in the last hour (max 2)",
    });
    expect(refsIn(items, "guard:target:t3")).toEqual([]);
    expect(refsIn(items, TOTAL_ITEM)).toEqual(["r1", "r2"]);
  });

  it("lets entries older than an hour fall away, from the count and from the store", async () => {
    const { guards, items } = keeper();
    const at = (now: number, ref: string) =>
      guards.reserve(request({ now, ref, maxPerHour: 2, cooldownMs: 0 }));
    await at(T0, "r1");
    await at(T0 + MINUTE, "r2");
    await expect(at(T0 + 30 * MINUTE, "r3")).resolves.toMatchObject({ ok: false, breaker: true });
    await expect(at(T0 + HOUR, "r4")).resolves.toEqual({ ok: true });
    expect(refsIn(items, TARGET_ITEM)).toEqual(["r2", "r4"]);
    expect(refsIn(items, TOTAL_ITEM)).toEqual(["r2", "r4"]);
  });

  it("keeps an entry as long as its cooldown when that is longer than an hour", async () => {
    const { guards, items } = keeper();
    const guard = request({ cooldownMs: 3 * HOUR });
    await guards.reserve(guard);
    await guards.reserve(request({ ref: "other", type: "rollback", now: T0 + 2 * HOUR }));
    expect(refsIn(items, TARGET_ITEM)).toEqual(["INC-1/a1", "other"]);
    await expect(
      guards.reserve({ ...guard, ref: "INC-2/a1", now: T0 + 2 * HOUR + MINUTE }),
    ).resolves.toMatchObject({ ok: false, breaker: false });
    await expect(
      guards.reserve({ ...guard, ref: "INC-3/a1", now: T0 + 3 * HOUR }),
    ).resolves.toEqual({ ok: true });
  });

  it("retries a write that lost a race and then decides on the new ledger", async () => {
    const inner = new MemoryVersionedItems();
    let raced = false;
    const racing: VersionedItems = {
      get: (key) => inner.get(key),
      async put(key, value, version) {
        if (!raced && key === TARGET_ITEM) {
          raced = true;
          // Someone else takes the target's last slot between our read and our write.
          await new GuardKeeper(inner).reserve(request({ ref: "rival", maxPerHour: 1 }));
        }
        return inner.put(key, value, version);
      },
    };
    const decision = await new GuardKeeper(racing).reserve(request({ maxPerHour: 1 }));
    expect(raced).toBe(true);
    expect(decision).toMatchObject({ ok: false });
    expect(refsIn(inner, TARGET_ITEM)).toEqual(["rival"]);
  });

  it("lets a store error other than a version conflict propagate", async () => {
    const broken: VersionedItems = {
      get: async () => null,
      put: async () => {
        throw new Error("table not found");
      },
    };
    await expect(new GuardKeeper(broken).reserve(request())).rejects.toThrow("table not found");
  });

  it("refuses a stored ledger of the wrong shape rather than guessing", async () => {
    const items = new MemoryVersionedItems();
    await items.put(TARGET_ITEM, { entries: [{ at: "yesterday" }] }, 1);
    await expect(new GuardKeeper(items).reserve(request())).rejects.toThrow();
  });

  it("grants exactly maxPerHour of 50 concurrent reservations on one target", async () => {
    const items = new SlowItems();
    const guards = new GuardKeeper(items);
    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        guards.reserve(request({ ref: `INC-${index}/a1`, cooldownMs: 0, maxPerHour: 6 })),
      ),
    );
    expect(decisions.filter((decision) => decision.ok)).toHaveLength(6);
    expect(decisions.filter((decision) => !decision.ok && decision.breaker)).toHaveLength(44);
    expect(items.conflicts).toBeGreaterThan(0);
    expect(refsIn(items.inner, TARGET_ITEM)).toHaveLength(6);
    expect(refsIn(items.inner, TOTAL_ITEM)).toHaveLength(6);
  });

  it("grants exactly maxPerHour of 30 concurrent reservations on 30 targets", async () => {
    const items = new SlowItems();
    const guards = new GuardKeeper(items);
    const decisions = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        guards.reserve(request({ targetKey: `t${index}`, ref: `r${index}`, maxPerHour: 6 })),
      ),
    );
    const granted = decisions.flatMap((decision, index) => (decision.ok ? [`r${index}`] : []));
    expect(granted).toHaveLength(6);
    expect(refsIn(items.inner, TOTAL_ITEM).sort()).toEqual(granted.sort());
    // A target refused by the total breaker gave its own slot back.
    for (let index = 0; index < 30; index++) {
      const expected = granted.includes(`r${index}`) ? [`r${index}`] : [];
      expect(refsIn(items.inner, `guard:target:t${index}`)).toEqual(expected);
    }
  });
});
