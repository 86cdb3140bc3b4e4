import type { Incident } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { client, startTestStack } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited to carry the times under test.
type Editable = Record<string, any>;

/** CloudWatch's spelling of a time: `2024-11-05T14:03:40.536+0000`. */
const cloudWatchTime = (time: number) => new Date(time).toISOString().replace("Z", "+0000");

/** The EventBridge fixture for alarm `name` moving to `state` at `time`. */
function stateChange(name: string, state: "ALARM" | "OK", time: number): unknown {
  const fixture = state === "ALARM" ? "eventbridge-alarm.json" : "eventbridge-alarm-ok.json";
  const event = structuredClone(loadEvent(`cloudwatch/${fixture}`)) as Editable;
  event.id = crypto.randomUUID();
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.state.timestamp = cloudWatchTime(time);
  return event;
}

/** The SNS fixture carrying the same state change as `stateChange(name, "ALARM", time)`. */
function snsAlarm(name: string, time: number): unknown {
  const event = structuredClone(loadEvent("cloudwatch/sns-lambda-single-metric.json")) as Editable;
  const sns = event.Records[0].Sns;
  sns.Message = JSON.stringify({
    ...JSON.parse(sns.Message),
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
    NewStateValue: "ALARM",
    StateChangeTime: cloudWatchTime(time),
  });
  return event;
}

describe("hostile time through the local stack", () => {
  let stack: LocalStack;
  const incidentsOf = async (name: string) => {
    const response = await client(stack).get("/incidents?limit=100");
    const page = (await response.json()) as { items: Incident[] };
    return page.items.filter((incident) => incident.attributes.alarmName === name);
  };

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("an ALARM delivered after its own OK opens nothing (before: an incident left triggered)", async () => {
    const api = client(stack);
    const changedAt = Date.now() - 120_000;
    await api.deliver(stateChange("late-alarm", "OK", changedAt + 60_000));
    const late = await api.deliver(stateChange("late-alarm", "ALARM", changedAt));
    expect(late).toMatchObject({ accepted: 1, incidents: [] });
    await stack.settle();
    expect(await incidentsOf("late-alarm")).toEqual([]);
    // The next real change opens an incident as usual.
    const next = await api.deliver(stateChange("late-alarm", "ALARM", changedAt + 90_000));
    expect(next.incidents).toHaveLength(1);
  });

  it("one change through EventBridge and SNS is one signal (before: counted twice)", async () => {
    const api = client(stack);
    const changedAt = Date.now() - 30_000;
    const first = await api.deliver(stateChange("two-paths", "ALARM", changedAt));
    await api.deliver(snsAlarm("two-paths", changedAt));
    await stack.settle();
    const incident = await api.incident(first.incidents[0] as string);
    expect(incident.count).toBe(1);
  });
});
