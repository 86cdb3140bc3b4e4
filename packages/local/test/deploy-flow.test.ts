import { type ActionView, ActionViewSchema } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, until } from "./helpers";

let stack: LocalStack;
let api: Client;
const MINUTE = 60_000;
const iso = (time: number) => new Date(time).toISOString();

beforeAll(async () => {
  stack = await startTestStack({
    intervals: { escalationsMs: 100 },
    configInput: {
      services: {
        checkout: {
          match: [{ source: "cloudwatch", alarmName: "checkout-*" }],
          changes: [{ functionName: "checkout-api" }],
          watch: { bake: "15m", alarms: ["checkout-5xx"], verifyAfter: "2s" },
        },
      },
      rules: [{ name: "checkout", match: { alarmName: "checkout-*" }, severity: "critical" }],
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

/** AWS's CloudTrail UpdateAlias sample: checkout-api's alias `live` set to `version` at `at`. */
function aliasUpdate(version: string, at: number) {
  const event = structuredClone(loadEvent("changes/lambda-update-alias.json")) as {
    id: string;
    time: string;
    detail: {
      eventID: string;
      eventTime: string;
      requestParameters: { functionVersion: string };
      responseElements: { functionVersion: string };
    };
  };
  event.id = `deploy-flow-${version}`;
  event.detail.eventID = `deploy-flow-${version}`;
  event.time = iso(at).replace(/\.\d{3}Z$/, "Z");
  event.detail.eventTime = event.time;
  event.detail.requestParameters.functionVersion = version;
  event.detail.responseElements.functionVersion = version;
  return event;
}

/** The documented alarm sample, renamed and fired at `at`. */
function alarm(name: string, at: number) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { timestamp: string } };
  };
  event.id = `deploy-flow-${name}`;
  event.time = iso(at).replace(/\.\d{3}Z$/, "Z");
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.state.timestamp = iso(at).replace("Z", "+0000");
  return event;
}

const IncidentSchema = z.object({
  alerts: z.array(z.object({ title: z.string() })),
  actions: z.array(ActionViewSchema),
  timeline: z.array(
    z.object({ type: z.string(), id: z.string().optional(), reason: z.string().nullish() }),
  ),
});
const rollbackOf = async (id: string) =>
  IncidentSchema.parse(await api.incident(id)).actions.find(
    (action) => action.type === "rollback",
  ) as ActionView | undefined;

describe("a bad deploy, end to end", { timeout: 90_000 }, () => {
  it("rolls back exactly the deploy the watched alarm caught, and verifies it through CloudWatch", async () => {
    const now = Date.now();
    await api.deliver(aliasUpdate("42", now - 60 * MINUTE));
    await api.deliver(aliasUpdate("43", now - 4 * MINUTE));
    // Latency opens checkout's incident; the watched 5xx alarm joins it a second later.
    const [id] = (await api.deliver(alarm("checkout-latency", now - 1000))).incidents;
    expect((await api.deliver(alarm("checkout-5xx", now))).incidents).toEqual([id]);
    const incidentId = id as string;

    await until(async () => (await rollbackOf(incidentId))?.verification?.status === "pending");
    const rollback = (await rollbackOf(incidentId)) as ActionView;
    expect(rollback).toMatchObject({ rule: "watch:checkout", status: "simulated" });
    const updates = stack.simulation.calls.filter((call) => call.operation === "UpdateAlias");
    expect(updates.map((call) => call.input)).toEqual([
      expect.objectContaining({
        FunctionName: "checkout-api",
        Name: "live",
        FunctionVersion: "42",
      }),
    ]);
    const { timeline } = IncidentSchema.parse(await api.incident(incidentId));
    expect(timeline.map((entry) => entry.reason)).toContain(
      "rolled back 43 (deployed 4 minutes earlier): checkout-5xx fired in its bake window",
    );

    // The rollback worked: both alarms are back to OK in CloudWatch.
    for (const name of ["checkout-latency", "checkout-5xx"]) {
      stack.simulation.cloudwatch.setState(name, { state: "OK", account: "123456789012" });
    }
    await until(async () => (await rollbackOf(incidentId))?.verification?.status === "effective");
    expect((await rollbackOf(incidentId))?.verification?.evidence).toMatch(/is OK since/);
  });
});
