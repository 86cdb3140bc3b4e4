import { type ActionView, ActionViewSchema } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN, until } from "./helpers";

const HOME = "123456789012";
const MEMBER = "111122223333";
const STRANGER = "444455556666";
const ROLE = `arn:aws:iam::${MEMBER}:role/firebreak-remediation`;

let stack: LocalStack;
let api: Client;
let alarms = 0;

beforeAll(async () => {
  stack = await startTestStack({
    homeAccount: HOME,
    configInput: {
      rules: [
        {
          name: "checkout-latency",
          match: { alarmName: "checkout-latency-*" },
          severity: "critical",
          actions: [
            {
              type: "scale",
              target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
              by: 2,
              max: 20,
            },
          ],
        },
      ],
      channels: { oncall: { sns: `arn:aws:sns:us-east-1:${HOME}:oncall` } },
      accounts: { [MEMBER]: { roleArn: ROLE, externalId: "firebreak-local" } },
      safety: { cooldown: "0s", maxActionsPerHour: 50 },
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

/** The documented alarm event, from `account`, firing now. */
async function alarm(name: string, account: string) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    account: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { timestamp: string } };
  };
  event.id = `member-accounts-${++alarms}`;
  event.account = account;
  event.time = new Date().toISOString();
  event.detail.alarmName = name;
  event.detail.state.timestamp = new Date().toISOString();
  event.resources = [`arn:aws:cloudwatch:us-east-1:${account}:alarm:${name}`];
  return (await api.deliver(event)).incidents[0] as string;
}

const IncidentActionsSchema = z.object({ actions: z.array(ActionViewSchema) });
const finishedActions = async (id: string): Promise<ActionView[]> => {
  let actions: ActionView[] = [];
  await until(async () => {
    actions = IncidentActionsSchema.parse(await api.incident(id)).actions;
    return actions.length > 0 && actions.every((action) => action.status !== "planned");
  });
  return actions;
};

const ecsIn = (model: { ecsServices: Record<string, unknown> }) =>
  model.ecsServices["prod/checkout"] as { desiredCount: number } | undefined;

describe("remediation in an organization's member accounts (local stack)", () => {
  it("scales a member account's service through the role its config names, and the ledger says which account", async () => {
    const id = await alarm("checkout-latency-member", MEMBER);
    const [scale] = await finishedActions(id);

    expect(scale).toMatchObject({
      type: "scale",
      status: "simulated",
      reason: "simulated: desiredCount 2 → 4",
      requests: [
        {
          service: "ecs",
          operation: "UpdateService",
          account: MEMBER,
          input: { cluster: "prod", service: "checkout", desiredCount: 4 },
        },
      ],
    });
    // Every call, the describe before the change too, went to the member account as its role.
    const calls = stack.simulation.calls.filter((call) => call.account === MEMBER);
    expect(calls.map((call) => `${call.operation} ${call.assumedRole}`)).toEqual([
      `DescribeServices ${ROLE}`,
      `DescribeScalableTargets ${ROLE}`,
      `UpdateService ${ROLE}`,
    ]);
    const snapshot = stack.simulation.snapshot();
    expect(ecsIn(snapshot.memberAccounts[MEMBER] as typeof snapshot)?.desiredCount).toBe(4);
    // Firebreak's own account has a service of that name nobody touched.
    expect(ecsIn(snapshot)).toBeUndefined();
  });

  it("skips, with the reason, a remediation in an account that has no role", async () => {
    const before = stack.simulation.calls.length;
    const id = await alarm("checkout-latency-stranger", STRANGER);
    const [scale] = await finishedActions(id);

    expect(scale).toMatchObject({
      type: "scale",
      status: "skipped",
      reason: `no role for account ${STRANGER} in accounts`,
      requests: [],
    });
    expect(stack.simulation.calls.slice(before)).toEqual([]);
  });

  it("keeps the alarm's state in its own account as the events tell it, and lets the local route set it", async () => {
    await alarm("checkout-latency-routed", MEMBER);
    const cloudwatch = stack.simulation.cloudwatch;
    expect(await cloudwatch.alarmStates(["checkout-latency-routed"], MEMBER)).toMatchObject([
      { alarmName: "checkout-latency-routed", state: "ALARM" },
    ]);
    // No such alarm in Firebreak's own account.
    expect(await cloudwatch.alarmStates(["checkout-latency-routed"], HOME)).toEqual([]);

    const set = (body: unknown, token = TOKEN) =>
      fetch(`${stack.url}/local/aws/alarms/checkout-latency-routed/state`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const response = await set({ state: "OK", reason: "latency back to normal", account: MEMBER });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ state: "OK", account: MEMBER });
    expect(await cloudwatch.alarmStates(["checkout-latency-routed"], MEMBER)).toMatchObject([
      { state: "OK", reason: "latency back to normal" },
    ]);

    expect((await set({ state: "RED" })).status).toBe(400);
    expect((await set({ state: "OK" }, "wrong")).status).toBe(401);
  });

  it("delivers the state change to Firebreak when asked, as EventBridge would: the OK resolves the incident", async () => {
    const id = await alarm("checkout-latency-recovers", MEMBER);
    await finishedActions(id);

    const response = await fetch(`${stack.url}/local/aws/alarms/checkout-latency-recovers/state`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ state: "OK", reason: "rolled back", deliver: true }),
    });

    expect(response.status).toBe(200);
    // The alarm's own account, from the event that made it fire.
    expect(await response.json()).toMatchObject({
      state: "OK",
      account: MEMBER,
      reason: "rolled back",
      incidents: [id],
    });
    expect((await api.incident(id)).status).toBe("resolved");
  });
});
