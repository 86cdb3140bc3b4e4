import { describe, expect, it } from "vitest";
import {
  ConfigSchema,
  cronTimes,
  InvalidInputError,
  type MaintenanceWindow,
  MaintenanceWindowSchema,
  newMaintenanceWindow,
  nextPeriod,
  parseCron,
  periodAt,
  policyWindows,
  timingOf,
  windowHold,
  windowView,
} from "../src";
import type { HoldSubject } from "../src/silences/hold";
import { aConfig } from "../src/testing";

const BERLIN = "Europe/Berlin";
const at = (iso: string) => Date.parse(iso);
const isoOf = (times: number[]) => times.map((time) => new Date(time).toISOString());

/** Saturdays (and here Sundays: the EU changes its clocks on Sunday) at 02:00 for 2h, in Berlin. */
const sundays = {
  kind: "recurring" as const,
  schedule: parseCron("0 2 * * SUN"),
  timeZone: BERLIN,
  duration: 2 * 3_600_000,
};

describe("cron expressions", () => {
  it("reads names, ranges, lists and steps", () => {
    const cron = parseCron("*/15 9-17 1,15 JAN-MAR mon-fri");
    expect([...cron.minutes]).toEqual([0, 15, 30, 45]);
    expect([...cron.hours]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...cron.months]).toEqual([1, 2, 3]);
    expect([...cron.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron("0 2 * * 7").daysOfWeek]).toEqual([0]);
  });

  it.each([
    ["0 2 * *", /5 fields/],
    ["0 2 * * * 2026", /5 fields/],
    ["60 2 * * SAT", /cron minute: 60 is out of range 0-59/],
    ["0 24 * * SAT", /cron hour: 24 is out of range 0-23/],
    ["0 2 0 * *", /cron day of month: 0 is out of range 1-31/],
    ["0 2 * 13 *", /cron month: 13 is out of range 1-12/],
    ["0 2 * * FUNDAY", /cron day of week: "FUNDAY" is not a number 0-7 or a name/],
    ["0 2 ? * SAT", /cron day of month: "\?" is not a number/],
    ["0 2 * * 5-1", /cron day of week: range "5-1" runs backwards/],
    ["*/0 2 * * *", /cron minute: step "0"/],
    ["0 0 30 2 *", /never falls in month/],
  ])("refuses %s, naming the field", (text, message) => {
    expect(() => parseCron(text)).toThrow(InvalidInputError);
    expect(() => parseCron(text)).toThrow(message);
  });

  it("matches a day by day of month or day of week when both are given (Vixie cron)", () => {
    // The 1st of the month, and every Monday: June 2026 starts on a Monday.
    const times = cronTimes(
      parseCron("0 12 1 * MON"),
      "UTC",
      at("2026-06-01T00:00:00Z"),
      at("2026-06-16T00:00:00Z"),
    );
    expect(isoOf(times)).toEqual([
      "2026-06-01T12:00:00.000Z",
      "2026-06-08T12:00:00.000Z",
      "2026-06-15T12:00:00.000Z",
    ]);
  });
});

describe("recurrence across daylight saving changes (Europe/Berlin, 2026)", () => {
  it("a 02:00 window on the spring-forward day starts at 03:00 local, as the clocks jump, and lasts its 2h", () => {
    // 29 March 2026: at 02:00 CET the clocks go to 03:00 CEST, so 02:00 never happens that day.
    // The window opens when the clocks jump (luxon moves a skipped time forward by the gap).
    const times = cronTimes(
      sundays.schedule,
      BERLIN,
      at("2026-03-21T00:00:00Z"),
      at("2026-04-06T00:00:00Z"),
    );
    expect(isoOf(times)).toEqual([
      "2026-03-22T01:00:00.000Z", // 02:00 CET (+01:00)
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: 02:00 was skipped
      "2026-04-05T00:00:00.000Z", // 02:00 CEST (+02:00)
    ]);
    // Two hours of real time: 03:00 to 05:00 CEST.
    expect(periodAt(sundays, at("2026-03-29T00:59:00Z"))).toBeNull();
    expect(periodAt(sundays, at("2026-03-29T01:00:00Z"))).toEqual({
      start: at("2026-03-29T01:00:00Z"),
      end: at("2026-03-29T03:00:00Z"),
    });
    expect(periodAt(sundays, at("2026-03-29T03:00:00Z"))).toBeNull();
  });

  it("a window on the fall-back day opens once, at the first 02:00 (summer time), and lasts 2h of real time", () => {
    // 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET, so 02:00-03:00 happens
    // twice. The window opens once, at the first 02:00 (00:00Z), as Vixie cron runs such a job;
    // its 2h end at 02:00Z, which is 03:00 CET.
    const day = cronTimes(
      sundays.schedule,
      BERLIN,
      at("2026-10-24T22:00:00Z"),
      at("2026-10-25T23:00:00Z"),
    );
    expect(isoOf(day)).toEqual(["2026-10-25T00:00:00.000Z"]);
    expect(periodAt(sundays, at("2026-10-25T01:30:00Z"))).toEqual({
      start: at("2026-10-25T00:00:00Z"),
      end: at("2026-10-25T02:00:00Z"),
    });
    expect(periodAt(sundays, at("2026-10-25T02:00:00Z"))).toBeNull();
  });

  it("an hourly recurrence has 23 openings on the spring day and 24, not 25, on the autumn day", () => {
    const hourly = parseCron("0 * * * *");
    const spring = cronTimes(
      hourly,
      BERLIN,
      at("2026-03-28T23:00:00Z"),
      at("2026-03-29T22:00:00Z"),
    );
    const autumn = cronTimes(
      hourly,
      BERLIN,
      at("2026-10-24T22:00:00Z"),
      at("2026-10-25T23:00:00Z"),
    );
    expect(spring).toHaveLength(23);
    expect(autumn).toHaveLength(24);
  });

  it("the next period is found across the change", () => {
    expect(nextPeriod(sundays, at("2026-03-23T00:00:00Z"))).toEqual({
      start: at("2026-03-29T01:00:00Z"),
      end: at("2026-03-29T03:00:00Z"),
    });
    const leap = { ...sundays, schedule: parseCron("0 0 29 2 *"), timeZone: "UTC" };
    expect(nextPeriod(leap, at("2026-03-01T00:00:00Z"))?.start).toBe(at("2028-02-29T00:00:00Z"));
  });
});

describe("maintenance windows", () => {
  const subject = (overrides: Partial<HoldSubject> = {}): HoldSubject => ({
    source: "cloudwatch",
    fingerprint: "cloudwatch:123456789012:eu-central-1:orders-db-cpu",
    title: "orders-db-cpu",
    severity: "warning",
    service: "orders-db",
    attributes: { alarmName: "orders-db-cpu" },
    link: null,
    at: "2026-11-28T01:30:00.000Z",
    ...overrides,
  });

  it("a window with start and end holds what it matches from start to end, not after", () => {
    const window = newMaintenanceWindow(
      MaintenanceWindowSchema.parse({
        name: "db-upgrade",
        match: { service: "orders-db", severity: ["warning", "info"] },
        start: "2026-11-28T02:00:00+01:00",
        end: "2026-11-28T04:00:00+01:00",
        reason: "engine upgrade",
      }),
      "api:ops",
      at("2026-11-27T00:00:00Z"),
    );
    expect(window).toMatchObject({
      start: "2026-11-28T01:00:00.000Z",
      end: "2026-11-28T03:00:00.000Z",
      origin: "api",
    });
    expect(window.id).toMatch(/^M[0-9A-Z]{5}$/);
    expect(windowHold(subject(), [window], at("2026-11-28T00:59:59Z"))).toBeNull();
    expect(windowHold(subject(), [window], at("2026-11-28T01:00:00Z"))).toEqual({
      kind: "maintenance",
      id: window.id,
      name: "db-upgrade",
      endsAt: "2026-11-28T03:00:00.000Z",
      reason: "engine upgrade",
    });
    // Another service, or a critical alert, is not held.
    expect(
      windowHold(subject({ service: "checkout" }), [window], at("2026-11-28T02:00:00Z")),
    ).toBeNull();
    expect(
      windowHold(subject({ severity: "critical" }), [window], at("2026-11-28T02:00:00Z")),
    ).toBeNull();
    expect(windowHold(subject(), [window], at("2026-11-28T03:00:00Z"))).toBeNull();
    expect(windowView(window, at("2026-11-28T02:00:00Z"))).toMatchObject({
      active: true,
      period: { start: "2026-11-28T01:00:00.000Z", end: "2026-11-28T03:00:00.000Z" },
    });
  });

  it("policy windows are read-only entries named policy:<name>", () => {
    const config = aConfig({
      services: { "orders-db": { match: [{ alarmName: "orders-db-*" }] } },
      maintenance: [
        {
          name: "db-patching",
          match: { service: "orders-db" },
          cron: "0 2 * * SAT",
          timeZone: BERLIN,
          duration: "2h",
        },
      ],
    });
    const windows = policyWindows(config);
    expect(windows).toHaveLength(1);
    const window = windows[0] as MaintenanceWindow;
    expect(window).toMatchObject({
      id: "policy:db-patching",
      origin: "policy",
      duration: 7_200_000,
    });
    // Saturday 28 November 2026, 02:00 CET = 01:00Z.
    expect(periodAt(timingOf(window), at("2026-11-28T01:30:00Z"))).toEqual({
      start: at("2026-11-28T01:00:00Z"),
      end: at("2026-11-28T03:00:00Z"),
    });
  });

  it.each([
    [{ cron: "0 25 * * SAT", duration: "2h" }, "cron", "cron hour: 25 is out of range 0-23"],
    [
      { cron: "0 2 * * SAT", timeZone: "Mars/Olympus", duration: "2h" },
      "timeZone",
      "use an IANA name such as Europe/Berlin",
    ],
    [
      { start: "2026-11-28T04:00:00Z", end: "2026-11-28T02:00:00Z" },
      "end",
      "end must be after start",
    ],
    [{ start: "2026-11-28T04:00:00Z" }, "end", "end is needed with start/end"],
    [{ cron: "0 2 * * SAT" }, "duration", "needed with cron"],
    [{ cron: "0 2 * * SAT", duration: "2h", start: "2026-11-28T04:00:00Z" }, "cron", "not both"],
  ])(
    "a bad window in the policy fails the config at maintenance[0].%s",
    (timing, field, message) => {
      const result = ConfigSchema.safeParse({
        maintenance: [{ name: "w", match: { source: "cloudwatch" }, ...timing }],
      });
      expect(result.error?.issues).toEqual([
        expect.objectContaining({
          path: ["maintenance", 0, field],
          message: expect.stringContaining(message),
        }),
      ]);
    },
  );

  it("an API window must match something", () => {
    expect(() =>
      newMaintenanceWindow(
        MaintenanceWindowSchema.parse({
          name: "all",
          match: {},
          start: "2026-11-28T01:00:00Z",
          end: "2026-11-28T02:00:00Z",
        }),
        "api:ops",
        0,
      ),
    ).toThrow(/an empty match would hold every alert/);
  });
});
