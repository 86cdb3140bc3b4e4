import { beforeEach, describe, expect, it } from "vitest";
import type { SignalCounters } from "../reports/counters";

const NOW = Date.parse("2026-12-02T16:20:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The retention the contract's counters are made with. */
export const COUNTER_RETENTION_MS = 30 * DAY;

const iso = (time: number) => new Date(time).toISOString();

/**
 * The behaviour every SignalCounters must have (memory fake and DynamoDB alike). `makeCounters`
 * gets a clock the test moves and must use `COUNTER_RETENTION_MS`.
 */
export function describeSignalCountersContract(
  name: string,
  makeCounters: (clock: { now(): number }) => Promise<SignalCounters>,
): void {
  describe(`SignalCounters contract: ${name}`, () => {
    let counters: SignalCounters;
    let now: number;
    beforeEach(async () => {
      now = NOW;
      counters = await makeCounters({ now: () => now });
    });

    it("adds up every batch of an hour, and reads nothing before anything was added", async () => {
      expect(await counters.totals({ since: null, until: null })).toEqual({ ignored: 0 });
      await counters.add(NOW, { ignored: 3 });
      await counters.add(NOW + 1000, { ignored: 4 });
      await counters.add(NOW + 2000, { ignored: 0 });
      expect(await counters.totals({ since: null, until: null })).toEqual({ ignored: 7 });
    });

    it("sums the hours that overlap a range, ends included", async () => {
      // 16:20, 17:05, 18:59 and 20:00: one count in each of four hours.
      await counters.add(NOW, { ignored: 1 });
      await counters.add(NOW + 45 * 60_000, { ignored: 10 });
      await counters.add(Date.parse("2026-12-02T18:59:59.999Z"), { ignored: 100 });
      await counters.add(Date.parse("2026-12-02T20:00:00.000Z"), { ignored: 1000 });
      const total = (since: string | null, until: string | null) =>
        counters.totals({ since, until }).then((counts) => counts.ignored);
      expect(await total(null, null)).toBe(1111);
      // 16:59 overlaps the hour from 16:00; 20:00 exactly starts the last hour.
      expect(await total("2026-12-02T16:59:00.000Z", "2026-12-02T20:00:00.000Z")).toBe(1111);
      expect(await total("2026-12-02T17:00:00.000Z", "2026-12-02T19:59:59.999Z")).toBe(110);
      expect(await total("2026-12-02T18:30:00.000Z", null)).toBe(1100);
      expect(await total(null, "2026-12-02T17:00:00.000Z")).toBe(11);
      expect(await total("2026-12-03T00:00:00.000Z", null)).toBe(0);
    });

    it("keeps an hour for incidents.retention after it ends, then reads it as absent", async () => {
      await counters.add(NOW, { ignored: 5 });
      await counters.add(NOW + 2 * HOUR, { ignored: 6 });
      // The first hour (16:00 to 17:00) expires at 17:00 plus the retention.
      now = Date.parse("2026-12-02T17:00:00.000Z") + COUNTER_RETENTION_MS - 1000;
      expect(await counters.totals({ since: null, until: null })).toEqual({ ignored: 11 });
      now += 1000;
      expect(await counters.totals({ since: null, until: null })).toEqual({ ignored: 6 });
      expect(await counters.totals({ since: iso(NOW), until: iso(NOW) })).toEqual({ ignored: 0 });
    });

    it("loses no count when batches add to one hour at once", async () => {
      await Promise.all(
        Array.from({ length: 32 }, (_, index) => counters.add(NOW + index, { ignored: 2 })),
      );
      expect(await counters.totals({ since: iso(NOW), until: iso(NOW) })).toEqual({ ignored: 64 });
    });
  });
}
