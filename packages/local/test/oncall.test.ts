import {
  type ConfigInput,
  shifts as computeShifts,
  parseConfig,
  type ScheduleOnCall,
  type ScheduleOverride,
  type Shift,
  scheduleOf,
} from "@firebreak/core";
import ICAL from "ical.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { SENTRY_SECRET, SLACK_SECRET, startTestStack, TOKEN } from "./helpers";

const CALENDAR_TOKEN = "calendar-token-for-tests-0123456789";
const DAY = 86_400_000;

const CONFIG: ConfigInput = {
  people: {
    alice: { slack: "U0ALICE01", email: "alice@example.com", phone: "+15555550100" },
    bob: { slack: "U0BOB0001" },
    carol: { slack: "U0CAROL01" },
  },
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
    daytime: {
      timeZone: "America/New_York",
      rotation: { people: ["carol", "alice"], shift: "1d", handoff: "09:00", start: "2026-01-01" },
      restrict: { days: ["Mon", "Tue", "Wed", "Thu", "Fri"], from: "09:00", to: "17:00" },
    },
  },
};

let stack: LocalStack;
const read = <T>(response: Response) => response.json() as Promise<T>;
type OnCallItems = { items: ScheduleOnCall[] };
const auth = { authorization: `Bearer ${TOKEN}` };
const get = (path: string, headers: Record<string, string> = auth) =>
  fetch(`${stack.url}${path}`, { headers });
const send = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  stack = await startTestStack({
    configInput: CONFIG,
    secrets: {
      apiTokens: [{ name: "tests", token: TOKEN }],
      sentryClientSecret: SENTRY_SECRET,
      slackSigningSecret: SLACK_SECRET,
      calendarToken: CALENDAR_TOKEN,
    },
  });
});
afterAll(() => stack?.stop());

describe("the on-call API through the local stack", () => {
  it("says who is on call in every schedule, at a given time, and wants the bearer token", async () => {
    expect((await get("/oncall", {})).status).toBe(401);
    // Tuesday 2026-01-13 12:00 UTC: bob's week; 07:00 in New York, outside daytime's window
    // (its 13th day, carol's, runs 09:00 to 17:00 there).
    const response = await get("/oncall?at=2026-01-13T12:00:00Z");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      items: [
        {
          schedule: "primary",
          person: "bob",
          from: "2026-01-12T08:00:00.000Z",
          to: "2026-01-19T08:00:00.000Z",
        },
        { schedule: "daytime", person: null, from: null, to: null },
      ],
    });
    const later = await read<OnCallItems>(await get("/oncall?at=2026-01-13T15:00:00Z"));
    expect(later.items[1]).toEqual({
      schedule: "daytime",
      person: "carol",
      from: "2026-01-13T14:00:00.000Z",
      to: "2026-01-13T22:00:00.000Z",
    });
    expect((await get("/oncall?at=yesterday")).status).toBe(400);
  });

  it("lists a schedule's shifts over a bounded range", async () => {
    const range = "from=2026-03-23T00:00:00Z&to=2026-04-06T00:00:00Z";
    const response = await get(`/schedules/primary?${range}`);
    expect(response.status).toBe(200);
    const { shifts } = await read<{ shifts: Shift[] }>(response);
    // Across Berlin's spring DST change: 09:00 CET is 08:00 UTC, 09:00 CEST 07:00 UTC.
    expect(shifts.map((shift) => shift.from)).toEqual([
      "2026-03-23T00:00:00.000Z",
      "2026-03-23T08:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
    ]);
    expect(
      (await get("/schedules/primary?from=2026-01-01T00:00:00Z&to=2026-04-02T00:00:00Z")).status,
    ).toBe(400);
    expect(
      (await get("/schedules/primary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")).status,
    ).toBe(400);
    expect((await get(`/schedules/nope?${range}`)).status).toBe(404);
  });

  it("takes an override across a handoff, splits the shifts around it, and removes it", async () => {
    const body = { person: "carol", from: "2026-02-01T11:00:00Z", to: "2026-02-02T11:00:00Z" };
    expect(
      (await send("POST", "/schedules/primary/overrides", { ...body, person: "zed" })).status,
    ).toBe(400);
    expect(
      (await send("POST", "/schedules/primary/overrides", { ...body, to: body.from })).status,
    ).toBe(400);
    expect((await send("POST", "/schedules/nope/overrides", body)).status).toBe(404);
    const created = await send("POST", "/schedules/primary/overrides", body);
    expect(created.status).toBe(201);
    const override = await read<ScheduleOverride>(created);
    expect(override).toMatchObject({
      ...body,
      from: "2026-02-01T11:00:00.000Z",
      to: "2026-02-02T11:00:00.000Z",
      createdBy: "api:tests",
    });
    expect(override.id).toMatch(/^O[0-9A-Z]{7}$/);

    const range = "from=2026-01-26T08:00:00Z&to=2026-02-09T08:00:00Z";
    expect(
      (await read<{ shifts: Shift[] }>(await get(`/schedules/primary?${range}`))).shifts,
    ).toEqual([
      {
        person: "alice",
        from: "2026-01-26T08:00:00.000Z",
        to: "2026-02-01T11:00:00.000Z",
        override: false,
      },
      {
        person: "carol",
        from: "2026-02-01T11:00:00.000Z",
        to: "2026-02-02T11:00:00.000Z",
        override: true,
      },
      {
        person: "bob",
        from: "2026-02-02T11:00:00.000Z",
        to: "2026-02-09T08:00:00.000Z",
        override: false,
      },
    ]);
    const during = await read<OnCallItems>(await get("/oncall?at=2026-02-02T09:00:00Z"));
    expect(during.items[0]).toMatchObject({ person: "carol", to: "2026-02-02T11:00:00.000Z" });

    expect((await send("DELETE", `/schedules/primary/overrides/${override.id}`)).status).toBe(200);
    expect((await send("DELETE", `/schedules/primary/overrides/${override.id}`)).status).toBe(404);
    const after = await read<OnCallItems>(await get("/oncall?at=2026-02-02T09:00:00Z"));
    expect(after.items[0]).toMatchObject({ person: "bob", from: "2026-02-02T08:00:00.000Z" });
  });

  it("lists the routes in the OpenAPI document", async () => {
    const document = await read<{ paths: Record<string, unknown> }>(await get("/openapi.json", {}));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/oncall",
        "/schedules/{name}",
        "/schedules/{name}/overrides",
        "/schedules/{name}/overrides/{id}",
        "/schedules/{name}/calendar.ics",
        "/people/{name}/calendar.ics",
      ]),
    );
  });
});

interface FeedEvent {
  summary: string;
  from: string;
  to: string;
  uid: string;
}

/** The feed read back by ical.js, and the 90 days it covers (from a UTC midnight). */
async function readFeed(path: string): Promise<{ events: FeedEvent[]; from: number; to: number }> {
  for (;;) {
    const before = Math.floor(Date.now() / DAY);
    const response = await get(path, {});
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/calendar/);
    const body = await response.text();
    if (Math.floor(Date.now() / DAY) !== before) continue; // the feed's day turned: read again
    for (const line of body.split("\r\n").slice(0, -1)) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    }
    expect(body.endsWith("END:VCALENDAR\r\n")).toBe(true);
    const calendar = new ICAL.Component(ICAL.parse(body));
    const events = calendar.getAllSubcomponents("vevent").map((component) => {
      const event = new ICAL.Event(component);
      expect(component.getFirstPropertyValue("dtstamp")).toBeTruthy();
      return {
        summary: event.summary,
        from: event.startDate.toJSDate().toISOString(),
        to: event.endDate.toJSDate().toISOString(),
        uid: event.uid,
      };
    });
    const from = before * DAY - 7 * DAY;
    return { events, from, to: from + 90 * DAY };
  }
}

describe("the iCalendar feeds", () => {
  it("refuse a missing or wrong token, and never take the bearer token", async () => {
    expect((await get("/schedules/primary/calendar.ics", {})).status).toBe(401);
    expect((await get("/schedules/primary/calendar.ics?token=nope", {})).status).toBe(401);
    expect((await get(`/schedules/primary/calendar.ics?token=${TOKEN}`, auth)).status).toBe(401);
    expect((await get(`/schedules/nope/calendar.ics?token=${CALENDAR_TOKEN}`, {})).status).toBe(
      404,
    );
    expect((await get(`/people/zed/calendar.ics?token=${CALENDAR_TOKEN}`, {})).status).toBe(404);
  });

  it("hold every computed shift of a schedule and of a person, overrides included", async () => {
    const soon = Math.floor(Date.now() / DAY) * DAY + 2 * DAY;
    const override = await send("POST", "/schedules/primary/overrides", {
      person: "alice",
      from: new Date(soon + 3_600_000).toISOString(),
      to: new Date(soon + 30 * 3_600_000).toISOString(),
    });
    expect(override.status).toBe(201);
    const config = parseConfig(CONFIG);
    const overrides = [await read<ScheduleOverride>(override)];

    const schedule = await readFeed(`/schedules/primary/calendar.ics?token=${CALENDAR_TOKEN}`);
    const expected = computeShifts(
      scheduleOf(config, "primary"),
      overrides,
      schedule.from,
      schedule.to,
    );
    expect(expected.some((shift) => shift.override)).toBe(true);
    expect(schedule.events.map(({ summary, from, to }) => ({ summary, from, to }))).toEqual(
      expected.map((shift) => ({
        summary: `On call: primary (${shift.person})`,
        from: shift.from,
        to: shift.to,
      })),
    );
    expect(new Set(schedule.events.map((event) => event.uid)).size).toBe(expected.length);

    const person = await readFeed(`/people/alice/calendar.ics?token=${CALENDAR_TOKEN}`);
    const mine = (["primary", "daytime"] as const)
      .flatMap((name) =>
        computeShifts(
          scheduleOf(config, name),
          name === "primary" ? overrides : [],
          person.from,
          person.to,
        )
          .filter((shift) => shift.person === "alice")
          .map((shift) => ({
            summary: `On call: ${name} (alice)`,
            from: shift.from,
            to: shift.to,
          })),
      )
      .sort((a, b) => a.from.localeCompare(b.from));
    expect(mine.length).toBeGreaterThan(10);
    expect(person.events.map(({ summary, from, to }) => ({ summary, from, to }))).toEqual(mine);
  });
});
