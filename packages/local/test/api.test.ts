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
      rules: [
        {
          name: "api-errors",
          match: { alarmName: "api-*" },
          severity: "critical",
          actions: [
            {
              type: "scale",
              target: { kind: "ecs-service", cluster: "prod", service: "api" },
              by: 2,
              max: 10,
            },
            { type: "page", channel: "oncall" },
          ],
        },
        {
          name: "web-errors",
          match: { alarmName: "web-*" },
          severity: "critical",
          actions: [
            {
              type: "scale",
              target: { kind: "ecs-service", cluster: "prod", service: "web" },
              by: 2,
              max: 10,
            },
          ],
        },
        {
          name: "db",
          match: { namespace: "AWS/RDS" },
          severity: "critical",
          actions: [{ type: "failover", target: { kind: "rds-cluster", clusterId: "orders" } }],
        },
        { name: "everything-else", match: {}, severity: "warning" },
      ],
      channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

const post = (path: string, body?: unknown, headers: Record<string, string> = auth) =>
  api.post(path, body === undefined ? "" : body, headers);
const errorOf = async (response: Response) => ({
  status: response.status,
  ...((await response.json()) as { error: { code: string; message: string } }).error,
});

let alarms = 0;

/** Opens a fresh incident: the EventBridge alarm fixture under a new alarm name. */
async function openIncident(name = "api-errors", namespace?: string) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: {
      alarmName: string;
      configuration: { metrics: Array<{ metricStat: { metric: { namespace: string } } }> };
    };
  };
  const alarmName = `${name}-${++alarms}`;
  event.id = `api-test-${alarms}`;
  event.detail.alarmName = alarmName;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  const metric = event.detail.configuration.metrics[0];
  if (namespace && metric) metric.metricStat.metric.namespace = namespace;
  const { incidents } = await api.deliver(event);
  return incidents[0] as string;
}

describe("incident commands", () => {
  it("acknowledges once, as the token's name, and says so the second time", async () => {
    const id = await openIncident();
    const first = await post(`/incidents/${id}/acknowledge`);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      changed: true,
      message: `${id} acknowledged by api:tests`,
      incident: { status: "acknowledged", acknowledgedBy: "api:tests" },
    });
    const again = (await (await post(`/incidents/${id}/acknowledge`)).json()) as {
      changed: boolean;
      message: string;
    };
    expect(again).toMatchObject({
      changed: false,
      message: expect.stringContaining("already acknowledged by api:tests"),
    });
  });

  it("adds notes and resolves with a note, in the timeline with who did it", async () => {
    const id = await openIncident("other");
    expect((await post(`/incidents/${id}/notes`, { text: "looking at the writer" })).status).toBe(
      200,
    );
    const resolved = await post(`/incidents/${id}/resolve`, { note: "failed over by hand" });
    expect(await resolved.json()).toMatchObject({
      changed: true,
      incident: { status: "resolved", resolvedBy: "api:tests" },
    });
    const incident = await api.incident(id);
    expect(incident.timeline).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "note", by: "api:tests", text: "looking at the writer" }),
        expect.objectContaining({
          type: "resolved",
          by: "api:tests",
          reason: "failed over by hand",
        }),
      ]),
    );
    expect((await (await post(`/incidents/${id}/resolve`, {})).json()) as object).toMatchObject({
      changed: false,
    });
  });

  it("approves an action waiting for approval, which then runs (simulated)", async () => {
    const id = await openIncident("orders-db-writer", "AWS/RDS");
    const detail = await api.incident(id);
    expect(detail.rule).toBe("db");
    const waiting = (detail as unknown as { actions: Array<{ id: string; status: string }> })
      .actions[0];
    expect(waiting).toMatchObject({ id: "a1", status: "awaiting-approval" });
    const approved = await post(`/incidents/${id}/actions/a1/approve`);
    expect(await approved.json()).toMatchObject({
      changed: true,
      message: `${id}/a1 approved by api:tests`,
    });
    await waitFor(async () => {
      const actions = (
        (await api.incident(id)) as unknown as { actions: Array<{ status: string }> }
      ).actions;
      return actions[0]?.status === "simulated";
    });
    const calls = (await (await api.get("/local/aws")).json()) as {
      calls: Array<{ operation: string }>;
    };
    expect(calls.calls.map((call) => call.operation)).toContain("FailoverDBCluster");
  });

  it("shows every action with the exact request made", async () => {
    // Its own target: prod/api is in its cooldown from the incidents above.
    const id = await openIncident("web-5xx");
    await waitFor(async () => {
      const actions = (
        (await api.incident(id)) as unknown as { actions: Array<{ status: string }> }
      ).actions;
      return actions.length > 0 && actions.every((action) => action.status !== "planned");
    });
    const { actions } = (await api.incident(id)) as unknown as {
      actions: Array<{ type: string; status: string; requests: unknown[]; target: unknown }>;
    };
    expect(actions[0]).toMatchObject({
      type: "scale",
      status: "simulated",
      target: { kind: "ecs-service", cluster: "prod", service: "web" },
      requests: [
        {
          service: "ecs",
          operation: "UpdateService",
          input: { cluster: "prod", service: "web", desiredCount: 4 },
        },
      ],
    });
  });

  it("refuses bad ids, unknown incidents and bad bodies with clear 4xx", async () => {
    const id = await openIncident();
    expect(await errorOf(await post("/incidents/NOPE!!!/acknowledge"))).toMatchObject({
      status: 400,
    });
    expect(await errorOf(await post("/incidents/ZZZZZZZ/acknowledge"))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    expect(await errorOf(await post(`/incidents/${id}/actions/a9/approve`))).toMatchObject({
      status: 404,
    });
    expect(await errorOf(await post(`/incidents/${id}/actions/x/approve`))).toMatchObject({
      status: 400,
    });
    expect(await errorOf(await post(`/incidents/${id}/notes`, { text: "" }))).toMatchObject({
      status: 400,
      message: expect.stringContaining("text"),
    });
    expect(
      await errorOf(await post(`/incidents/${id}/notes`, { text: "x", extra: 1 })),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining("extra: unknown key"),
    });
    expect(await errorOf(await post(`/incidents/${id}/notes`, "{bad json"))).toMatchObject({
      status: 400,
    });
    const form = await api.post(`/incidents/${id}/notes`, "text=hi", {
      ...auth,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(await errorOf(form)).toMatchObject({ status: 415 });
    expect((await post(`/incidents/${id}/acknowledge`, undefined, {})).status).toBe(401);
  });
});

describe("silences", () => {
  it("creates, lists and removes silences; a silenced incident is recorded, nothing responds", async () => {
    const created = await post("/silences", {
      matcher: "alarmName=payments-*",
      duration: "1h",
      reason: "migration",
    });
    expect(created.status).toBe(201);
    const silence = (await created.json()) as {
      id: string;
      match: object;
      endsAt: string;
      createdBy: string;
    };
    expect(silence).toMatchObject({ match: { alarmName: "payments-*" }, createdBy: "api:tests" });
    const listed = (await (await api.get("/silences")).json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((item) => item.id)).toContain(silence.id);

    // Pages of earlier tests may still be on their way through the stream.
    await stack.settle();
    const before = ((await (await api.get("/local/outbox")).json()) as { items: unknown[] }).items
      .length;
    const id = await openIncident("payments-backlog");
    const incident = (await api.incident(id)) as unknown as {
      silencedBy: string;
      count: number;
      timeline: Array<{ type: string; silenceId?: string }>;
      actions: Array<{ status: string; reason: string }>;
    };
    expect(incident.silencedBy).toBe(silence.id);
    expect(incident.timeline).toContainEqual(
      expect.objectContaining({ type: "silenced", silenceId: silence.id }),
    );
    expect(
      incident.actions.every(
        (action) => action.status === "skipped" && action.reason.includes(silence.id),
      ),
    ).toBe(true);
    await stack.settle();
    const after = ((await (await api.get("/local/outbox")).json()) as { items: unknown[] }).items
      .length;
    expect(after).toBe(before);

    expect((await api.post(`/silences/${silence.id}`, "", auth)).status).toBe(404);
    const removed = await fetch(`${stack.url}/silences/${silence.id.toLowerCase()}`, {
      method: "DELETE",
      headers: auth,
    });
    expect(await removed.json()).toEqual({ removed: silence.id });
    const gone = await fetch(`${stack.url}/silences/${silence.id}`, {
      method: "DELETE",
      headers: auth,
    });
    expect(gone.status).toBe(404);
  });

  it("refuses silences that do not make sense", async () => {
    expect(
      await errorOf(await post("/silences", { matcher: "colour=red", duration: "1h" })),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining("colour"),
    });
    expect(
      await errorOf(await post("/silences", { matcher: "alarmName=x", duration: "forever" })),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining("duration"),
    });
    expect(
      await errorOf(await post("/silences", { matcher: "alarmName=x", duration: "90d" })),
    ).toMatchObject({ status: 400 });
    expect(await errorOf(await post("/silences", { duration: "1h" }))).toMatchObject({
      status: 400,
    });
  });
});

describe("reports", () => {
  it("serves the post-mortem as Markdown by default and JSON on request", async () => {
    const id = await openIncident("checkout-worker");
    const markdown = await api.get(`/incidents/${id}/postmortem`);
    expect(markdown.headers.get("content-type")).toMatch(/^text\/markdown/);
    const text = await markdown.text();
    expect(text).toMatch(/^# Post-mortem: checkout-worker-\d+/);
    expect(text).toContain("## Root cause");
    const json = await api.get(`/incidents/${id}/postmortem`, {
      ...auth,
      accept: "application/json",
    });
    expect(await json.json()).toMatchObject({
      incident: { id },
      signalCount: 1,
      timeToAcknowledgeSeconds: null,
      timeline: expect.any(Array),
      actions: expect.any(Array),
    });
  });

  it("summarises MTTA and MTTR by severity over a time range", async () => {
    const response = await api.get("/reports/summary?since=2000-01-01T00:00:00Z");
    expect(response.status).toBe(200);
    const summary = (await response.json()) as { bySeverity: unknown; noisiest: unknown[] };
    expect(summary).toMatchObject({ noisiest: expect.any(Array) });
    expect(await errorOf(await api.get("/reports/summary?since=yesterday"))).toMatchObject({
      status: 400,
    });
  });
});

describe("the OpenAPI description", () => {
  it("describes every route, from the schemas that validate them, without a token", async () => {
    const response = await api.get("/openapi.json", {});
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    };
    expect(document.openapi).toBe("3.1.0");
    // Every route the api function is deployed behind, and no other.
    const deployed = stack.topology.routes
      .filter((route) => route.function === "api")
      .map((route) => route.path);
    expect(Object.keys(document.paths).sort()).toEqual([...new Set(deployed)].sort());
    expect(Object.keys(document.paths)).toContain("/oncall");
    const list = document.paths["/incidents"]?.get;
    expect(list?.parameters?.map((parameter) => parameter.name)).toEqual([
      "status",
      "severity",
      "source",
      "service",
      "since",
      "until",
      "limit",
      "cursor",
    ]);
  });
});

describe("listing", () => {
  it("filters and pages", async () => {
    for (const name of [
      "cloudwatch/eventbridge-composite.json",
      "cloudwatch/alarm-action-ok.json",
    ]) {
      await api.deliver(loadEvent(name));
    }
    const critical = (await (await api.get("/incidents?severity=critical&limit=2")).json()) as {
      items: Array<{ severity: string }>;
      nextCursor: string | null;
    };
    expect(critical.items.every((item) => item.severity === "critical")).toBe(true);
    expect(critical.nextCursor).not.toBeNull();
    const next = await api.get(
      `/incidents?severity=critical&limit=2&cursor=${encodeURIComponent(critical.nextCursor as string)}`,
    );
    expect(next.status).toBe(200);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
