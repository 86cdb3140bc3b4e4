import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

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
              by: 4,
              max: 9,
            },
            { type: "page", channel: "oncall" },
          ],
        },
        {
          name: "bad-deploy",
          match: { alarmName: "checkout-deploy-*" },
          severity: "warning",
          actions: [
            {
              type: "rollback",
              target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
            },
          ],
        },
      ],
      channels: {
        oncall: {
          sns: "arn:aws:sns:us-east-1:123456789012:oncall",
          pagerduty: { routingKey: "0123456789abcdef0123456789abcdef" },
        },
        managers: { sns: "arn:aws:sns:us-east-1:123456789012:managers" },
      },
      escalation: { repeatAfter: "1s", maxRepeats: 2, channels: ["oncall", "managers"] },
      safety: { cooldown: "0s", maxActionsPerHour: 20 },
      // No Slack here: the responders gate is not what these tests are about.
      responders: "anyone",
    },
  });
  api = client(stack);
});
afterAll(() => stack.stop());

interface Outbox {
  items: Array<{
    channel: string;
    incidentId: string;
    kind: string;
    transport: string;
    text: string;
  }>;
}
const outbox = async () => (await (await api.get("/local/outbox")).json()) as Outbox;
const pagesOf = async (id: string) =>
  (await outbox()).items.filter((item) => item.incidentId === id);

async function alarm(name: string, state: "ALARM" | "OK" = "ALARM") {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: { alarmName: string; state: { value: string; timestamp: string } };
  };
  event.id = `responses-${++alarms}`;
  event.detail.alarmName = name;
  event.detail.state.value = state;
  event.detail.state.timestamp = new Date().toISOString();
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  return (await api.deliver(event)).incidents[0] as string;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

type Actions = Array<{
  id: string;
  type: string;
  status: string;
  reason: string;
  requests: Array<{ input: Record<string, unknown> }>;
}>;
const actionsOf = async (id: string) =>
  ((await api.incident(id)) as unknown as { actions: Actions }).actions;

describe("responses on the local stack", () => {
  it("scales out against the model, pages the outbox, escalates, stops when acknowledged, and notifies on resolve", async () => {
    const id = await alarm("checkout-5xx-a");
    await until(async () => (await actionsOf(id)).every((action) => action.status !== "planned"));
    const [scale] = await actionsOf(id);
    expect(scale).toMatchObject({
      type: "scale",
      status: "simulated",
      reason: "simulated: desiredCount 2 → 6",
    });
    // The first pages; the escalation below may already be on its way (it is due after 1s).
    expect(
      (await pagesOf(id))
        .filter((page) => page.kind === "page")
        .map((page) => `${page.kind}:${page.channel}:${page.transport}`),
    ).toEqual(["page:oncall:sns", "page:oncall:pagerduty"]);

    // Unacknowledged and critical: re-paged after 1s (to managers), then once more, then no more.
    await until(
      async () => (await pagesOf(id)).filter((page) => page.kind === "escalation").length === 2,
    );
    const escalations = (await pagesOf(id)).filter((page) => page.kind === "escalation");
    expect(escalations.map((page) => page.channel)).toEqual(["managers", "managers"]);
    expect(escalations[0]?.text).toContain("repeat 1 of 2");

    const ack = await fetch(`${stack.url}/incidents/${id}/acknowledge`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ack.status).toBe(200);
    await until(async () => (await pagesOf(id)).some((page) => page.kind === "acknowledged"));

    // Every channel that was paged hears it is over: oncall (SNS, PagerDuty) and managers.
    await alarm("checkout-5xx-a", "OK");
    const resolved = async () => (await pagesOf(id)).filter((page) => page.kind === "resolved");
    await until(async () => (await resolved()).length === 3);
    expect((await resolved()).map((page) => `${page.channel}:${page.transport}`).sort()).toEqual([
      "managers:sns",
      "oncall:pagerduty",
      "oncall:sns",
    ]);
    expect((await pagesOf(id)).filter((page) => page.kind === "escalation")).toHaveLength(2);
  });

  it("keeps within bounds: the next scale-out stops at max, then there is nothing to do", async () => {
    const first = await alarm("checkout-5xx-b");
    await until(async () => (await actionsOf(first))[0]?.status !== "planned");
    expect((await actionsOf(first))[0]).toMatchObject({
      status: "simulated",
      reason: "simulated: desiredCount 6 → 9",
    });
    const second = await alarm("checkout-5xx-c");
    await until(async () => (await actionsOf(second))[0]?.status !== "planned");
    expect((await actionsOf(second))[0]).toMatchObject({
      status: "skipped",
      reason: "already at 9 tasks, the most allowed (max 9)",
    });
  });

  it("rolls an alias back version by version, then says there is no previous version", async () => {
    const reasons: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = await alarm(`checkout-deploy-${attempt}`);
      await until(async () => (await actionsOf(id))[0]?.status !== "planned");
      reasons.push((await actionsOf(id))[0]?.reason as string);
    }
    expect(reasons).toEqual([
      "simulated: alias live: version 3 → 2",
      "simulated: alias live: version 2 → 1",
      "no version before 1 to roll back to",
    ]);
    const model = (await (await api.get("/local/aws")).json()) as {
      model: { lambdaAliases: Record<string, { version: number }> };
      calls: Array<{ operation: string; changes: boolean }>;
    };
    expect(model.model.lambdaAliases["checkout:live"]?.version).toBe(1);
    expect(model.calls.filter((call) => call.operation === "UpdateAlias")).toHaveLength(2);
  });
});
