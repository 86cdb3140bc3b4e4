import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { Summary } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDynamoDbClient } from "../src/embedded-dynamodb";
import { type LocalStack, TABLE_NAME } from "../src/stack";
import { type Client, client, startTestStack } from "./helpers";

const ACCOUNT = "123456789012";
const IGNORED = 24;

/** An alarm state change as EventBridge sends it, now, for the alarm named. */
function alarmEvent(alarmName: string, index: number): Record<string, unknown> {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { timestamp: string } };
  };
  const at = new Date(Date.now() - 1000 + index).toISOString();
  event.id = `0b5f4c3e-1d2a-4b6c-8e9f-${String(index).padStart(12, "0")}`;
  event.time = at.replace(/\.\d{3}Z$/, "Z");
  event.resources = [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${alarmName}`];
  event.detail.alarmName = alarmName;
  event.detail.state.timestamp = at.replace("Z", "+0000");
  return event;
}

describe("ignore rules on the local stack", () => {
  let stack: LocalStack;
  let api: Client;

  beforeAll(async () => {
    stack = await startTestStack({
      configInput: {
        services: { checkout: { match: [{ alarmName: "checkout-*" }] } },
        rules: [
          { name: "autoscaling", match: { alarmName: "TargetTracking-*" }, severity: "ignore" },
          {
            name: "checkout",
            match: { alarmName: "checkout-*" },
            severity: "critical",
            actions: [{ type: "page", channel: "oncall" }],
          },
        ],
        channels: { oncall: { sns: `arn:aws:sns:us-east-1:${ACCOUNT}:firebreak-oncall` } },
        responders: "anyone",
      },
    });
    api = client(stack);
  });
  afterAll(() => stack.stop());

  it("counts ignored TargetTracking-* alarms in the summary, never stores them, never pages them", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    // Delivered at once, so the queue hands them to the processor in batches, mixed with two
    // alarms of a service.
    const deliveries = await Promise.all([
      ...Array.from({ length: IGNORED }, (_, index) =>
        api.deliver(
          alarmEvent(`TargetTracking-table/orders-AlarmHigh-${index % 3}-5f2c6a1e`, index),
        ),
      ),
      api.deliver(alarmEvent("checkout-5xx", 100)),
      api.deliver(alarmEvent("checkout-latency", 101)),
    ]);
    expect(deliveries.slice(0, IGNORED).every(({ incidents }) => incidents.length === 0)).toBe(
      true,
    );
    const checkout = new Set(deliveries.slice(IGNORED).flatMap(({ incidents }) => incidents));
    expect(checkout.size).toBe(1);
    await stack.settle();

    // One page, for checkout's incident.
    expect(stack.outbox.entries.map((entry) => entry.incidentId)).toEqual([...checkout]);
    // Nothing in the table speaks of the ignored alarms: no incident, no pointer, no marks.
    const { Items = [] } = await localDynamoDbClient(stack.dynamodbEndpoint).send(
      new ScanCommand({ TableName: TABLE_NAME }),
    );
    expect(Items.length).toBeGreaterThan(0);
    expect(JSON.stringify(Items)).not.toContain("TargetTracking");

    const response = await api.get(`/reports/summary?since=${encodeURIComponent(since)}`);
    expect(response.status).toBe(200);
    const summary = (await response.json()) as Summary;
    expect(summary).toMatchObject({
      incidents: 1,
      ignored: IGNORED,
      inhibited: 0,
      held: { inhibited: 0, maintenance: 0, silenced: 0 },
      alertsPerIncident: { mean: 2, max: 2, distribution: { "1": 0, "2": 1 } },
      noisiestServices: [{ service: "checkout", incidents: 1, alerts: 2, signals: 2 }],
    });
    // A range that ends before the first hour anything was counted in: nothing ignored.
    const before = await api.get(
      `/reports/summary?until=${encodeURIComponent("2026-01-01T00:00:00Z")}`,
    );
    expect(await before.json()).toMatchObject({ incidents: 0, ignored: 0 });
  });
});
