import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import {
  ConfigSchema,
  foldLine,
  onCallAt,
  renderCalendar,
  type Schedule,
  type ScheduleInput,
  ScheduleSchema,
  shifts,
} from "../src";

const schedule = (input: ScheduleInput): Schedule => ScheduleSchema.parse(input);
const hours = (shift: { from: string; to: string }) =>
  (Date.parse(shift.to) - Date.parse(shift.from)) / 3_600_000;
const local = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat("ccc HH:mm");

const weekly = schedule({
  timeZone: "Europe/Berlin",
  rotation: {
    people: ["alice", "bob", "carol"],
    shift: "1w",
    handoff: "Mon 09:00",
    start: "2026-01-05",
  },
});

const daily = (timeZone: string) =>
  schedule({
    timeZone,
    rotation: { people: ["alice", "bob"], shift: "1d", handoff: "09:00", start: "2026-01-01" },
  });

describe("rotations", () => {
  it("hands a weekly rotation over on Monday 09:00 local, in turn", () => {
    expect(onCallAt(weekly, [], "2026-01-05T08:00:00Z")).toEqual({
      person: "alice",
      from: "2026-01-05T08:00:00.000Z",
      to: "2026-01-12T08:00:00.000Z",
    });
    expect(onCallAt(weekly, [], "2026-01-12T07:59:59.999Z")?.person).toBe("alice");
    expect(onCallAt(weekly, [], "2026-01-12T08:00:00Z")?.person).toBe("bob");
    expect(onCallAt(weekly, [], "2026-01-21T00:00:00Z")?.person).toBe("carol");
    expect(onCallAt(weekly, [], "2026-01-26T08:00:00Z")?.person).toBe("alice");
    expect(onCallAt(weekly, [], new Date("2026-01-05T07:59:00Z"))).toBeNull();
  });

  it("starts a weekday handoff on the first such weekday at or after start", () => {
    const fromThursday = schedule({
      timeZone: "Europe/Berlin",
      rotation: {
        people: ["alice", "bob"],
        shift: "1w",
        handoff: "Mon 09:00",
        start: "2026-01-01",
      },
    });
    expect(onCallAt(fromThursday, [], "2026-01-04T12:00:00Z")).toBeNull();
    expect(onCallAt(fromThursday, [], "2026-01-05T08:00:00Z")?.person).toBe("alice");
  });

  it("hands a daily rotation over at 09:00 local every day, alternating", () => {
    const days = shifts(daily("Europe/Berlin"), [], "2026-02-01T00:00:00Z", "2026-02-08T00:00:00Z");
    // Day 31 of the rotation (it started on January 1st with alice) is bob's.
    expect(days.map((shift) => shift.person).slice(1, 5)).toEqual(["bob", "alice", "bob", "alice"]);
    for (const shift of days.slice(1)) expect(local(shift.from, "Europe/Berlin")).toMatch(/09:00/);
    for (let index = 1; index < days.length; index++) {
      expect(days[index]?.from).toBe(days[index - 1]?.to);
    }
  });

  it.each([
    ["Europe/Berlin", "2026-03-28", "2026-03-29", 23],
    ["Europe/Berlin", "2026-10-24", "2026-10-25", 25],
    ["America/New_York", "2026-03-07", "2026-03-08", 23],
    ["America/New_York", "2026-10-31", "2026-11-01", 25],
  ])("keeps %s handoffs at 09:00 across DST (%s to %s: %i h)", (zone, before, after, length) => {
    const range = shifts(daily(zone), [], `${before}T00:00:00Z`, `${after}T23:00:00Z`);
    const startLocal = DateTime.fromISO(`${before}T09:00`, { zone }).toUTC().toISO();
    const endLocal = DateTime.fromISO(`${after}T09:00`, { zone }).toUTC().toISO();
    const across = range.find((shift) => shift.from === startLocal);
    expect(across?.to).toBe(endLocal);
    expect(hours(across as { from: string; to: string })).toBe(length);
    // Every handoff of the month around it is at 09:00 local, and shifts are 23, 24 or 25 h.
    const month = shifts(daily(zone), [], `${before}T12:00:00Z`, `${after}T12:00:00Z`);
    for (const shift of month.slice(1)) expect(local(shift.from, zone)).toMatch(/ 09:00$/);
  });

  it("keeps a weekly handoff at Monday 09:00 across both Berlin DST weekends", () => {
    const year = shifts(weekly, [], "2026-01-05T08:00:00Z", "2027-01-04T08:00:00Z");
    expect(year).toHaveLength(52);
    for (const shift of year) expect(local(shift.from, "Europe/Berlin")).toBe("Mon 09:00");
    const lengths = year.map(hours);
    expect(lengths.filter((length) => length === 167)).toHaveLength(1);
    expect(lengths.filter((length) => length === 169)).toHaveLength(1);
    expect(year.find((shift) => hours(shift) === 167)?.from).toBe("2026-03-23T08:00:00.000Z");
    expect(year.find((shift) => hours(shift) === 169)?.from).toBe("2026-10-19T07:00:00.000Z");
  });

  it("takes hour shifts on the wall clock: 12h hands over at 09:00 and 21:00 through DST", () => {
    const halves = schedule({
      timeZone: "America/New_York",
      rotation: { people: ["alice", "bob"], shift: "12h", handoff: "09:00", start: "2026-03-01" },
    });
    const range = shifts(halves, [], "2026-03-06T14:00:00Z", "2026-03-10T14:00:00Z");
    for (const shift of range) {
      expect(local(shift.from, "America/New_York")).toMatch(/ (09|21):00$/);
    }
    expect(range.map(hours)).toContain(11);
    expect(onCallAt(halves, [], "2026-03-01T15:00:00Z")?.person).toBe("alice");
    expect(onCallAt(halves, [], "2026-03-02T03:00:00Z")?.person).toBe("bob");
  });

  it("refuses nonsense at parse time", () => {
    const bad = (rotation: Record<string, unknown>) =>
      ScheduleSchema.safeParse({
        timeZone: "Europe/Berlin",
        rotation: {
          people: ["a"],
          shift: "1w",
          handoff: "09:00",
          start: "2026-01-05",
          ...rotation,
        },
      }).success;
    expect(bad({})).toBe(true);
    expect(bad({ shift: "1d", handoff: "Mon 09:00" })).toBe(false);
    expect(bad({ shift: "0d" })).toBe(false);
    expect(bad({ handoff: "25:00" })).toBe(false);
    expect(bad({ start: "2026-02-30" })).toBe(false);
    expect(ScheduleSchema.safeParse({ timeZone: "Mars/Olympus", layers: [] }).success).toBe(false);
  });
});

describe("restrictions", () => {
  const office = schedule({
    timeZone: "Europe/Berlin",
    rotation: { people: ["alice", "bob"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
    restrict: { days: ["Mon", "Tue", "Wed", "Thu", "Fri"], from: "09:00", to: "18:00" },
  });

  it("has someone only in the windows, local time, across DST", () => {
    expect(onCallAt(office, [], "2026-03-30T07:30:00Z")?.person).toBe("alice"); // Mon 09:30 CEST
    expect(onCallAt(office, [], "2026-03-30T06:30:00Z")).toBeNull(); // Mon 08:30 CEST
    expect(onCallAt(office, [], "2026-04-04T10:00:00Z")).toBeNull(); // Saturday
    const week = shifts(office, [], "2026-03-23T00:00:00Z", "2026-03-30T22:00:00Z");
    expect(week).toHaveLength(6);
    for (const shift of week) {
      expect(hours(shift)).toBe(9);
      expect(local(shift.from, "Europe/Berlin")).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
      expect(local(shift.to, "Europe/Berlin")).toMatch(/ 18:00$/);
    }
    // Eleven weeks after the start it is bob's week; the next Monday alice's.
    expect(week.map((shift) => shift.person)).toEqual([...Array(5).fill("bob"), "alice"]);
  });

  it("runs an overnight window into the next day", () => {
    const nights = schedule({
      timeZone: "Europe/Berlin",
      rotation: { people: ["carol"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
      restrict: { days: ["Fri"], from: "18:00", to: "09:00" },
    });
    expect(shifts(nights, [], "2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z")).toEqual([
      {
        person: "carol",
        from: "2026-01-09T17:00:00.000Z",
        to: "2026-01-10T08:00:00.000Z",
        override: false,
      },
    ]);
  });
});

describe("overrides", () => {
  const override = { person: "carol", from: "2026-01-11T11:00:00Z", to: "2026-01-12T11:00:00Z" };

  it("split the shifts they cross, handoff included", () => {
    expect(shifts(weekly, [override], "2026-01-05T08:00:00Z", "2026-01-19T08:00:00Z")).toEqual([
      {
        person: "alice",
        from: "2026-01-05T08:00:00.000Z",
        to: "2026-01-11T11:00:00.000Z",
        override: false,
      },
      {
        person: "carol",
        from: "2026-01-11T11:00:00.000Z",
        to: "2026-01-12T11:00:00.000Z",
        override: true,
      },
      {
        person: "bob",
        from: "2026-01-12T11:00:00.000Z",
        to: "2026-01-19T08:00:00.000Z",
        override: false,
      },
    ]);
    expect(onCallAt(weekly, [override], "2026-01-12T09:00:00Z")).toEqual({
      person: "carol",
      from: "2026-01-11T11:00:00.000Z",
      to: "2026-01-12T11:00:00.000Z",
    });
    expect(onCallAt(weekly, [override], "2026-01-12T11:00:00Z")).toEqual({
      person: "bob",
      from: "2026-01-12T11:00:00.000Z",
      to: "2026-01-19T08:00:00.000Z",
    });
  });

  it("win over restrictions and the start, and the later of two wins", () => {
    const office = schedule({ ...weeklyInput(), restrict: { from: "09:00", to: "18:00" } });
    const night = { person: "dave", from: "2026-01-02T22:00:00Z", to: "2026-01-03T06:00:00Z" };
    expect(onCallAt(office, [night], "2026-01-03T01:00:00Z")?.person).toBe("dave");
    const later = { person: "erin", from: "2026-01-03T00:00:00Z", to: "2026-01-03T02:00:00Z" };
    expect(onCallAt(office, [night, later], "2026-01-03T01:00:00Z")?.person).toBe("erin");
    expect(onCallAt(office, [night, later], "2026-01-03T03:00:00Z")?.person).toBe("dave");
  });
});

function weeklyInput(): ScheduleInput {
  return {
    timeZone: "Europe/Berlin",
    rotation: { people: ["alice", "bob"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
  };
}

describe("layers", () => {
  // Follow the sun: Berlin by day there, New York by day there; New York wins the overlap.
  const sun = schedule({
    timeZone: "UTC",
    layers: [
      {
        people: ["alice", "bob"],
        shift: "1d",
        handoff: "08:00",
        start: "2026-01-01",
        timeZone: "Europe/Berlin",
        restrict: { from: "08:00", to: "20:00" },
      },
      {
        people: ["carol"],
        shift: "1w",
        handoff: "Mon 08:00",
        start: "2026-01-05",
        timeZone: "America/New_York",
        restrict: { from: "08:00", to: "20:00" },
      },
    ],
  });

  it("let later layers win where they have someone, and earlier ones fill the rest", () => {
    expect(onCallAt(sun, [], "2026-01-06T10:00:00Z")?.person).toBe("bob"); // 11:00 Berlin
    expect(onCallAt(sun, [], "2026-01-07T10:00:00Z")?.person).toBe("alice");
    expect(onCallAt(sun, [], "2026-01-06T15:00:00Z")).toMatchObject({
      person: "carol",
      from: "2026-01-06T13:00:00.000Z",
      to: "2026-01-07T01:00:00.000Z",
    });
    expect(onCallAt(sun, [], "2026-01-07T03:00:00Z")).toBeNull();
    expect(shifts(sun, [], "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z")).toEqual([
      {
        person: "carol",
        from: "2026-01-06T00:00:00.000Z",
        to: "2026-01-06T01:00:00.000Z",
        override: false,
      },
      {
        person: "bob",
        from: "2026-01-06T07:00:00.000Z",
        to: "2026-01-06T13:00:00.000Z",
        override: false,
      },
      {
        person: "carol",
        from: "2026-01-06T13:00:00.000Z",
        to: "2026-01-07T00:00:00.000Z",
        override: false,
      },
    ]);
  });
});

describe("the config", () => {
  const base = {
    people: { alice: { slack: "U0ALICE01" }, bob: { slack: "U0BOB0001" } },
    schedules: {
      primary: {
        timeZone: "Europe/Berlin",
        rotation: {
          people: ["alice", "bob", "carol"],
          shift: "1w",
          handoff: "Mon 09:00",
          start: "2026-01-05",
        },
      },
    },
  };

  it("names the path of a person no one defined, and of a bad time zone", () => {
    const result = ConfigSchema.safeParse(base);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ["schedules", "primary", "rotation", "people", 2],
        message: expect.stringContaining('unknown person "carol"'),
      }),
    ]);
    const zone = ConfigSchema.safeParse({
      ...base,
      schedules: { primary: { ...base.schedules.primary, timeZone: "Europe/Berln" } },
    });
    expect(zone.error?.issues[0]?.path).toEqual(["schedules", "primary", "timeZone"]);
  });

  it("takes a valid one, and refuses two people with one Slack id", () => {
    const people = { ...base.people, carol: {} };
    expect(ConfigSchema.parse({ ...base, people }).schedules.primary?.timeZone).toBe(
      "Europe/Berlin",
    );
    const twice = ConfigSchema.safeParse({
      ...base,
      people: { ...people, carol: { slack: "U0BOB0001" } },
    });
    expect(twice.error?.issues[0]?.path).toEqual(["people", "carol", "slack"]);
  });
});

describe("iCalendar", () => {
  it("folds lines at 75 octets without splitting a character, with CRLF", () => {
    const long = `SUMMARY:${"é".repeat(100)}`;
    const folded = foldLine(long);
    for (const line of folded.split("\r\n"))
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(folded.replace(/\r\n /g, "")).toBe(long);
    const calendar = renderCalendar({
      name: "On call: primary",
      now: Date.parse("2026-01-01T00:00:00Z"),
      shifts: [
        {
          schedule: "primary",
          person: "alice",
          from: "2026-01-05T08:00:00.000Z",
          to: "2026-01-12T08:00:00.000Z",
          override: false,
        },
      ],
    });
    expect(calendar.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(calendar.split("\r\n").every((line) => !line.includes("\n"))).toBe(true);
    expect(calendar).toContain("DTSTART:20260105T080000Z\r\nDTEND:20260112T080000Z\r\n");
    expect(calendar).toContain("SUMMARY:On call: primary (alice)\r\n");
  });
});
