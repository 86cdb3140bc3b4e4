import {
  ChangeSchema,
  executeRemediation,
  RollbackActionSchema,
  type RunnableAction,
  summariseMetric,
} from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import { SimulatedAws } from "../src/simulated-aws";
import { SimulatedCloudWatch } from "../src/simulated-cloudwatch";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 30);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The documented EventBridge alarm event, its state changed at `at`. */
function eventBridgeAlarm(state: "ALARM" | "OK", at: number, account = "123456789012") {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    account: string;
    detail: { state: { value: string; timestamp: string } };
  };
  event.account = account;
  event.detail.state.value = state;
  // CloudWatch's own spelling: "+0000", no colon.
  event.detail.state.timestamp = iso(at).replace("Z", "+0000");
  return event;
}

describe("SimulatedCloudWatch", () => {
  it("follows EventBridge alarm events: state, account, and the metric from the configuration and reasonData", async () => {
    let now = NOW;
    const cloudwatch = new SimulatedCloudWatch(() => now);

    expect(cloudwatch.observe(eventBridgeAlarm("ALARM", NOW - 2 * MINUTE))).toBe(true);
    now += 10 * MINUTE;
    cloudwatch.observe(eventBridgeAlarm("OK", NOW + 4 * MINUTE));

    expect(await cloudwatch.alarmStates(["api-checkout-latency"], "123456789012")).toEqual([
      {
        alarmName: "api-checkout-latency",
        state: "OK",
        since: iso(NOW + 4 * MINUTE),
        reason: expect.stringContaining("Threshold Crossed"),
      },
    ]);
    const series = await cloudwatch.metricSeries(
      "api-checkout-latency",
      NOW - 5 * MINUTE,
      NOW + 6 * MINUTE,
      "123456789012",
    );
    expect(series).toMatchObject({
      label: "AWS/ApplicationELB TargetResponseTime (Average, 60s)",
      periodSeconds: 60,
      statistic: "Average",
      threshold: 1.5,
      comparison: "GreaterThanThreshold",
    });
    // OK (the event's previous state) until the alarm, over the threshold while in ALARM.
    expect(series?.points.map((point) => [point.at.slice(11, 16), point.value])).toEqual([
      ["11:56", 0.75],
      ["11:57", 0.75],
      ["11:58", 2.25],
      ["11:59", 2.25],
      ["12:00", 2.25],
      ["12:01", 2.25],
      ["12:02", 2.25],
      ["12:03", 2.25],
      ["12:04", 0.75],
      ["12:05", 0.75],
      ["12:06", 0.75],
    ]);
    expect(summariseMetric(series ?? never(), [{ at: iso(NOW), label: "the scale-out" }])).toBe(
      "peak 2.25, under the threshold 4 minutes after the scale-out",
    );
  });

  it("follows SNS notifications (HTTPS envelope) with the Trigger's threshold, comparison and unit", async () => {
    const cloudwatch = new SimulatedCloudWatch(() => NOW);
    const envelope = structuredClone(loadEvent("cloudwatch/sns-https-notification.json")) as {
      Message: string;
    };

    expect(cloudwatch.observe(envelope)).toBe(true);

    // The sample's time is from another year: the change counts as now, not then.
    expect(await cloudwatch.alarmStates(["payments-queue-backlog"], "123456789012")).toEqual([
      expect.objectContaining({ state: "ALARM", since: iso(NOW) }),
    ]);
    const series = await cloudwatch.metricSeries("payments-queue-backlog", NOW, NOW + MINUTE);
    expect(series).toMatchObject({
      label: "AWS/SQS ApproximateAgeOfOldestMessage (MAXIMUM, 60s)",
      threshold: 900,
      comparison: "GreaterThanThreshold",
      points: [{ value: 1350 }],
    });
  });

  it("follows alarm actions, ignores other events, and answers nothing for alarms it never saw", async () => {
    const cloudwatch = new SimulatedCloudWatch(() => NOW);

    expect(cloudwatch.observe(loadEvent("cloudwatch/alarm-action.json"))).toBe(true);
    expect(cloudwatch.observe(loadEvent("changes/lambda-update-alias.json"))).toBe(false);
    expect(cloudwatch.observe({ Type: "Notification", Message: "not json" })).toBe(false);

    expect(cloudwatch.snapshot()).toHaveLength(1);
    expect(await cloudwatch.alarmStates(["never-seen"])).toEqual([]);
    expect(await cloudwatch.metricSeries("never-seen", 0, NOW)).toBeNull();
  });

  it("follows SNS's Lambda event, and refuses a payload whose keys match a kind but not its shape", async () => {
    const cloudwatch = new SimulatedCloudWatch(() => NOW);
    const broken = structuredClone(eventBridgeAlarm("ALARM", NOW)) as Record<string, unknown>;
    broken.detail = { state: { value: "ALARM" } };

    expect(cloudwatch.observe(broken)).toBe(false);
    expect(cloudwatch.observe({ alarmData: { alarmName: "" }, source: "aws.cloudwatch" })).toBe(
      false,
    );
    expect(cloudwatch.observe({ Records: [{ Sns: { Message: "not json" } }] })).toBe(false);
    expect(cloudwatch.snapshot()).toEqual([]);
    expect(cloudwatch.observe(loadEvent("cloudwatch/sns-lambda-single-metric.json"))).toBe(true);
    expect(cloudwatch.snapshot()).toHaveLength(1);
  });

  it("keeps the latest state when an older event arrives late, and has no data while INSUFFICIENT_DATA", async () => {
    const cloudwatch = new SimulatedCloudWatch(() => NOW);
    cloudwatch.setState("orders-5xx", { state: "ALARM", at: NOW - 10 * MINUTE });
    cloudwatch.setState("orders-5xx", { state: "INSUFFICIENT_DATA", at: NOW - 2 * MINUTE });
    cloudwatch.setState("orders-5xx", { state: "OK", at: NOW - 5 * MINUTE, reason: "late" });

    expect(await cloudwatch.alarmStates(["orders-5xx"])).toEqual([
      {
        alarmName: "orders-5xx",
        state: "INSUFFICIENT_DATA",
        since: iso(NOW - 2 * MINUTE),
        reason: null,
      },
    ]);
    const series = await cloudwatch.metricSeries("orders-5xx", NOW - 7 * MINUTE, NOW);
    // ALARM, then the late OK in its place in history, then nothing.
    expect(series?.points.map((point) => point.value)).toEqual([1.5, 0.5, 0.5, 0.5]);
  });
});

describe("SimulatedAws target versions", () => {
  const run = (simulation: SimulatedAws, action: RunnableAction) =>
    executeRemediation(action, {
      gateway: simulation,
      mode: "simulated",
      region: "us-east-1",
      reference: "INC-1/a1",
    });
  const aliasOf = (simulation: SimulatedAws, key: string) =>
    simulation.snapshot().lambdaAliases[key] as { version: number; versions: number[] };

  it("moves a Lambda alias with its CloudTrail update event, and a rollback moves it back", async () => {
    const simulation = new SimulatedAws(() => NOW);
    simulation.observe(loadEvent("changes/lambda-update-alias.json"));
    expect(aliasOf(simulation, "checkout-api:live")).toEqual({
      version: 43,
      versions: [1, 2, 3, 43],
    });

    const outcome = await run(
      simulation,
      RollbackActionSchema.parse({
        type: "rollback",
        target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
      }),
    );

    expect(outcome.reason).toBe("simulated: alias live: version 43 → 3");
    expect(aliasOf(simulation, "checkout-api:live").version).toBe(3);
  });

  it("moves an ECS service to a change's task definition, in the change's member account", async () => {
    const member = "111122223333";
    const simulation = new SimulatedAws(() => NOW, {
      accounts: { [member]: { roleArn: `arn:aws:iam::${member}:role/firebreak` } },
    });
    const change = ChangeSchema.parse({
      id: "change-1",
      service: "checkout",
      version: `arn:aws:ecs:us-east-1:${member}:task-definition/checkout-web:7`,
      previousVersion: "checkout-web:6",
      target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
      commit: null,
      author: null,
      url: null,
      at: iso(NOW),
      origin: "api",
      account: member,
    });

    simulation.applyChange(change);

    const { memberAccounts, ecsServices } = simulation.snapshot();
    expect(memberAccounts[member]?.ecsServices["prod/checkout"]).toMatchObject({
      family: "checkout-web",
      revision: 7,
      revisions: [1, 2, 3, 7],
    });
    expect(ecsServices["prod/checkout"]).toBeUndefined();
  });
});

function never(): never {
  throw new Error("expected a series");
}
