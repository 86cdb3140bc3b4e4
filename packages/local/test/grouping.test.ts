import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

let stack: LocalStack;
let api: Client;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  stack = await startTestStack({
    configInput: {
      services: {
        checkout: {
          match: [{ source: "cloudwatch", alarmName: "checkout-*" }],
          runbook: "https://wiki.example.com/runbooks/checkout",
        },
        payments: { match: [{ source: "cloudwatch", alarmName: "payments-*" }] },
      },
      rules: [
        {
          name: "everything",
          match: {},
          severity: "critical",
          actions: [{ type: "page", channel: "oncall" }],
        },
      ],
      channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

interface AlertView {
  id: string;
  fingerprint: string;
  title: string;
  status: string;
  count: number;
  description: string | null;
  inhibitedBy: string | null;
}
interface Detail {
  id: string;
  status: string;
  severity: string;
  title: string;
  count: number;
  service: string | null;
  runbook: string | null;
  mergedInto: string | null;
  alerts: AlertView[];
  timeline: Array<{ type: string; by?: string | null; change?: string; reason?: string | null }>;
}

let deliveries = 0;

/** The EventBridge alarm fixture under another alarm name, in state `value`. */
async function alarm(alarmName: string, value: "ALARM" | "OK" = "ALARM"): Promise<string> {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    time: string;
    resources: string[];
    detail: {
      alarmName: string;
      state: { value: string; timestamp: string };
      configuration: { description?: string };
    };
  };
  deliveries += 1;
  const now = new Date(Date.now() + deliveries * 1000).toISOString();
  event.id = `grouping-${deliveries}`;
  event.time = now;
  event.detail.alarmName = alarmName;
  event.detail.state.value = value;
  event.detail.state.timestamp = now.replace("Z", "+0000");
  event.detail.configuration.description = `Runbook for ${alarmName}`;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  const { incidents } = await api.deliver(event);
  return incidents[0] as string;
}

const detail = async (id: string) => (await api.incident(id)) as unknown as Detail;
const send = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const errorOf = async (response: Response) => ({
  status: response.status,
  ...((await response.json()) as { error: { code: string; message: string } }).error,
});

describe("grouping through the local stack", () => {
  it("groups a service's alarms into one incident, shows its alerts and lists it by service", async () => {
    const first = await alarm("checkout-latency");
    const second = await alarm("checkout-5xx");
    expect(second).toBe(first);
    const incident = await detail(first);
    expect(incident).toMatchObject({
      service: "checkout",
      runbook: "https://wiki.example.com/runbooks/checkout",
      count: 2,
    });
    expect(incident.alerts.map((alert) => [alert.id, alert.title, alert.status])).toEqual([
      ["al1", "checkout-latency", "firing"],
      ["al2", "checkout-5xx", "firing"],
    ]);
    expect(incident.alerts[1]).toMatchObject({
      description: "Runbook for checkout-5xx",
      inhibitedBy: null,
      count: 1,
    });
    const listed = (await (await api.get("/incidents?service=checkout")).json()) as {
      items: Array<{ id: string; service: string }>;
    };
    expect(listed.items.map((item) => [item.id, item.service])).toEqual([[first, "checkout"]]);
    // Its recovery resolves its alert only.
    await alarm("checkout-5xx", "OK");
    const after = await detail(first);
    expect(after.status).toBe("triggered");
    expect(after.alerts.map((alert) => alert.status)).toEqual(["firing", "resolved"]);
  });

  it("merges one incident into another: alerts move, the source resolves, its signals follow", async () => {
    const into = await alarm("checkout-queue-depth");
    const source = await alarm("payments-errors");
    expect(source).not.toBe(into);
    const response = await send("POST", `/incidents/${source}/merge`, { into });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      changed: true,
      incident: { id: source, status: "resolved", mergedInto: into, resolvedBy: "api:tests" },
    });
    const target = await detail(into);
    const moved = target.alerts.find((alert) => alert.title === "payments-errors");
    expect(moved).toMatchObject({ status: "firing", count: 1 });
    expect(target.timeline).toContainEqual(
      expect.objectContaining({ type: "alert", change: "merged", by: "api:tests" }),
    );
    await alarm("payments-errors");
    expect(
      (await detail(into)).alerts.find((alert) => alert.title === "payments-errors")?.count,
    ).toBe(2);
    expect((await detail(source)).count).toBe(1);
  });

  it("splits an alert off into its own incident, where its later signals go", async () => {
    const id = await alarm("checkout-db-connections");
    expect(await alarm("checkout-cpu")).toBe(id);
    const cpu = (await detail(id)).alerts.find((alert) => alert.title === "checkout-cpu");
    const response = await send("POST", `/incidents/${id}/alerts/${cpu?.id}/split`);
    expect(response.status).toBe(200);
    const { message } = (await response.json()) as { message: string };
    const own = /split off into ([0-9A-Z]{7})/.exec(message)?.[1] as string;
    expect(own).toBeDefined();
    expect((await detail(own)).alerts.map((alert) => alert.fingerprint)).toEqual([
      cpu?.fingerprint,
    ]);
    expect(await alarm("checkout-cpu")).toBe(own);
    expect((await detail(own)).count).toBe(2);
    expect((await detail(id)).alerts.map((alert) => alert.title)).not.toContain("checkout-cpu");
  });

  it("PATCHes severity and title with who and why", async () => {
    const id = await alarm("payments-latency");
    const response = await send("PATCH", `/incidents/${id}`, {
      severity: "warning",
      title: "Payments slow for one region",
      reason: "only eu-west-1",
    });
    expect(response.status).toBe(200);
    const incident = await detail(id);
    expect(incident).toMatchObject({ severity: "warning", title: "Payments slow for one region" });
    expect(incident.timeline.filter((entry) => entry.type === "edited")).toEqual([
      expect.objectContaining({ by: "api:tests", reason: "only eu-west-1" }),
      expect.objectContaining({ by: "api:tests", reason: "only eu-west-1" }),
    ]);
  });

  it("answers every bad request with a 4xx that says what is wrong", async () => {
    const id = await alarm("standalone-throttles");
    const other = await alarm("standalone-disk");
    const unknown = "ZZZZZZZ";
    expect(
      await errorOf(await send("POST", `/incidents/${unknown}/merge`, { into: id })),
    ).toMatchObject({ status: 404, message: `no incident ${unknown}` });
    expect(await errorOf(await send("POST", `/incidents/${id}/merge`, { into: id }))).toMatchObject(
      {
        status: 409,
      },
    );
    expect(await errorOf(await send("POST", `/incidents/${id}/merge`, {}))).toMatchObject({
      status: 400,
      message: expect.stringContaining("into"),
    });
    expect(
      await errorOf(await send("POST", `/incidents/${id}/merge`, { into: "not an id" })),
    ).toMatchObject({ status: 400, message: expect.stringContaining("into") });
    await send("POST", `/incidents/${other}/resolve`, {});
    expect(
      await errorOf(await send("POST", `/incidents/${id}/merge`, { into: other })),
    ).toMatchObject({ status: 409, message: expect.stringContaining("resolved") });
    expect(await errorOf(await send("POST", `/incidents/${id}/alerts/al7/split`))).toMatchObject({
      status: 404,
    });
    expect(await errorOf(await send("POST", `/incidents/${id}/alerts/x1/split`))).toMatchObject({
      status: 400,
      message: expect.stringContaining("alertId"),
    });
    expect(await errorOf(await send("POST", `/incidents/${id}/alerts/al1/split`))).toMatchObject({
      status: 409,
    });
    expect(
      await errorOf(await send("PATCH", `/incidents/${id}`, { severity: "loud" })),
    ).toMatchObject({ status: 400, message: expect.stringContaining("severity") });
    expect(await errorOf(await send("PATCH", `/incidents/${id}`, { reason: "x" }))).toMatchObject({
      status: 400,
      message: expect.stringContaining("severity"),
    });
    expect(await errorOf(await send("PATCH", `/incidents/${id}`, { colour: "red" }))).toMatchObject(
      {
        status: 400,
        message: expect.stringContaining("colour"),
      },
    );
    expect((await send("PATCH", `/incidents/${unknown}`, { title: "x" })).status).toBe(404);
  });
});
