import { describe, expect, it, vi } from "vitest";
import { HoldReader } from "../src";
import { aConfig, aRecord, MemoryIncidentStore, MemorySilenceStore } from "../src/testing";

// Calls into the window module, which holds.ts imports (with luxon beneath it) only to work a
// window's timing out.
const seen = vi.hoisted(() => ({ windowHolds: 0 }));
vi.mock("../src/maintenance/window", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../src/maintenance/window")>();
  return {
    ...actual,
    windowHold: (...args: Parameters<typeof actual.windowHold>) => {
      seen.windowHolds += 1;
      return actual.windowHold(...args);
    },
  };
});

/** A window on Saturdays 02:00 to 04:00 in Berlin, matching `match`. */
const readerWith = (match: Record<string, string>) => {
  const config = aConfig({
    maintenance: [
      {
        name: "db-patching",
        match,
        cron: "0 2 * * SAT",
        timeZone: "Europe/Berlin",
        duration: "2h",
      },
    ],
  });
  const store = new MemoryIncidentStore({ config });
  return new HoldReader({ store, silences: new MemorySilenceStore(), config, maxAgeMs: 0 });
};

// Saturday 2026-11-28, 02:30 in Berlin.
const IN_WINDOW = Date.parse("2026-11-28T01:30:00.000Z");

describe("holds and maintenance windows", () => {
  it("load and work out a window's timing (luxon) only when it matches one of the incident's alerts", async () => {
    const record = aRecord({ source: "cloudwatch" });
    expect(await readerWith({ source: "sentry" }).holdFor(record, IN_WINDOW)).toBeNull();
    expect(seen.windowHolds).toBe(0);

    const hold = await readerWith({ source: "cloudwatch" }).holdFor(record, IN_WINDOW);
    expect(seen.windowHolds).toBe(1);
    expect(hold).toMatchObject({
      kind: "maintenance",
      name: "db-patching",
      endsAt: "2026-11-28T03:00:00.000Z",
    });
  });
});
