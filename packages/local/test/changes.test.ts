import { type Change, ChangeSchema } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

let stack: LocalStack;
let api: Client;
const auth = { authorization: `Bearer ${TOKEN}` };
const MINUTE = 60_000;

beforeAll(async () => {
  stack = await startTestStack({
    configInput: {
      rules: [
        { name: "checkout", match: { alarmName: "checkout-*" }, severity: "critical" },
        { name: "search", match: { alarmName: "search-*" }, severity: "critical" },
        { name: "payments", match: { alarmName: "payments-*" }, severity: "critical" },
      ],
      services: {
        checkout: {
          match: [{ source: "cloudwatch", alarmName: "checkout-*" }],
          dependsOn: ["orders-db"],
          changes: [{ functionName: "checkout-*" }],
          watch: { bake: "15m", alarms: ["checkout-5xx"] },
          // Each alarm its own incident here: the test asks what each one planned.
          group: false,
        },
        "orders-db": {
          match: [{ source: "cloudwatch", alarmName: "orders-db-*" }],
          changes: [{ application: "myApplication" }],
        },
        payments: {
          match: [{ source: "cloudwatch", alarmName: "payments-*" }],
          changes: [{ functionName: "payments-*", alias: "live" }],
          watch: { bake: "10m", alarms: ["payments-5xx"] },
          group: false,
        },
        search: {
          match: [{ source: "cloudwatch", alarmName: "search-*" }],
          changes: [{ cluster: "default" }],
          watch: { bake: "15m" },
          group: false,
        },
      },
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

const post = (body: unknown) => api.post("/changes", body, auth);
const list = async (query: string) => {
  const response = await api.get(`/changes${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: Change[]; nextCursor: string | null };
};
const iso = (time: number) => new Date(time).toISOString();

/** The documented alarm sample, renamed and fired now. */
function alarm(name: string, at: number) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { timestamp: string } };
  };
  event.id = `${name}-${at}`;
  event.time = iso(at).replace(/\.\d{3}Z$/, "Z");
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.state.timestamp = iso(at).replace("Z", "+0000");
  return event;
}

describe("POST /changes", () => {
  it("records a change: 201 with it, and the same body again is the same change", async () => {
    const body = {
      service: "orders-db",
      version: "2026.12.01-1",
      previousVersion: "2026.11.30-4",
      commit: "9fceb02",
      author: "ci",
      url: "https://ci.example.com/runs/77",
      at: iso(Date.now() - 20 * MINUTE),
    };
    const first = await post(body);
    expect(first.status).toBe(201);
    const change = ChangeSchema.parse(await first.json());
    expect(change).toEqual({
      ...body,
      id: expect.stringMatching(/^api:[0-9a-f]{24}$/),
      target: null,
      origin: "api",
      account: null,
    });
    const again = await post(body);
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(change);
    expect((await list("?service=orders-db")).items).toEqual([change]);
  });

  it.each([
    [{ version: "1" }, "service"],
    [{ service: "checkout" }, "version"],
    [{ service: "checkout", version: "1", at: "yesterday" }, "at"],
    [
      { service: "checkout", version: "1", target: { kind: "lambda-alias" } },
      "target.functionName",
    ],
    [{ service: "checkout", version: "1", url: "ftp://x" }, "url"],
    [{ service: "checkout", version: "1", owner: "me" }, "owner"],
    [{ service: "checkout", version: "line\nbreak" }, "version"],
  ])("400 naming the bad field: %j", async (body, field) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain(field);
  });

  it("400 for an unknown service, listing the services", async () => {
    const response = await post({ service: "billing", version: "1" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "invalid_request",
        message:
          'invalid body: service: unknown service "billing" (services: checkout, orders-db, payments, search)',
      },
    });
    const query = await api.get("/changes?service=billing");
    expect(query.status).toBe(400);
  });

  it("answers 401 without a token", async () => {
    expect((await api.post("/changes", { service: "checkout", version: "1" })).status).toBe(401);
  });
});

describe("deploy events", () => {
  it("become changes of the service their target belongs to, once however often delivered", async () => {
    // AWS's sample, moved to this morning: a 2016 deploy is past the retention (expired).
    const at = new Date(Date.now() - 2 * 3_600_000);
    const success = {
      ...(loadEvent("changes/codedeploy-deployment-success.json") as object),
      time: iso(at.getTime()),
    };
    await api.deliver(success);
    await api.deliver(success);
    // Deploys nothing: the deployed rule does not even deliver it.
    await api.deliver(loadEvent("changes/codedeploy-deployment-start.json"));
    const deploys = (
      await list(`?service=orders-db&since=${iso(at.getTime() - MINUTE)}`)
    ).items.filter((change) => change.origin === "codedeploy");
    expect(deploys).toEqual([
      expect.objectContaining({
        id: "codedeploy:d-123456789",
        service: "orders-db",
        version: "d-123456789",
        at: iso(at.getTime()),
        target: {
          kind: "codedeploy",
          application: "myApplication",
          deploymentGroup: "myDeploymentGroup",
          region: "us-east-1",
        },
      }),
    ]);
  });

  it("lists changes page by page, newest first", async () => {
    const at = Date.now() - 50 * MINUTE;
    for (let n = 1; n <= 5; n++) {
      expect(
        (await post({ service: "search", version: `v${n}`, at: iso(at + n * 1000) })).status,
      ).toBe(201);
    }
    const versions: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(
        `?service=search&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      versions.push(...page.items.map((change) => change.version));
      cursor = page.nextCursor;
    } while (cursor);
    expect(versions).toEqual(["v5", "v4", "v3", "v2", "v1"]);
    expect((await list(`?service=search&since=${iso(at + 4000)}`)).items).toHaveLength(2);
  });
});

describe("deploy watching", () => {
  it("rolls back exactly the deploy an alarm of the watch list caught in its bake window", async () => {
    const now = Date.now();
    const target = { kind: "lambda-alias", functionName: "checkout-api", alias: "live" } as const;
    // What the deploys did in AWS: the alias went 41 → 42 yesterday and 42 → 43 six minutes ago.
    const older = {
      service: "checkout",
      version: "42",
      previousVersion: "41",
      target,
      at: iso(now - 86_400_000),
    };
    const deploy = {
      service: "checkout",
      version: "43",
      previousVersion: "42",
      target,
      commit: "abc123",
      author: "ci",
      at: iso(now - 6 * MINUTE),
    };
    // Reported by the pipeline; the local stack's simulated alias follows each change.
    for (const body of [older, deploy]) expect((await post(body)).status).toBe(201);
    const recorded = (await list("?service=checkout")).items[0] as Change;
    expect(recorded).toMatchObject({ version: "43", previousVersion: "42" });

    const { incidents } = await api.deliver(alarm("checkout-5xx", now));
    expect(incidents).toHaveLength(1);
    const id = incidents[0] as string;
    await stack.settle();

    const incident = (await api.incident(id)) as unknown as {
      changes: Change[];
      actions: Array<{
        id: string;
        type: string;
        rule: string;
        status: string;
        reason: string | null;
      }>;
      timeline: Array<{ type: string; id?: string; reason?: string | null; status?: string }>;
    };
    // Its own deploy and its dependency's (orders-db, 20 minutes before); not yesterday's.
    expect(incident.changes.map((change) => change.version)).toEqual(["43", "2026.12.01-1"]);
    const rollbacks = incident.actions.filter((action) => action.type === "rollback");
    expect(rollbacks).toEqual([
      expect.objectContaining({ rule: "watch:checkout", status: "simulated" }),
    ]);
    const planned = incident.timeline.find(
      (entry) =>
        entry.type === "action" && entry.id === rollbacks[0]?.id && entry.status === "planned",
    );
    expect(planned?.reason).toBe(
      "rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window",
    );
    const updates = stack.simulation.calls.filter(
      (call) => call.operation === "UpdateAlias" && call.input.FunctionName === "checkout-api",
    );
    expect(updates.map((call) => call.input)).toEqual([
      expect.objectContaining({
        FunctionName: "checkout-api",
        Name: "live",
        FunctionVersion: "42",
      }),
    ]);

    const report = await api.get(`/incidents/${id}/postmortem`);
    const markdown = await report.text();
    expect(markdown).toContain(
      "- **rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window**",
    );
    expect(markdown).toContain(
      "- changed 6 minutes before: checkout 42 → 43 by ci (commit abc123)",
    );
  });

  it("rolls back a Lambda alias update seen through CloudTrail to the version before it", async () => {
    const now = Date.now();
    // AWS's UpdateAlias samples on payments-api, 8 and 3 minutes ago: 43, then 44.
    const update = (name: string, version: string, at: number) => {
      const event = structuredClone(loadEvent(`changes/${name}.json`)) as {
        time: string;
        detail: {
          eventTime: string;
          requestParameters: { functionName: string; functionVersion: string };
          responseElements: { functionVersion: string };
        };
      };
      event.time = iso(at).replace(/\.\d{3}Z$/, "Z");
      event.detail.eventTime = event.time;
      const request = event.detail.requestParameters;
      request.functionName = request.functionName.replace("checkout-api", "payments-api");
      request.functionVersion = version;
      event.detail.responseElements.functionVersion = version;
      return event;
    };
    await api.deliver(update("lambda-update-alias", "43", now - 8 * MINUTE));
    await api.deliver(update("lambda-update-alias-arn", "44", now - 3 * MINUTE));
    const [latest] = (await list("?service=payments")).items;
    expect(latest).toMatchObject({
      version: "44",
      previousVersion: "43",
      origin: "lambda",
      author: "AWSReservedSSO_Deployer_0123456789abcdef/alice@example.com",
      target: { kind: "lambda-alias", functionName: "payments-api", alias: "live" },
    });

    const { incidents } = await api.deliver(alarm("payments-5xx", now));
    await stack.settle();
    const incident = (await api.incident(incidents[0] as string)) as unknown as {
      actions: Array<{ type: string; rule: string; status: string }>;
    };
    expect(incident.actions).toEqual([
      expect.objectContaining({ type: "rollback", rule: "watch:payments", status: "simulated" }),
    ]);
    const updates = stack.simulation.calls.filter(
      (call) => call.operation === "UpdateAlias" && call.input.FunctionName === "payments-api",
    );
    expect(updates.map((call) => call.input.FunctionVersion)).toEqual(["43"]);
  });

  it("leaves alone an alarm outside the list, and a deploy older than the bake window", async () => {
    const now = Date.now();
    const latency = await api.deliver(alarm("checkout-latency", now));
    await stack.settle();
    const quiet = await api.incident(latency.incidents[0] as string);
    expect((quiet as unknown as { actions: unknown[] }).actions).toEqual([]);

    // search watches every critical incident; its last change is 50 minutes old.
    const search = await api.deliver(alarm("search-errors", now));
    await stack.settle();
    const late = (await api.incident(search.incidents[0] as string)) as unknown as {
      actions: unknown[];
      changes: Change[];
    };
    expect(late.actions).toEqual([]);
    expect(late.changes.map((change) => change.version)).toEqual(["v5", "v4", "v3", "v2", "v1"]);
  });
});
