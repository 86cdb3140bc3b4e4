import { type ActionView, ActionViewSchema } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, until } from "./helpers";

let stack: LocalStack;
let api: Client;
let alarms = 0;

beforeAll(async () => {
  stack = await startTestStack({
    intervals: { escalationsMs: 100 },
    configInput: {
      rules: [
        {
          name: "checkout-5xx",
          match: { alarmName: "checkout-5xx-*" },
          severity: "critical",
          actions: [
            {
              type: "scale",
              target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
              by: 2,
              max: 20,
              verifyAfter: "2s",
              ifIneffective: [
                {
                  type: "rollback",
                  target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
                  verifyAfter: "2s",
                },
              ],
            },
            { type: "page", channel: "oncall" },
          ],
        },
      ],
      channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
      safety: { cooldown: "0s", maxActionsPerHour: 50 },
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

async function alarm(name: string, state: "ALARM" | "OK" = "ALARM") {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: { alarmName: string; state: { value: string; timestamp: string } };
  };
  event.id = `verified-${++alarms}`;
  event.detail.alarmName = name;
  event.detail.state.value = state;
  event.detail.state.timestamp = new Date().toISOString();
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  return (await api.deliver(event)).incidents[0] as string;
}

const IncidentActionsSchema = z.object({
  actions: z.array(ActionViewSchema),
  timeline: z.array(
    z.object({
      type: z.string(),
      id: z.string().optional(),
      reason: z.string().nullable().optional(),
    }),
  ),
});
const incident = async (id: string) => IncidentActionsSchema.parse(await api.incident(id));
const actionOf = async (id: string, actionId: string) =>
  (await incident(id)).actions.find((action) => action.id === actionId) as ActionView;
const verdictOf = async (id: string, actionId: string) =>
  (await actionOf(id, actionId))?.verification?.status;

const OutboxSchema = z.object({
  items: z.array(z.object({ incidentId: z.string(), kind: z.string(), text: z.string() })),
});

/** Each test waits out two or three verifyAfter periods and the stream between them. */
const FLOW_TIMEOUT = 90_000;

describe("verified remediation on the local stack", { timeout: FLOW_TIMEOUT }, () => {
  it("checks the simulated alarm after verifyAfter: OK there is effective", async () => {
    const id = await alarm("checkout-5xx-a");
    await until(async () => (await verdictOf(id, "a1")) === "pending");
    // The alarm recovers in CloudWatch; its event has not reached Firebreak.
    stack.simulation.cloudwatch.setState("checkout-5xx-a", {
      state: "OK",
      account: "123456789012",
    });
    await until(async () => (await verdictOf(id, "a1")) === "effective");
    const scale = await actionOf(id, "a1");
    expect(scale).toMatchObject({ type: "scale", status: "simulated" });
    expect(scale.verification?.evidence).toMatch(/^checkout-5xx-a is OK since \d\d:\d\d:\d\d$/);
    const checkedAfter = Date.parse(scale.verification?.checkedAt as string) - Date.parse(scale.at);
    expect(checkedAfter).toBeGreaterThanOrEqual(2000);
    const { timeline } = await incident(id);
    expect(timeline.filter((entry) => entry.reason?.startsWith("verified effective: "))).toEqual([
      expect.objectContaining({ type: "action", id: "a1" }),
    ]);
    // Nothing follows an effective step.
    expect((await incident(id)).actions.map((action) => action.id)).toEqual(["a1", "a2"]);
  });

  it("climbs the ladder while the alarm fires, and pages what was tried", async () => {
    const id = await alarm("checkout-5xx-b");
    await until(async () => (await verdictOf(id, "a3")) === "ineffective");
    const { actions } = await incident(id);
    expect(actions.slice(0, 3).map((action) => [action.id, action.type, action.status])).toEqual([
      ["a1", "scale", "simulated"],
      ["a2", "page", "succeeded"],
      ["a3", "rollback", "simulated"],
    ]);
    expect(actions[0]?.verification?.evidence).toMatch(
      /^checkout-5xx-b is still ALARM since \d\d:\d\d:\d\d/,
    );
    expect(actions[2]?.follows).toEqual({ action: "a1", root: "a1", step: 0 });
    await until(async () => {
      const outbox = OutboxSchema.parse(await (await api.get("/local/outbox")).json());
      return outbox.items.some(
        (item) => item.incidentId === id && item.text.includes("every step of a1's ladder"),
      );
    });
    const outbox = OutboxSchema.parse(await (await api.get("/local/outbox")).json());
    const final = outbox.items.find(
      (item) => item.incidentId === id && item.text.includes("every step of a1's ladder"),
    );
    expect(final?.text).toContain("the alarm checkout-5xx-b is still firing");
    expect(final?.text).toContain("a3 (rollback lambda-alias:us-east-1/checkout:live) ineffective");
  });
});
