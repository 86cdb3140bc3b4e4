import { describe, expect, it } from "vitest";
import { MAX_ONCALL_RANGE_MS, type ScheduleOverride } from "../oncall/model";
import type { OverrideStore } from "../ports";

const DAY = 86_400_000;
const T0 = Date.parse("2026-03-01T00:00:00.000Z");

const anOverride = (
  id: string,
  from: number,
  to: number,
  schedule = "primary",
): ScheduleOverride => ({
  id,
  schedule,
  person: "alice",
  from: new Date(from).toISOString(),
  to: new Date(to).toISOString(),
  createdBy: "api:tests",
  createdAt: new Date(T0).toISOString(),
});

/** What every OverrideStore must do; run against each implementation. */
export function describeOverrideStoreContract(name: string, make: () => Promise<OverrideStore>) {
  describe(`OverrideStore contract: ${name}`, () => {
    it("lists the overrides overlapping a range, earliest first, per schedule", async () => {
      const store = await make();
      const long = anOverride("OLONG000", T0 - MAX_ONCALL_RANGE_MS + DAY, T0 + DAY);
      const before = anOverride("OBEFORE0", T0 - 2 * DAY, T0 - DAY);
      const inside = anOverride("OINSIDE0", T0 + 2 * DAY, T0 + 3 * DAY);
      const atEnd = anOverride("OATEND00", T0 + 5 * DAY, T0 + 6 * DAY);
      const other = anOverride("OOTHER00", T0 + 2 * DAY, T0 + 3 * DAY, "secondary");
      for (const override of [atEnd, inside, before, long, other]) await store.put(override);
      const listed = await store.list("primary", T0, T0 + 5 * DAY);
      expect(listed).toEqual([long, inside]);
      expect(await store.list("primary", T0 - DAY - 1, T0 - DAY)).toEqual([long, before]);
      expect(await store.list("secondary", T0, T0 + 5 * DAY)).toEqual([other]);
      expect(await store.list("nobody", T0, T0 + 5 * DAY)).toEqual([]);
    });

    it("deletes by schedule and id, once", async () => {
      const store = await make();
      const override = anOverride("ODELETE0", T0, T0 + DAY);
      await store.put(override);
      expect(await store.delete("secondary", override.id)).toBe(false);
      expect(await store.delete("primary", override.id)).toBe(true);
      expect(await store.delete("primary", override.id)).toBe(false);
      expect(await store.list("primary", T0, T0 + DAY)).toEqual([]);
    });
  });
}
