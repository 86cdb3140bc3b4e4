import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shippedConfig from "../../../monitoring.config";
import type { LocalStack } from "../src/stack";
import { type Client, client, drained, startTestStack } from "./helpers";

let stack: LocalStack;
let api: Client;

beforeAll(async () => {
  stack = await startTestStack({ configInput: shippedConfig });
  api = client(stack);
});
afterAll(() => stack.stop());

interface Outbox {
  items: Array<{ incidentId: string; kind: string; channel: string; transport: string }>;
}

describe("the shipped policy", () => {
  it("makes one failing Lambda one incident and one page: its alarm, its log errors and its Sentry issue are alerts of checkout", async () => {
    const alarm = await api.deliver("cloudwatch/sns-lambda-single-metric.json");
    const logs = await api.deliver("logs/lambda-timeout.json");
    const sentry = await api.sentry("issue-created.json");
    expect(sentry.status).toBe(202);
    // The webhook's 202 means queued: wait for the processor, then for dispatch.
    await drained(stack);
    await stack.settle();

    const ids = new Set([...alarm.incidents, ...logs.incidents]);
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [string];
    const incident = (await api.incident(id)) as unknown as {
      service: string | null;
      runbook: string | null;
      severity: string;
      alerts: Array<{ source: string; description: string | null }>;
    };
    expect(incident.service).toBe("checkout");
    expect(incident.runbook).toBe("https://wiki.example.com/runbooks/checkout");
    expect(incident.severity).toBe("critical");
    expect(incident.alerts.map((alert) => alert.source).sort()).toEqual([
      "cloudwatch",
      "logs",
      "sentry",
    ]);
    expect(incident.alerts.find((alert) => alert.source === "cloudwatch")?.description).toBe(
      "Checkout targets answering 5xx: 25 or more per minute, 2 minutes running",
    );

    const outbox = (await (await api.get("/local/outbox")).json()) as Outbox;
    const pages = outbox.items.filter((item) => item.kind === "page");
    expect(pages.map((page) => `${page.incidentId}:${page.channel}:${page.transport}`)).toEqual([
      `${id}:oncall:sns`,
    ]);
  });

  it("drops autoscaling's own TargetTracking alarms before any incident exists", async () => {
    const response = await api.post("/local/events?wait=true", {
      version: "0",
      id: "target-tracking-1",
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-service/prod/checkout-api-AlarmHigh-1a2b3c",
      ],
      detail: {
        alarmName: "TargetTracking-service/prod/checkout-api-AlarmHigh-1a2b3c",
        state: {
          value: "ALARM",
          reason: "Threshold Crossed",
          timestamp: new Date().toISOString().replace("Z", "+0000"),
        },
        previousState: { value: "OK", reason: "", timestamp: "2026-01-01T00:00:00.000+0000" },
        configuration: { metrics: [] },
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, incidents: [] });
  });
});
