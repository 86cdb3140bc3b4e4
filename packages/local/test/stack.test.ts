import { createHmac } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../src/lambda";
import type { LocalStack } from "../src/stack";
import {
  type Client,
  client,
  drained,
  SENTRY_SECRET,
  sentryIssueWebhook,
  startTestStack,
  TOKEN,
} from "./helpers";

let stack: LocalStack;
let api: Client;
beforeAll(async () => {
  stack = await startTestStack();
  api = client(stack);
});
afterAll(() => stack.stop());

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string; state: { timestamp: string } };
}

/**
 * The EventBridge alarm fixture as another delivery would bring it: a new event id, and
 * optionally another state time or another alarm.
 */
function again(id: string, at?: string, alarmName?: string): AlarmEvent {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as AlarmEvent;
  event.id = id;
  if (at) event.detail.state.timestamp = at;
  if (alarmName) {
    event.detail.alarmName = alarmName;
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  }
  return event;
}

describe("local stack: CloudWatch alarms end to end", () => {
  it("answers /health", async () => {
    const response = await api.get("/health", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("opens, deduplicates, counts and resolves an incident, then opens the next one", async () => {
    const opened = await api.deliver("cloudwatch/eventbridge-alarm.json");
    expect(opened).toMatchObject({ accepted: 1, incidents: [expect.any(String)] });
    const id = opened.incidents[0] as string;

    // The same delivery again (an EventBridge retry) changes nothing.
    await api.deliver("cloudwatch/eventbridge-alarm.json");
    expect((await api.incident(id)).count).toBe(1);

    // Another ALARM for the same alarm folds into the same incident.
    const repeat = await api.deliver(again("repeat-1", "2024-11-05T14:10:00.000+0000"));
    expect(repeat.incidents).toEqual([id]);

    const resolved = await api.deliver("cloudwatch/eventbridge-alarm-ok.json");
    expect(resolved.incidents).toEqual([id]);
    const incident = await api.incident(id);
    expect(incident).toMatchObject({
      status: "resolved",
      count: 2,
      severity: "warning",
      rule: "metric-alarms",
      resolvedBy: "recovery:cloudwatch",
    });
    expect(incident.timeline.map((entry) => entry.type)).toEqual(["opened", "signals", "resolved"]);

    const reopened = await api.deliver(again("reopen-1", "2024-11-05T15:00:00.000+0000"));
    expect(reopened.incidents).toHaveLength(1);
    expect(reopened.incidents[0]).not.toBe(id);
    expect((await api.incident(reopened.incidents[0] as string)).sequence).toBe(2);
  });

  it("takes SNS (Lambda event and bare envelope) and direct alarm actions", async () => {
    const sns = await api.deliver("cloudwatch/sns-lambda-single-metric.json");
    const envelope = await api.deliver("cloudwatch/sns-https-notification.json");
    const action = await api.deliver("cloudwatch/alarm-action.json");
    for (const result of [sns, envelope, action]) expect(result.incidents).toHaveLength(1);
    expect((await api.incident(sns.incidents[0] as string)).severity).toBe("critical");
    const ok = await api.deliver("cloudwatch/sns-lambda-ok.json");
    expect(ok.incidents).toEqual(sns.incidents);
    expect((await api.incident(sns.incidents[0] as string)).status).toBe("resolved");
  });

  it("accepts events it ignores, with nothing opened", async () => {
    for (const name of [
      "cloudwatch/eventbridge-configuration-change.json",
      "cloudwatch/sns-https-subscription-confirmation.json",
      "logs/control-message.json",
    ]) {
      expect(await api.deliver(name)).toEqual({ accepted: 1, incidents: [] });
    }
  });

  it("takes an array of events in one request", async () => {
    const events = [
      "cloudwatch/eventbridge-metric-math.json",
      "cloudwatch/eventbridge-composite.json",
    ].map(loadEvent);
    const result = await api.deliver(events);
    expect(result).toMatchObject({ accepted: 2 });
    expect(result.incidents).toHaveLength(2);
  });
});

describe("local stack: CloudWatch Logs", () => {
  it("answers GET /local/metrics?settle=true once the dispatcher has run the pages planned", async () => {
    const { incidents } = await api.deliver("logs/lambda-timeout.json");
    expect(incidents).toHaveLength(1);
    const answer = await api.get("/local/metrics?settle=true&pending=true", {});
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ pendingIncidents: 0 });
    const paged = stack.outbox.entries.filter((entry) => entry.incidentId === incidents[0]);
    expect(paged.map((entry) => entry.kind)).toEqual(["page"]);
  });

  it("captures what each invocation queued while others start and end beside it", async () => {
    const ingest = stack.functions.ingest;
    const subscription = loadEvent("logs/lambda-timeout.json");
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The later capture ends first: the earlier one, still running, must keep capturing.
    const waiting = stack.capturingQueued(async () => {
      await held;
      return ingest(subscription, lambdaContext("ingest"));
    });
    const first = await stack.capturingQueued(() => ingest(subscription, lambdaContext("ingest")));
    release();
    const second = await waiting;
    // And one that starts after every capture has ended.
    const third = await stack.capturingQueued(() => ingest(subscription, lambdaContext("ingest")));
    for (const { queued } of [first, second, third]) expect(queued).toHaveLength(1);
    expect(new Set([first, second, third].flatMap(({ queued }) => queued)).size).toBe(3);
  });

  it("opens one incident per error signature and folds repeats", async () => {
    const timeout = await api.deliver("logs/lambda-timeout.json");
    expect(timeout.incidents).toHaveLength(1);
    const incident = await api.incident(timeout.incidents[0] as string);
    expect(incident).toMatchObject({
      source: "logs",
      severity: "critical",
      rule: "lambda-timeouts",
    });
    const errors = await api.deliver("logs/plain-text-errors.json");
    expect(errors.incidents).toHaveLength(3);
  });
});

describe("local stack: Sentry", () => {
  it("verifies the signature and folds an issue's webhooks into one incident", async () => {
    expect((await api.sentry("event-alert-triggered.json")).status).toBe(202);
    expect((await api.sentry("issue-created.json")).status).toBe(202);
    await drained(stack);
    const page = (await (await api.get("/incidents?source=sentry&status=open")).json()) as {
      items: Array<{ id: string; fingerprint: string; count: number; severity: string }>;
    };
    const issue = page.items.find((item) => item.fingerprint === "sentry:issue:5873421906");
    expect(issue).toMatchObject({ count: 2, severity: "critical" });

    expect((await api.sentry("issue-resolved.json")).status).toBe(202);
    await drained(stack);
    expect((await api.incident(issue?.id as string)).status).toBe("resolved");
  });

  it("answers ?wait=true once its own issue is an incident, side by side and one after another", async () => {
    const fingerprints = async () => {
      const page = (await (await api.get("/incidents?source=sentry&limit=200")).json()) as {
        items: Array<{ fingerprint: string }>;
      };
      return new Set(page.items.map((item) => item.fingerprint));
    };
    // Each waiting request must see its own issue stored when it is answered, whether other
    // requests' captures are running beside it or have all ended before it began.
    const waitFor = async (index: number) => {
      const issue = 6_100_000_000 + index;
      const { body, headers } = sentryIssueWebhook(issue);
      const response = await fetch(`${stack.url}/webhooks/sentry?wait=true`, {
        method: "POST",
        headers,
        body,
      });
      expect(response.status).toBe(202);
      expect((await fingerprints()).has(`sentry:issue:${issue}`)).toBe(true);
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(waitFor));
    await waitFor(6);
    await waitFor(7);
  });

  it("refuses a wrong or missing signature with 401 and changes nothing", async () => {
    const wrong = await api.sentry("metric-alert-critical.json", { signature: "0".repeat(64) });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: {
        code: "unauthorized",
        message: "Sentry-Hook-Signature is missing or does not match the body",
      },
    });
    const original = loadRawEvent("sentry/metric-alert-critical.json");
    const tampered = await api.sentry("metric-alert-critical.json", {
      body: original.replace('"critical"', '"warning"'),
      signature: createHmac("sha256", SENTRY_SECRET).update(original).digest("hex"),
    });
    expect(tampered.status).toBe(401);
    const missing = await api.post("/webhooks/sentry", loadRawEvent("sentry/issue-created.json"), {
      "sentry-hook-resource": "issue",
    });
    expect(missing.status).toBe(401);
  });

  it("acknowledges installation webhooks and unknown resources without a signal", async () => {
    const response = await api.sentry("installation-created.json");
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: 0 });
  });

  it("answers 400 for a signed body that is not a valid webhook", async () => {
    const response = await api.sentry("issue-created.json", {
      body: '{"action":"created","data":{}}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /^invalid Sentry issue webhook: body\./,
    );
  });
});

describe("local stack: bad input", () => {
  const errorOf = async (response: Response) => {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  };

  it("refuses what is not an AWS event, naming the problem, and delivers nothing", async () => {
    const before = stack.queue.stats().sent;
    expect(await errorOf(await api.post("/local/events", "{nope"))).toMatchObject({
      status: 400,
      code: "invalid_event",
      message: expect.stringContaining("not JSON"),
    });
    expect(await errorOf(await api.post("/local/events", { hello: 1 }))).toMatchObject({
      status: 400,
      message: expect.stringContaining("unsupported event with keys [hello]"),
    });
    const mixed = [
      loadEvent("cloudwatch/eventbridge-alarm.json"),
      { detail: 1, "detail-type": "x", source: "aws.cloudwatch" },
    ];
    expect(await errorOf(await api.post("/local/events", mixed))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^events\[1\]: invalid EventBridge event/),
    });
    expect(await errorOf(await api.post("/local/events", []))).toMatchObject({ status: 400 });
    expect(stack.queue.stats().sent).toBe(before);
  });

  it("refuses bodies over 256 KB with 413", async () => {
    const response = await api.post("/local/events", "x".repeat(257 * 1024));
    expect(response.status).toBe(413);
  });

  it("guards the API with bearer tokens", async () => {
    expect((await api.get("/incidents", {})).status).toBe(401);
    expect(
      (await api.get("/incidents", { authorization: "Bearer wrong-token-0000000000" })).status,
    ).toBe(401);
    expect((await api.get("/incidents", { authorization: TOKEN })).status).toBe(401);
    expect((await api.get("/incidents")).status).toBe(200);
  });

  it("answers 400 for bad parameters and 404 for unknown incidents and routes", async () => {
    expect(await errorOf(await api.get("/incidents?status=burning"))).toMatchObject({
      status: 400,
      message: expect.stringContaining("status"),
    });
    expect(await errorOf(await api.get("/incidents?limit=0"))).toMatchObject({ status: 400 });
    expect(await errorOf(await api.get("/incidents?colour=red"))).toMatchObject({
      status: 400,
      message: expect.stringContaining("colour: unknown key"),
    });
    expect(await errorOf(await api.get("/incidents?cursor=abc"))).toMatchObject({ status: 400 });
    expect(await errorOf(await api.get("/incidents/ZZZZZZZ"))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    expect(await errorOf(await api.get("/incidents/not-an-id!"))).toMatchObject({ status: 400 });
    expect((await api.get("/nowhere")).status).toBe(404);
    expect((await api.post("/incidents", {}, { authorization: `Bearer ${TOKEN}` })).status).toBe(
      404,
    );
  });
});

describe("local stack: the Lambda Invoke API", () => {
  it("invokes a function by name, as `aws lambda invoke --endpoint-url` does", async () => {
    const response = await api.post(
      "/2015-03-31/functions/ingest/invocations",
      loadRawEvent("logs/lambda-errors-json.json"),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, note: null });
    await drained(stack);
  });

  it("reports function errors the way Lambda does", async () => {
    const response = await api.post("/2015-03-31/functions/ingest/invocations", { hello: 1 });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await response.json()).toMatchObject({ errorType: "InvalidEventError" });
    const missing = await api.post("/2015-03-31/functions/nope/invocations", {});
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
  });
});

describe("local stack: concurrency and persistence", () => {
  it("keeps the exact count with 64 concurrent deliveries for one alarm", async () => {
    // 64 state changes, each at its own second: one change through two paths is one signal.
    const deliveries = Array.from({ length: 64 }, (_, index) =>
      again(
        `concurrent-${index}`,
        new Date(Date.UTC(2024, 10, 7, 10, 0, index)).toISOString().replace("Z", "+0000"),
        "concurrency-test",
      ),
    );
    const results = await Promise.all(deliveries.map((delivery) => api.deliver(delivery)));
    const ids = new Set(results.flatMap((result) => result.incidents));
    expect(ids.size).toBe(1);
    expect((await api.incident([...ids][0] as string)).count).toBe(64);
  });

  // Its own timeout: two stacks start one after the other (on DynamoDB Local, a JVM each time).
  it("keeps incidents and queued events across a restart on the same DATA_DIR", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "firebreak-stack-"));
    const first = await startTestStack({ dataDir });
    const opened = await client(first).deliver("cloudwatch/alarm-action.json");
    await first.stop();
    const second = await startTestStack({ dataDir });
    try {
      expect((await client(second).incident(opened.incidents[0] as string)).status).toBe(
        "triggered",
      );
    } finally {
      await second.stop();
    }
  }, 120_000);
});
