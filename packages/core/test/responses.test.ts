import { beforeEach, describe, expect, it } from "vitest";
import {
  AwsCallError,
  type AwsGateway,
  type AwsRequest,
  type ConfigInput,
  Correlator,
  type DeliveryOutcome,
  Dispatcher,
  GuardKeeper,
  IncidentCommands,
  type IncidentRecord,
  type PageDelivery,
  type Pager,
  Policy,
  planResponses,
  type Signal,
  sweep,
} from "../src";
import { aConfig, aSignal, MemoryIncidentStore, MemoryVersionedItems } from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");
const MINUTE = 60_000;

const configInput: ConfigInput = {
  rules: [
    {
      name: "api",
      match: { alarmName: "api-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "api" },
          by: 2,
          max: 8,
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "db",
      match: { alarmName: "db-*" },
      severity: "critical",
      actions: [
        { type: "failover", target: { kind: "rds-cluster", clusterId: "orders" } },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "canary",
      match: { alarmName: "canary-*" },
      severity: "warning",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "canary" },
          by: 1,
          max: 8,
          dryRun: true,
        },
      ],
    },
    {
      name: "logs",
      match: { source: "logs" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: {
    oncall: {
      sns: "arn:aws:sns:us-east-1:123456789012:oncall",
      slackWebhook: "https://hooks.slack.com/services/T000/B000/XXXX",
      pagerduty: { routingKey: "0123456789abcdef0123456789abcdef" },
    },
    managers: { sns: "arn:aws:sns:us-east-1:123456789012:managers" },
  },
  escalation: { repeatAfter: "5m", maxRepeats: 2, channels: ["oncall", "managers"] },
  safety: { cooldown: "10m", maxActionsPerHour: 3 },
};
const config = aConfig(configInput);

/** ECS and RDS as far as these tests need them, with failures to order. */
class FakeAws implements AwsGateway {
  readonly desired = new Map<string, number>();
  readonly sent: AwsRequest[] = [];
  writer = "orders-1";
  failNext: AwsCallError[] = [];

  async send(request: AwsRequest): Promise<unknown> {
    this.sent.push(request);
    const input = request.input as {
      cluster: string;
      service: string;
      services: string[];
      desiredCount: number;
    };
    switch (`${request.service}:${request.operation}`) {
      case "ecs:DescribeServices": {
        const key = `${input.cluster}/${input.services[0]}`;
        const desiredCount = this.desired.get(key) ?? 2;
        return {
          services: [
            {
              desiredCount,
              runningCount: desiredCount,
              deployments: [{ rolloutState: "COMPLETED" }],
            },
          ],
        };
      }
      case "application-autoscaling:DescribeScalableTargets":
        return { ScalableTargets: [] };
      case "ecs:UpdateService": {
        const failure = this.failNext.shift();
        if (failure) throw failure;
        this.desired.set(`${input.cluster}/${input.service}`, input.desiredCount);
        return {};
      }
      case "rds:DescribeDBClusters":
        return {
          DBClusters: [
            {
              Status: "available",
              DBClusterMembers: [
                { DBInstanceIdentifier: this.writer, IsClusterWriter: true },
                {
                  DBInstanceIdentifier: this.writer === "orders-1" ? "orders-2" : "orders-1",
                  IsClusterWriter: false,
                },
              ],
            },
          ],
        };
      case "rds:FailoverDBCluster":
        this.writer = this.writer === "orders-1" ? "orders-2" : "orders-1";
        return {};
      default:
        throw new Error(`unexpected ${request.service}:${request.operation}`);
    }
  }

  changes = () => this.sent.filter((request) => !/^(Describe|List|Get)/.test(request.operation));
}

/** Records pages; answers from a script per transport (sent unless told otherwise). */
class FakePager implements Pager {
  readonly delivered: PageDelivery[] = [];
  readonly followUps: Array<{ url: string; text: string }> = [];

  async followUp(url: string, text: string): Promise<void> {
    this.followUps.push({ url, text });
  }
  readonly script = new Map<string, DeliveryOutcome[]>();

  async deliver(delivery: PageDelivery): Promise<DeliveryOutcome> {
    const outcome = this.script.get(delivery.transport)?.shift() ?? {
      status: "sent",
      detail: "ok",
    };
    if (outcome.status === "sent") this.delivered.push(delivery);
    return outcome;
  }

  kinds = () =>
    this.delivered.map((page) => `${page.content.kind}:${page.channel}:${page.transport}`);
}

function harness(overrides: { config?: typeof config; mode?: "live" | "simulated" } = {}) {
  const used = overrides.config ?? config;
  const clock = {
    time: START,
    now() {
      return this.time;
    },
  };
  const store = new MemoryIncidentStore();
  const aws = new FakeAws();
  const pager = new FakePager();
  const policy = new Policy(used);
  const context = (now: number) => ({ config: used, now, region: "us-east-1" });
  const correlator = new Correlator({
    store,
    policy,
    clock,
    respond: (record, events, now) => planResponses(record, events, context(now)),
  });
  const guards = new GuardKeeper(new MemoryVersionedItems());
  const dispatcher = new Dispatcher({
    store,
    guards,
    gateway: aws,
    pager,
    clock,
    config: used,
    mode: overrides.mode ?? "live",
    region: "us-east-1",
  });
  const commands = new IncidentCommands({ store, config: used, clock, region: "us-east-1" });
  const alarm = async (name: string, kind: Signal["kind"] = "trigger") => {
    const signal = aSignal({
      fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
      title: name,
      kind,
      at: new Date(clock.time).toISOString(),
      attributes: { alarmName: name },
    });
    const { results } = await correlator.process([signal]);
    return results[0]?.incidentId as string;
  };
  const record = async (id: string) => (await store.get(id)) as IncidentRecord;
  const statuses = async (id: string) =>
    (await record(id)).actions.map((action) => `${action.id}:${action.type}:${action.status}`);
  const dispatchAll = async () => {
    for (const id of await store.listPending()) await dispatcher.dispatch(id);
  };
  return {
    clock,
    store,
    aws,
    pager,
    dispatcher,
    commands,
    alarm,
    record,
    statuses,
    dispatchAll,
    guards,
  };
}

describe("planning", () => {
  it("plans the rule's actions, in order, with the incident change", async () => {
    const { alarm, record } = harness();
    const id = await alarm("api-5xx");
    const { actions, timeline, escalation } = await record(id);
    expect(
      actions.map((action) => [action.id, action.type, action.status, action.trigger]),
    ).toEqual([
      ["a1", "scale", "planned", "opened"],
      ["a2", "page", "planned", "opened"],
    ]);
    expect(actions[0]?.targetKey).toBe("ecs-service:us-east-1/prod/api");
    expect(Object.keys(actions[1]?.page?.deliveries ?? {})).toEqual(["sns", "slack", "pagerduty"]);
    expect(timeline.filter((entry) => entry.type === "action")).toHaveLength(2);
    expect(escalation.nextAt).toBe(new Date(START + 5 * MINUTE).toISOString());
  });

  it("holds automated actions of a flapping incident and pages instead", async () => {
    const { alarm, record, clock } = harness();
    let id = "";
    for (let cycle = 0; cycle < 4; cycle++) {
      id = await alarm("api-flappy");
      clock.time += MINUTE;
      await alarm("api-flappy", "recovery");
      clock.time += MINUTE;
    }
    const { incident, actions } = await record(id);
    expect(incident.flapping).toBe(true);
    expect(actions[0]).toMatchObject({
      type: "scale",
      status: "skipped",
      reason: expect.stringContaining("flapping"),
    });
    expect(
      actions.filter((action) => action.type === "page" && action.trigger === "held"),
    ).toHaveLength(1);
  });

  it("makes failover wait for approval and pages the approve command", async () => {
    const { alarm, record } = harness();
    const id = await alarm("db-writer-down");
    const { actions } = await record(id);
    expect(actions[0]).toMatchObject({ type: "failover", status: "awaiting-approval" });
    const approvalPage = actions.find((action) => action.trigger === "approval-needed");
    expect(approvalPage?.reason).toContain(`/incident approve ${id} a1`);
  });

  it("scales again on a re-trigger only after the cooldown", async () => {
    const { alarm, record, clock } = harness();
    const id = await alarm("api-storm");
    clock.time += 2 * MINUTE;
    await alarm("api-storm");
    expect((await record(id)).actions.filter((action) => action.type === "scale")).toHaveLength(1);
    clock.time += 10 * MINUTE;
    await alarm("api-storm");
    const scales = (await record(id)).actions.filter((action) => action.type === "scale");
    expect(scales.map((action) => action.trigger)).toEqual(["opened", "retriggered"]);
  });
});

describe("dispatching", () => {
  it("runs each action once: scale, then the page on every transport", async () => {
    const { alarm, dispatcher, aws, pager, statuses, record } = harness();
    const id = await alarm("api-5xx");
    const report = await dispatcher.dispatch(id);
    expect(report.ran.map((run) => `${run.id}:${run.status}`)).toEqual([
      "a1:succeeded",
      "a2:succeeded",
    ]);
    expect(aws.changes()).toEqual([
      {
        service: "ecs",
        operation: "UpdateService",
        region: "us-east-1",
        input: { cluster: "prod", service: "api", desiredCount: 4 },
      },
    ]);
    expect(pager.kinds()).toEqual([
      "page:oncall:sns",
      "page:oncall:slack",
      "page:oncall:pagerduty",
    ]);
    const scale = (await record(id)).actions[0];
    expect(scale).toMatchObject({
      reason: "desiredCount 2 → 4",
      before: "desiredCount 2, running 2",
      requests: aws.changes(),
    });
    expect((await dispatcher.dispatch(id)).ran).toEqual([]);
    expect(aws.changes()).toHaveLength(1);
    expect(await statuses(id)).toEqual(["a1:scale:succeeded", "a2:page:succeeded"]);
  });

  it("never runs an action twice when dispatchers race", async () => {
    const { alarm, store, aws, pager, guards, clock } = harness();
    const id = await alarm("api-race");
    const racers = Array.from(
      { length: 8 },
      () =>
        new Dispatcher({
          store,
          guards,
          gateway: aws,
          pager,
          clock,
          config,
          mode: "live",
          region: "us-east-1",
        }),
    );
    await Promise.all(racers.map((racer) => racer.dispatch(id)));
    expect(aws.changes()).toHaveLength(1);
    expect(pager.delivered).toHaveLength(3);
  });

  it("finishes an interrupted run by completing its recorded requests, never deciding again", async () => {
    const { alarm, store, aws, pager, guards, clock, record } = harness();
    const id = await alarm("api-crash");
    // A dispatcher that dies after sending the scale-out, before recording the outcome.
    let dead = false;
    const dying = {
      ...store,
      get: store.get.bind(store),
      listPending: store.listPending.bind(store),
      // Once the process is dead, nothing it does reaches the store any more.
      save: async (next: IncidentRecord, page: null) => {
        if (dead || next.actions[0]?.status === "succeeded") {
          dead = true;
          throw new Error("process killed");
        }
        return store.save(next, page);
      },
    } as unknown as MemoryIncidentStore;
    const first = new Dispatcher({
      store: dying,
      guards,
      gateway: aws,
      pager,
      clock,
      config,
      mode: "live",
      region: "us-east-1",
    });
    await first.dispatch(id).catch(() => undefined); // it dies mid-run
    expect(dead).toBe(true);
    expect(aws.desired.get("prod/api")).toBe(4);
    expect((await record(id)).actions[0]).toMatchObject({
      status: "planned",
      reason: "sending: desiredCount 2 → 4",
    });

    const second = new Dispatcher({
      store,
      guards,
      gateway: aws,
      pager,
      clock,
      config,
      mode: "live",
      region: "us-east-1",
    });
    // The dead one's claim on a1 still holds; only the page runs.
    expect((await second.dispatch(id)).ran.map((run) => run.id)).toEqual(["a2"]);
    clock.time += 3 * MINUTE;
    await second.dispatch(id);
    expect(aws.desired.get("prod/api")).toBe(4); // not 6
    expect((await record(id)).actions[0]).toMatchObject({
      status: "succeeded",
      reason: "desiredCount 2 → 4 (completed after an interruption)",
    });
  });

  it("does not fail over twice when an interrupted failover already happened", async () => {
    const { alarm, store, aws, pager, guards, clock, commands, record } = harness();
    const id = await alarm("db-down");
    await commands.approve(id, "a1", "api:ops");
    let dead = false;
    const dying = {
      ...store,
      get: store.get.bind(store),
      // Once the process is dead, nothing it does reaches the store any more.
      save: async (next: IncidentRecord, page: null) => {
        if (dead || next.actions[0]?.status === "succeeded") {
          dead = true;
          throw new Error("process killed");
        }
        return store.save(next, page);
      },
    } as unknown as MemoryIncidentStore;
    const first = new Dispatcher({
      store: dying,
      guards,
      gateway: aws,
      pager,
      clock,
      config,
      mode: "live",
      region: "us-east-1",
    });
    await first.dispatch(id).catch(() => undefined); // it dies mid-run
    expect(dead).toBe(true);
    expect(aws.writer).toBe("orders-2");
    clock.time += 3 * MINUTE;
    await new Dispatcher({
      store,
      guards,
      gateway: aws,
      pager,
      clock,
      config,
      mode: "live",
      region: "us-east-1",
    }).dispatch(id);
    expect(aws.writer).toBe("orders-2");
    expect(
      aws.changes().filter((request) => request.operation === "FailoverDBCluster"),
    ).toHaveLength(1);
    expect((await record(id)).actions[0]?.status).toBe("succeeded");
  });

  it("marks simulated and dry-run outcomes as such", async () => {
    const simulated = harness({ mode: "simulated" });
    const id = await simulated.alarm("api-sim");
    await simulated.dispatcher.dispatch(id);
    expect((await simulated.record(id)).actions[0]).toMatchObject({
      status: "simulated",
      reason: "simulated: desiredCount 2 → 4",
    });

    const dry = harness();
    const canary = await dry.alarm("canary-latency");
    await dry.dispatcher.dispatch(canary);
    expect((await dry.record(canary)).actions[0]).toMatchObject({
      status: "simulated",
      reason: "dry run, nothing sent: desiredCount 2 → 3",
      requests: [expect.objectContaining({ operation: "UpdateService" })],
    });
    expect(dry.aws.changes()).toEqual([]);
  });

  it("retries a throttled call with backoff, then succeeds", async () => {
    const { alarm, dispatcher, aws, record, clock } = harness();
    aws.failNext.push(
      new AwsCallError(
        { service: "ecs", operation: "UpdateService" },
        "ThrottlingException",
        "Rate exceeded",
        true,
      ),
    );
    const id = await alarm("api-throttled");
    await dispatcher.dispatch(id);
    const waiting = (await record(id)).actions[0];
    expect(waiting).toMatchObject({
      status: "planned",
      attempts: 1,
      reason: expect.stringContaining("retrying"),
    });
    expect(Date.parse(waiting?.notBefore as string)).toBeGreaterThan(clock.time);
    expect((await dispatcher.dispatch(id)).ran).toEqual([]); // not due yet
    clock.time += MINUTE;
    await dispatcher.dispatch(id);
    expect((await record(id)).actions[0]).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("records a permanent failure and pages a person with the reason", async () => {
    const { alarm, dispatcher, aws, record, pager } = harness();
    aws.failNext.push(
      new AwsCallError(
        { service: "ecs", operation: "UpdateService" },
        "AccessDeniedException",
        "not allowed",
        false,
      ),
    );
    const id = await alarm("api-denied");
    await dispatcher.dispatch(id);
    const { actions } = await record(id);
    expect(actions[0]).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("AccessDeniedException"),
    });
    // The person is paged in the same pass, with the reason in the page.
    const failurePage = actions.find((action) => action.trigger === "failure");
    expect(failurePage).toMatchObject({ status: "succeeded" });
    expect(failurePage?.page?.text).toContain("a1 (scale ecs-service:us-east-1/prod/api) failed");
    expect(
      pager.delivered.some((page) => page.content.note?.includes("AccessDeniedException")),
    ).toBe(true);
  });

  it("skips for a cooldown across incidents, and trips the circuit breaker with a page", async () => {
    const tight = aConfig({ ...configInput, safety: { cooldown: "0s", maxActionsPerHour: 2 } });
    const { alarm, dispatchAll, record, clock } = harness({ config: tight });
    const ids: string[] = [];
    for (const name of ["api-a", "api-b", "api-c"]) {
      ids.push(await alarm(name));
      await dispatchAll();
      clock.time += 1000;
    }
    const third = await record(ids[2] as string);
    expect(third.actions[0]).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining("circuit breaker"),
    });
    const held = third.actions.find((action) => action.trigger === "held");
    expect(held?.page?.text).toContain("circuit breaker");

    const cooled = harness();
    const first = await cooled.alarm("api-one");
    await cooled.dispatchAll();
    const second = await cooled.alarm("api-two");
    await cooled.dispatchAll();
    expect((await cooled.record(first)).actions[0]?.status).toBe("succeeded");
    expect((await cooled.record(second)).actions[0]).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/^cooldown/),
    });
  });

  it("honours Retry-After on one transport without holding back the others", async () => {
    const { alarm, dispatcher, pager, record, clock } = harness();
    pager.script.set("slack", [{ status: "retry", detail: "slack HTTP 429", afterMs: 30_000 }]);
    const id = await alarm("api-429");
    await dispatcher.dispatch(id);
    const page = (await record(id)).actions[1];
    expect(page?.status).toBe("planned");
    expect(page?.page?.deliveries).toMatchObject({
      sns: { status: "sent" },
      pagerduty: { status: "sent" },
      slack: { status: "pending", notBefore: new Date(clock.time + 30_000).toISOString() },
    });
    clock.time += 30_000;
    await dispatcher.dispatch(id);
    expect((await record(id)).actions[1]).toMatchObject({
      status: "succeeded",
      reason: "sent via sns, slack, pagerduty",
    });
    expect(pager.kinds().filter((kind) => kind.endsWith("slack"))).toHaveLength(1);
  });
});

describe("people and escalation", () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });

  it("re-pages an unacknowledged critical incident along the channels, at most maxRepeats", async () => {
    const id = await h.alarm("api-down");
    await h.dispatchAll();
    const sweepNow = () => sweep({ store: h.store, config, clock: h.clock, region: "us-east-1" });
    expect((await sweepNow()).escalated).toEqual([]);
    for (let repeat = 1; repeat <= 3; repeat++) {
      h.clock.time += 5 * MINUTE;
      await sweepNow();
      await h.dispatchAll();
    }
    const escalations = h.pager.kinds().filter((kind) => kind.startsWith("escalation"));
    // Repeat 1 to channels[1] (managers), repeat 2 to the last channel (managers); no third.
    expect(escalations).toEqual(["escalation:managers:sns", "escalation:managers:sns"]);
    expect((await h.record(id)).escalation).toEqual({ repeats: 2, nextAt: null });
  });

  it("stops escalating when acknowledged and acknowledges PagerDuty", async () => {
    const id = await h.alarm("api-acked");
    await h.dispatchAll();
    const result = await h.commands.acknowledge(id, "slack:U123");
    expect(result).toMatchObject({ changed: true, message: `${id} acknowledged by slack:U123` });
    await h.dispatchAll();
    h.clock.time += 15 * MINUTE;
    await sweep({ store: h.store, config, clock: h.clock, region: "us-east-1" });
    await h.dispatchAll();
    expect(h.pager.kinds()).toContain("acknowledged:oncall:pagerduty");
    expect(h.pager.kinds().some((kind) => kind.startsWith("escalation"))).toBe(false);
    const again = await h.commands.acknowledge(id, "slack:U999");
    expect(again).toMatchObject({
      changed: false,
      message: expect.stringContaining("already acknowledged by slack:U123"),
    });
  });

  it("sends resolve notices to every channel that was paged", async () => {
    const id = await h.alarm("api-ok");
    await h.dispatchAll();
    await h.alarm("api-ok", "recovery");
    await h.dispatchAll();
    expect(h.pager.kinds().filter((kind) => kind.startsWith("resolved"))).toEqual([
      "resolved:oncall:sns",
      "resolved:oncall:slack",
      "resolved:oncall:pagerduty",
    ]);
    expect((await h.record(id)).escalation.nextAt).toBeNull();
  });

  it("runs a failover once a person approves it", async () => {
    const id = await h.alarm("db-writer-down");
    await h.dispatchAll();
    expect(h.aws.changes()).toEqual([]);
    await expect(h.commands.approve(id, "a9", "api:ops")).rejects.toThrowError(
      "has no action a9 (waiting: a1)",
    );
    await expect(
      h.commands.approve(id, "a1", "slack:U1", { responseUrl: "https://evil.example/hook" }),
    ).rejects.toThrowError("hooks.slack.com");
    const responseUrl = "https://hooks.slack.com/commands/T000/1234/abcd";
    const approved = await h.commands.approve(id, "a1", "api:ops", { responseUrl });
    expect(approved.changed).toBe(true);
    await h.dispatchAll();
    expect(h.pager.followUps).toEqual([
      {
        url: responseUrl,
        text: expect.stringMatching(
          /^[0-9A-Z]{7}\/a1 \(failover rds-cluster:us-east-1\/orders\): succeeded/,
        ),
      },
    ]);
    const failover = (await h.record(id)).actions[0];
    expect(failover).toMatchObject({ status: "succeeded", approvedBy: "api:ops" });
    expect(h.aws.changes().map((request) => request.operation)).toEqual(["FailoverDBCluster"]);
    const twice = await h.commands.approve(id, "a1", "api:ops");
    expect(twice).toMatchObject({
      changed: false,
      message: expect.stringContaining("is succeeded, not waiting"),
    });
  });

  it("auto-resolves a quiet log incident and tells the channels", async () => {
    const signal = aSignal({
      source: "logs",
      fingerprint: "logs:/aws/lambda/checkout:abc",
      title: "checkout: Task timed out",
      at: new Date(h.clock.time).toISOString(),
      attributes: { logGroup: "/aws/lambda/checkout", level: "error" },
    });
    const correlator = new Correlator({
      store: h.store,
      policy: new Policy(config),
      clock: h.clock,
      respond: (record, events, now) =>
        planResponses(record, events, { config, now, region: "us-east-1" }),
    });
    const id = (await correlator.process([signal])).results[0]?.incidentId as string;
    await h.dispatchAll();
    h.clock.time += 31 * MINUTE;
    const report = await sweep({ store: h.store, config, clock: h.clock, region: "us-east-1" });
    expect(report.autoResolved).toEqual([id]);
    expect((await h.record(id)).incident).toMatchObject({
      status: "resolved",
      resolvedBy: "auto-resolve",
    });
    await h.dispatchAll();
    expect(h.pager.kinds()).toContain("resolved:oncall:sns");
  });

  it("counts quiet from when a late signal arrived, not from its own time", async () => {
    // Logs delivered two hours late (a backlog, a redrive): the error is news now.
    const signal = aSignal({
      source: "logs",
      fingerprint: "logs:/aws/lambda/checkout:late",
      title: "checkout: Task timed out",
      at: new Date(h.clock.time - 120 * MINUTE).toISOString(),
      attributes: { logGroup: "/aws/lambda/checkout", level: "error" },
    });
    const correlator = new Correlator({
      store: h.store,
      policy: new Policy(config),
      clock: h.clock,
    });
    const id = (await correlator.process([signal])).results[0]?.incidentId as string;
    const sweepNow = () => sweep({ store: h.store, config, clock: h.clock, region: "us-east-1" });
    h.clock.time += 29 * MINUTE;
    expect((await sweepNow()).autoResolved).toEqual([]);
    h.clock.time += 2 * MINUTE;
    expect((await sweepNow()).autoResolved).toEqual([id]);
  });
});
