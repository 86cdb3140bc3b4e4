import { describe, expect, it } from "vitest";
import {
  type AwsGateway,
  type AwsRequest,
  Correlator,
  type DeliveryOutcome,
  Dispatcher,
  GuardKeeper,
  type IncidentRecord,
  type Pager,
  Policy,
  planResponses,
  type Signal,
} from "../src";
import { aConfig, aSignal, MemoryIncidentStore, MemoryVersionedItems } from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");

/** One ECS service whose count Application Auto Scaling owns, as far as these runs need it. */
class ScaledService implements AwsGateway {
  desiredCount = 4;
  minCapacity = 2;
  readonly maxCapacity = 20;
  readonly changes: AwsRequest[] = [];

  async send(request: AwsRequest): Promise<unknown> {
    switch (`${request.service}:${request.operation}`) {
      case "ecs:DescribeServices":
        return {
          services: [
            {
              desiredCount: this.desiredCount,
              runningCount: this.desiredCount,
              deployments: [{ rolloutState: "COMPLETED" }],
            },
          ],
        };
      case "application-autoscaling:DescribeScalableTargets":
        return {
          ScalableTargets: [{ MinCapacity: this.minCapacity, MaxCapacity: this.maxCapacity }],
        };
      case "application-autoscaling:RegisterScalableTarget": {
        this.changes.push(request);
        this.minCapacity = Number(request.input.MinCapacity);
        // As AWS does: the count moves up into the new range at once.
        this.desiredCount = Math.max(this.desiredCount, this.minCapacity);
        return {};
      }
      default:
        throw new Error(`unexpected ${request.service}:${request.operation}`);
    }
  }
}

class SentPager implements Pager {
  async deliver(): Promise<DeliveryOutcome> {
    return { status: "sent", detail: "ok" };
  }
  async followUp(): Promise<void> {}
}

function harness() {
  const config = aConfig({
    rules: [
      {
        name: "api",
        match: { alarmName: "api-*" },
        severity: "warning",
        actions: [
          {
            type: "scale",
            target: { kind: "ecs-service", cluster: "prod", service: "api" },
            by: 3,
            max: 10,
          },
        ],
      },
    ],
    // A cooldown far longer than the incident: the restore must not wait for it.
    safety: { cooldown: "1h", maxActionsPerHour: 6 },
  });
  const clock = {
    time: START,
    now() {
      return this.time;
    },
  };
  const store = new MemoryIncidentStore();
  const aws = new ScaledService();
  const correlator = new Correlator({
    store,
    policy: new Policy(config),
    clock,
    respond: (record, events, now) =>
      planResponses(record, events, { config, now, region: "us-east-1" }),
  });
  const dispatcher = new Dispatcher({
    store,
    guards: new GuardKeeper(new MemoryVersionedItems()),
    gateway: aws,
    pager: new SentPager(),
    clock,
    config,
    mode: "live",
    region: "us-east-1",
  });
  const alarm = async (kind: Signal["kind"]) => {
    const signal = aSignal({
      fingerprint: "cloudwatch:123456789012:us-east-1:api-latency",
      title: "api-latency",
      kind,
      at: new Date(clock.time).toISOString(),
      attributes: { alarmName: "api-latency" },
    });
    const { results } = await correlator.process([signal]);
    return results[0]?.incidentId as string;
  };
  const dispatchAll = async () => {
    for (const id of await store.listPending()) await dispatcher.dispatch(id);
  };
  const record = async (id: string) => (await store.get(id)) as IncidentRecord;
  return { clock, config, aws, alarm, dispatchAll, record };
}

describe("a raised MinCapacity is restored when the incident resolves", () => {
  it("raises the minimum on open, plans and runs the restore on resolve, and records both", async () => {
    const h = harness();
    const id = await h.alarm("trigger");
    await h.dispatchAll();
    expect(h.aws.minCapacity).toBe(7);
    expect(h.aws.desiredCount).toBe(7);

    h.clock.time += 2 * 60_000;
    await h.alarm("recovery");
    const planned = await h.record(id);
    const restore = planned.actions.find((action) => action.trigger === "resolved");
    expect(restore).toMatchObject({
      type: "scale",
      status: "planned",
      targetKey: "ecs-service:us-east-1/prod/api",
      reason: "restores MinCapacity 2, raised to 7 by a1",
      spec: { restore: { of: "a1", raisedTo: 7, minCapacity: 2 }, cooldown: 0 },
    });
    expect(planned.timeline).toContainEqual(
      expect.objectContaining({ type: "action", id: restore?.id, status: "planned" }),
    );

    await h.dispatchAll();
    expect(h.aws.minCapacity).toBe(2);
    expect(h.aws.changes.map((change) => change.input.MinCapacity)).toEqual([7, 2]);
    const done = await h.record(id);
    expect(done.actions.map((action) => `${action.id}:${action.trigger}:${action.status}`)).toEqual(
      ["a1:opened:succeeded", `${restore?.id}:resolved:succeeded`],
    );
    expect(done.timeline).toContainEqual(
      expect.objectContaining({
        type: "action",
        id: restore?.id,
        status: "succeeded",
        reason: "MinCapacity 7 → 2 (restored after a1)",
      }),
    );
  });

  it("plans one restore per raise, however often the incident resolves", async () => {
    const h = harness();
    const id = await h.alarm("trigger");
    await h.dispatchAll();
    await h.alarm("recovery");
    const once = await h.record(id);
    const again = planResponses(
      structuredClone(once),
      [{ type: "resolved", at: new Date(h.clock.time).toISOString(), by: "someone" }],
      { config: h.config, now: h.clock.time, region: "us-east-1" },
    );
    const restores = (record: IncidentRecord) =>
      record.actions.filter((action) => "restore" in (action.spec as object));
    expect(restores(once)).toHaveLength(1);
    expect(restores(again)).toHaveLength(1);
  });
});
