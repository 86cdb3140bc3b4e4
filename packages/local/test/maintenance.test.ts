import type { ConfigInput } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

const MINUTE = 60_000;
/** Each test waits for the stream, the dispatcher and the sweep: seconds, more on a busy machine. */
const FLOW_TIMEOUT = 90_000;
const page = [{ type: "page" as const, channel: "oncall" }];

const CONFIG: ConfigInput = {
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
  services: {
    "orders-db": { match: [{ alarmName: "orders-db-*" }] },
    checkout: { match: [{ alarmName: "checkout-*" }], dependsOn: ["orders-db"] },
    api: { match: [{ alarmName: "api-*" }] },
  },
  rules: [
    { name: "down", match: { alarmName: "*-down" }, severity: "critical", actions: page },
    { name: "slow", match: { alarmName: "*-slow" }, severity: "warning", actions: page },
  ],
  inhibit: [
    { source: { severity: "critical" }, target: { severity: "warning" }, scope: "dependents" },
  ],
  maintenance: [
    {
      name: "db-patching",
      match: { service: "orders-db" },
      cron: "0 2 * * SAT",
      timeZone: "Europe/Berlin",
      duration: "2h",
    },
  ],
};

function alarm(name: string, state: "ALARM" | "OK" = "ALARM") {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: { alarmName: string; state: { value: string } };
  };
  event.id = `event-${name}-${state}-${Math.random()}`;
  event.detail.alarmName = name;
  event.detail.state.value = state;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  return event;
}

// The functions' clock: the test moves it past a window's end; queue and stream run in real time.
let now = Date.parse("2026-12-02T10:00:00.000Z");
let stack: LocalStack;
let api: Client;

beforeAll(async () => {
  stack = await startTestStack({ configInput: CONFIG, clock: { now: () => now } });
  api = client(stack);
});
afterAll(() => stack.stop());

const auth = { authorization: `Bearer ${TOKEN}` };
const pagesOf = (id: string) =>
  stack.outbox.entries.filter((entry) => entry.incidentId === id && entry.kind === "page");

async function open(name: string): Promise<string> {
  const { incidents } = await api.deliver(alarm(name));
  const id = incidents[0];
  if (!id) throw new Error(`no incident for ${name}`);
  await stack.settle();
  return id;
}

/** Waits (settling the stack between looks) until `done` holds. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) {
    await stack.settle();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function windowsListed() {
  const listed = (await (await api.get("/maintenance")).json()) as {
    items: Array<{ id: string; origin: string; active: boolean }>;
  };
  return listed.items.map(({ id: windowId, origin, active }) => ({ windowId, origin, active }));
}

const errorOf = async (response: Response) => ({
  status: response.status,
  message: ((await response.json()) as { error: { message: string } }).error.message,
});

describe("maintenance windows through the local stack", () => {
  it(
    "an alert held by a window is recorded, not paged, and pages when the window ends while it still fires",
    async () => {
      const created = await api.post(
        "/maintenance",
        {
          name: "api-deploy",
          match: { service: "api" },
          start: new Date(now - MINUTE).toISOString(),
          end: new Date(now + 30 * MINUTE).toISOString(),
          reason: "blue/green switch",
        },
        auth,
      );
      expect(created.status).toBe(201);
      const window = (await created.json()) as { id: string; active: boolean };
      expect(window).toMatchObject({ active: true, origin: "api", createdBy: "api:tests" });

      const id = await open("api-down");
      const held = await api.incident(id);
      expect(held.timeline).toContainEqual(
        expect.objectContaining({
          type: "silenced",
          silenceId: window.id,
          until: new Date(now + 29 * MINUTE + MINUTE).toISOString(),
          reason: "maintenance window api-deploy: blue/green switch",
        }),
      );
      expect(pagesOf(id)).toEqual([]);
      expect(await windowsListed()).toEqual([
        { windowId: "policy:db-patching", origin: "policy", active: false },
        { windowId: window.id, origin: "api", active: true },
      ]);

      // The window ends with the alarm still in ALARM: the sweep finds the incident due then.
      now += 31 * MINUTE;
      await until(() => pagesOf(id).length > 0);
      const released = await api.incident(id);
      expect(released.timeline).toContainEqual(
        expect.objectContaining({
          type: "note",
          by: "hold",
          text: "no longer held by maintenance window api-deploy, and still open: responding now",
        }),
      );
      expect(pagesOf(id)).toHaveLength(1);

      // Ended: the policy's recurring window is listed, an ended one-off is not.
      expect(await windowsListed()).toEqual([
        { windowId: "policy:db-patching", origin: "policy", active: false },
      ]);
      const removed = await fetch(`${stack.url}/maintenance/${window.id}`, {
        method: "DELETE",
        headers: auth,
      });
      expect(removed.status).toBe(200);
    },
    FLOW_TIMEOUT,
  );

  it(
    "a failing database quiets the warnings of the services that depend on it, until it recovers",
    async () => {
      const db = await open("orders-db-down");
      await until(() => pagesOf(db).length > 0);
      const checkout = await open("checkout-slow");
      const held = (await api.incident(checkout)) as unknown as {
        alerts: Array<{ inhibitedBy: string | null }>;
        timeline: Array<{ type: string; text?: string }>;
      };
      expect(held.alerts.map((alert) => alert.inhibitedBy)).toEqual([db]);
      expect(held.timeline).toContainEqual(
        expect.objectContaining({ type: "note", text: expect.stringContaining(`incident ${db}`) }),
      );
      expect(pagesOf(checkout)).toEqual([]);

      await api.deliver(alarm("orders-db-down", "OK"));
      await until(() => pagesOf(checkout).length > 0);
      expect((await api.incident(db)).status).toBe("resolved");
    },
    FLOW_TIMEOUT,
  );

  it(
    "silences one incident until it resolves",
    async () => {
      // A service of its own: no other open incident of it to join.
      const id = await open("batch-slow");
      const response = await api.post(`/incidents/${id}/silence`, { until: "resolved" }, auth);
      expect(response.status).toBe(201);
      const silence = (await response.json()) as { id: string; incidentId: string };
      expect(silence.incidentId).toBe(id);
      expect(((await api.incident(id)) as unknown as { silencedBy: string }).silencedBy).toBe(
        silence.id,
      );
      await api.deliver(alarm("batch-slow", "OK"));
      expect(((await api.incident(id)) as unknown as { silencedBy: null }).silencedBy).toBeNull();
    },
    FLOW_TIMEOUT,
  );

  it(
    "refuses bad windows with a 400 naming the field, unknown ids with a 404, policy windows with a 409",
    async () => {
      const post = (body: unknown) => api.post("/maintenance", body, auth);
      const base = { name: "w", match: { service: "api" } };
      expect(
        await errorOf(await post({ ...base, cron: "0 2 * * FUNDAY", duration: "2h" })),
      ).toEqual({
        status: 400,
        message: expect.stringMatching(/cron.*cron day of week: "FUNDAY" is not a number/),
      });
      expect(
        await errorOf(
          await post({ ...base, cron: "0 2 * * SAT", timeZone: "Europe/Atlantis", duration: "2h" }),
        ),
      ).toEqual({ status: 400, message: expect.stringMatching(/timeZone.*unknown time zone/) });
      expect(
        await errorOf(
          await post({ ...base, start: "2026-12-05T04:00:00Z", end: "2026-12-05T02:00:00Z" }),
        ),
      ).toEqual({ status: 400, message: expect.stringMatching(/end.*end must be after start/) });
      expect(
        await errorOf(
          await post({
            ...base,
            match: {},
            start: "2026-12-05T02:00:00Z",
            end: "2026-12-05T04:00:00Z",
          }),
        ),
      ).toEqual({
        status: 400,
        message: expect.stringContaining("an empty match would hold every alert"),
      });
      expect(
        await errorOf(
          await post({
            ...base,
            name: "db-patching",
            start: "2026-12-05T02:00:00Z",
            end: "2026-12-05T04:00:00Z",
          }),
        ),
      ).toEqual({
        status: 409,
        message: expect.stringContaining("the policy has a window named db-patching"),
      });

      expect(
        await errorOf(
          await post({
            ...base,
            match: { service: "payments" },
            start: "2026-12-05T02:00:00Z",
            end: "2026-12-05T04:00:00Z",
          }),
        ),
      ).toEqual({
        status: 400,
        message: "match.service: unknown service payments (services: orders-db, checkout, api)",
      });

      const remove = (id: string) =>
        fetch(`${stack.url}/maintenance/${id}`, { method: "DELETE", headers: auth });
      expect((await errorOf(await remove("M4K2PX"))).status).toBe(404);
      expect((await errorOf(await remove("not-a-window"))).status).toBe(400);
      expect(await errorOf(await remove("policy:db-patching"))).toEqual({
        status: 409,
        message: expect.stringContaining("is in the policy"),
      });
      expect((await errorOf(await remove("policy:nothing"))).status).toBe(404);
      expect(
        (await errorOf(await api.post("/incidents/ZZZZZZZ/silence", { until: "resolved" }, auth)))
          .status,
      ).toBe(404);
      expect(
        (await errorOf(await api.post("/incidents/ZZZZZZZ/silence", { until: "later" }, auth)))
          .status,
      ).toBe(400);
    },
    FLOW_TIMEOUT,
  );
});
