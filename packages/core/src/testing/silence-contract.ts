import { beforeEach, describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../maintenance/record";
import { MaintenanceWindowSchema } from "../maintenance/schema";
import { newMaintenanceWindow } from "../maintenance/window";
import { newSilenceId, type Silence, type SilenceStore } from "../silences/record";
import { parseMatcher } from "../silences/silence";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");

export function aSilence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: newSilenceId(),
    match: parseMatcher("alarmName=api-*"),
    matcher: "alarmName=api-*",
    reason: "deploying the API",
    createdBy: "api:ops",
    createdAt: new Date(NOW).toISOString(),
    endsAt: new Date(NOW + 3_600_000).toISOString(),
    incidentId: null,
    ...overrides,
  };
}

/** A window made through the API: a one-off from `start` to `end`, or a recurrence. */
export function aWindow(timing: Record<string, string>, createdAt = NOW): MaintenanceWindow {
  const input = { name: "db-patching", match: { service: "orders-db" }, ...timing };
  return newMaintenanceWindow(MaintenanceWindowSchema.parse(input), "api:ops", createdAt);
}

/** The behaviour every SilenceStore must have (memory fake and DynamoDB alike). */
export function describeSilenceStoreContract(
  name: string,
  makeStore: () => Promise<SilenceStore>,
): void {
  describe(`SilenceStore contract: ${name}`, () => {
    let store: SilenceStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("keeps, finds and removes silences", async () => {
      const silence = aSilence();
      await store.put(silence);
      expect(await store.get(silence.id)).toEqual(silence);
      expect(await store.delete(silence.id)).toBe(true);
      expect(await store.get(silence.id)).toBeNull();
      expect(await store.delete(silence.id)).toBe(false);
    });

    it("lists only the silences still in force, oldest first", async () => {
      const ended = aSilence({ endsAt: new Date(NOW - 1).toISOString() });
      const first = aSilence({ createdAt: new Date(NOW - 2000).toISOString() });
      const second = aSilence({ createdAt: new Date(NOW - 1000).toISOString() });
      for (const silence of [second, ended, first]) await store.put(silence);
      expect((await store.listActive(NOW)).map((silence) => silence.id)).toEqual([
        first.id,
        second.id,
      ]);
      expect(await store.listActive(NOW + 2 * 3_600_000)).toEqual([]);
    });

    it("keeps a silence of one incident with its incident id", async () => {
      const silence = aSilence({ match: {}, matcher: "incident=K7Q2XPD", incidentId: "K7Q2XPD" });
      await store.put(silence);
      expect(await store.get(silence.id)).toEqual(silence);
    });

    it("keeps maintenance windows until deleted; an ended one-off is not listed", async () => {
      const ended = aWindow({ start: "2026-11-26T08:00:00Z", end: "2026-11-26T09:00:00Z" });
      const weekly = aWindow(
        { cron: "0 2 * * SAT", timeZone: "Europe/Berlin", duration: "2h" },
        NOW - 1000,
      );
      const tonight = aWindow({ start: "2026-11-26T22:00:00Z", end: "2026-11-27T01:00:00Z" });
      for (const window of [tonight, ended, weekly]) await store.putWindow(window);
      expect(await store.listWindows(NOW)).toEqual([weekly, tonight]);
      expect(await store.deleteWindow(weekly.id)).toBe(true);
      expect(await store.deleteWindow(weekly.id)).toBe(false);
      expect(await store.listWindows(NOW)).toEqual([tonight]);
      expect(await store.listWindows(Date.parse("2026-11-27T01:00:00Z"))).toEqual([]);
    });
  });
}
