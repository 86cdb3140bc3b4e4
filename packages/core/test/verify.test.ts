import { describe, expect, it } from "vitest";
import {
  type ActionRecord,
  type AlarmState,
  type AwsGateway,
  type AwsRequest,
  actionView,
  assembleTimeline,
  buildPostmortem,
  type Change,
  type CloudWatchReader,
  type ConfigInput,
  Correlator,
  Dispatcher,
  GuardKeeper,
  IncidentCommands,
  type IncidentRecord,
  nextDueAt,
  Policy,
  planResponses,
  renderPostmortemMarkdown,
  type Signal,
  sweep,
} from "../src";
import {
  aConfig,
  aSignal,
  MemoryIncidentStore,
  MemorySilenceStore,
  MemoryVersionedItems,
  manualClock,
  RecordingPager,
} from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");
const SECOND = 1000;
const MINUTE = 60_000;
const iso = (time: number) => new Date(time).toISOString();

const ecs = (service: string) => ({ kind: "ecs-service", cluster: "prod", service }) as const;

const configInput: ConfigInput = {
  rules: [
    {
      name: "api",
      match: { alarmName: "api-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: ecs("api"),
          by: 2,
          max: 8,
          verifyAfter: "2m",
          ifIneffective: [
            { type: "scale", target: ecs("api-workers"), by: 2, max: 8, verifyAfter: "2m" },
            { type: "page", channel: "oncall" },
            { type: "failover", target: { kind: "rds-cluster", clusterId: "orders" } },
          ],
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      // The ladder's first step is on the same target, so the cooldown skips it when it runs.
      name: "cart",
      match: { alarmName: "cart-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: ecs("cart"),
          by: 1,
          max: 8,
          verifyAfter: "1m",
          ifIneffective: [
            { type: "scale", target: ecs("cart"), by: 1, max: 8 },
            { type: "scale", target: ecs("cart-workers"), by: 1, max: 8, verifyAfter: "1m" },
          ],
        },
      ],
    },
    {
      name: "plain",
      match: { alarmName: "plain-*" },
      severity: "warning",
      actions: [{ type: "scale", target: ecs("plain"), by: 1, max: 8 }],
    },
    {
      name: "checkout",
      match: { alarmName: "checkout-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: ecs("checkout"),
          by: 1,
          max: 8,
          verifyAfter: "1m",
          ifIneffective: [
            { type: "rollback", target: "last-change" },
            { type: "scale", target: ecs("checkout-workers"), by: 1, max: 8 },
          ],
        },
      ],
    },
    {
      name: "shop",
      match: { alarmName: "shop-*" },
      severity: "critical",
      actions: [{ type: "scale", target: ecs("shop"), by: 1, max: 8, verifyAfter: "1m" }],
    },
    {
      name: "dry",
      match: { alarmName: "dry-*" },
      severity: "warning",
      actions: [
        { type: "scale", target: ecs("dry"), by: 1, max: 8, dryRun: true, verifyAfter: "30s" },
      ],
    },
    {
      name: "logs",
      match: { source: "logs" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: ecs("logs"),
          by: 1,
          max: 8,
          verifyAfter: "2m",
          ifIneffective: [{ type: "scale", target: ecs("logs-workers"), by: 1, max: 8 }],
        },
      ],
    },
    {
      name: "sentry",
      match: { source: "sentry" },
      severity: "critical",
      actions: [{ type: "scale", target: ecs("web"), by: 1, max: 8, verifyAfter: "3m" }],
    },
  ],
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
  safety: { cooldown: "10m", maxActionsPerHour: 20 },
  // The shop's alarms group into one incident, whose every firing alarm is checked.
  services: {
    shop: { match: [{ alarmName: "shop-*" }] },
    checkout: { match: [{ alarmName: "checkout-*" }], group: false },
  },
};
const config = aConfig(configInput);

/** ECS and RDS as far as these tests need them. */
class FakeAws implements AwsGateway {
  readonly desired = new Map<string, number>();
  readonly sent: AwsRequest[] = [];
  writer = "orders-1";
  failNext: Error[] = [];

  async send(request: AwsRequest): Promise<unknown> {
    this.sent.push(request);
    const input = request.input as { cluster: string; service: string; services: string[] };
    switch (`${request.service}:${request.operation}`) {
      case "ecs:DescribeServices": {
        const desiredCount = this.desired.get(`${input.cluster}/${input.services[0]}`) ?? 2;
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
        const { desiredCount } = request.input as { desiredCount: number };
        this.desired.set(`${input.cluster}/${input.service}`, desiredCount);
        return {};
      }
      case "rds:DescribeDBClusters":
        return {
          DBClusters: [
            {
              Status: "available",
              DBClusterMembers: [
                { DBInstanceIdentifier: this.writer, IsClusterWriter: true },
                { DBInstanceIdentifier: "orders-2", IsClusterWriter: false },
              ],
            },
          ],
        };
      case "rds:FailoverDBCluster":
        this.writer = "orders-2";
        return {};
      default:
        throw new Error(`unexpected ${request.service}:${request.operation}`);
    }
  }
}

/** Alarm states as a test sets them; every question asked is kept. */
class FakeCloudWatch implements CloudWatchReader {
  readonly states = new Map<string, AlarmState>();
  readonly asked: Array<{ names: string[]; account: string | undefined }> = [];
  failNext = 0;

  set(alarmName: string, state: AlarmState["state"], since: number, reason: string | null = null) {
    this.states.set(alarmName, { alarmName, state, since: iso(since), reason });
  }

  async alarmStates(names: ReadonlyArray<string>, account?: string): Promise<AlarmState[]> {
    this.asked.push({ names: [...names], account });
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error("Throttling: Rate exceeded");
    }
    return names.flatMap((name) => this.states.get(name) ?? []);
  }

  async metricSeries(): Promise<null> {
    return null;
  }
}

function harness() {
  const clock = manualClock(START);
  const store = new MemoryIncidentStore({ config, clock });
  const aws = new FakeAws();
  const pager = new RecordingPager();
  const cloudwatch = new FakeCloudWatch();
  const silences = new MemorySilenceStore();
  const lastChanges = new Map<string, Change>();
  const changes = {
    asked: [] as string[],
    async lastChange(service: string, before: string): Promise<Change | null> {
      changes.asked.push(`${service}@${before}`);
      return lastChanges.get(service) ?? null;
    },
  };
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
    pager,
    clock,
    config,
    mode: "live",
    region: "us-east-1",
  });
  const commands = new IncidentCommands({ store, config, clock, region: "us-east-1" });
  const signal = async (overrides: Partial<Signal>) => {
    const { results } = await correlator.process([aSignal({ at: iso(clock.time), ...overrides })]);
    return results[0]?.incidentId as string;
  };
  const alarm = (name: string, kind: Signal["kind"] = "trigger") =>
    signal({
      fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
      title: name,
      kind,
      attributes: { alarmName: name, account: "123456789012", region: "us-east-1" },
    });
  const logLine = () =>
    signal({
      source: "logs",
      fingerprint: "logs:/aws/lambda/checkout:error",
      title: "checkout: ERROR",
      attributes: { logGroup: "/aws/lambda/checkout" },
    });
  const record = async (id: string) => (await store.get(id)) as IncidentRecord;
  const action = async (id: string, actionId: string) =>
    (await record(id)).actions.find((candidate) => candidate.id === actionId) as ActionRecord;
  const ledger = async (id: string) =>
    (await record(id)).actions.map(
      (entry) =>
        `${entry.id}:${entry.type}:${entry.status}${entry.verification ? `:${entry.verification.status}` : ""}`,
    );
  const dispatchAll = async () => {
    for (const id of await store.listPending()) await dispatcher.dispatch(id);
  };
  const runSweep = () =>
    sweep({ store, silences, config, clock, region: "us-east-1", cloudwatch, changes });
  return {
    clock,
    store,
    aws,
    pager,
    cloudwatch,
    silences,
    lastChanges,
    changes,
    commands,
    alarm,
    logLine,
    signal,
    record,
    action,
    ledger,
    dispatchAll,
    runSweep,
  };
}

describe("verifying an action that ran", () => {
  it("finds it effective when the alarm is OK at verifyAfter, and says so in the timeline", async () => {
    const h = harness();
    const id = await h.alarm("plain-cpu");
    h.clock.time += 2 * SECOND;
    await h.dispatchAll();
    const ran = await h.action(id, "a1");
    const dueAt = START + 2 * SECOND + 5 * MINUTE; // the default verifyAfter
    expect(ran.verification).toEqual({
      status: "pending",
      dueAt: iso(dueAt),
      checkedAt: null,
      evidence: null,
    });
    expect(actionView(ran).verification?.status).toBe("pending");
    // The sweep's due index holds the check: nothing else is due for this incident.
    expect(nextDueAt(await h.record(id), config)).toBe(dueAt);

    h.cloudwatch.set("plain-cpu", "OK", START + 3 * MINUTE + 10 * SECOND);
    h.clock.time = dueAt - 1;
    expect((await h.runSweep()).verified).toEqual([]);
    expect(h.cloudwatch.asked).toEqual([]);

    h.clock.time = dueAt;
    expect((await h.runSweep()).verified).toEqual([id]);
    expect(h.cloudwatch.asked).toEqual([{ names: ["plain-cpu"], account: "123456789012" }]);
    const checked = await h.record(id);
    expect(checked.actions[0]?.verification).toEqual({
      status: "effective",
      dueAt: iso(dueAt),
      checkedAt: iso(dueAt),
      evidence: "plain-cpu is OK since 10:03:10",
    });
    expect(checked.timeline.at(-1)).toMatchObject({
      type: "action",
      id: "a1",
      status: "succeeded",
      reason: "verified effective: plain-cpu is OK since 10:03:10",
    });
    expect(nextDueAt(checked, config)).toBeNull();
    // Checked once: a later sweep has nothing to do.
    h.clock.time += MINUTE;
    expect((await h.runSweep()).verified).toEqual([]);
    expect(h.cloudwatch.asked).toHaveLength(1);
  });

  it("verifies a dry run's simulated action too (did the alarm recover without it?)", async () => {
    const h = harness();
    const id = await h.alarm("dry-run");
    await h.dispatchAll();
    expect(await h.ledger(id)).toEqual(["a1:scale:simulated:pending"]);
    h.cloudwatch.set("dry-run", "ALARM", START, "Threshold Crossed: 1 datapoint [9.0] > 5.0");
    h.clock.time += 30 * SECOND;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification?.evidence).toBe(
      "dry-run is still ALARM since 10:00:00: Threshold Crossed: 1 datapoint [9.0] > 5.0",
    );
  });

  it("finds an already resolved incident effective without asking CloudWatch", async () => {
    const h = harness();
    const id = await h.alarm("plain-disk");
    await h.dispatchAll();
    h.clock.time += 90 * SECOND;
    await h.alarm("plain-disk", "recovery");
    expect((await h.record(id)).incident.status).toBe("resolved");
    // The verification stays due on a resolved incident.
    expect(nextDueAt(await h.record(id), config)).toBe(START + 5 * MINUTE);
    h.clock.time = START + 5 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "effective",
      evidence: "resolved by recovery:cloudwatch at 10:01:30",
    });
    expect(h.cloudwatch.asked).toEqual([]);
  });

  it("waits out INSUFFICIENT_DATA, checking each minute, and takes OK when it comes", async () => {
    const h = harness();
    const id = await h.alarm("plain-gap");
    await h.dispatchAll();
    h.cloudwatch.set("plain-gap", "INSUFFICIENT_DATA", START + 4 * MINUTE);
    h.clock.time = START + 5 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toEqual({
      status: "pending",
      dueAt: iso(START + 6 * MINUTE),
      checkedAt: null,
      evidence: "plain-gap has had INSUFFICIENT_DATA since 10:04:00: checking again",
    });
    expect(nextDueAt(await h.record(id), config)).toBe(START + 6 * MINUTE);
    h.clock.time = START + 6 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification?.status).toBe("pending");
    h.cloudwatch.set("plain-gap", "OK", START + 6 * MINUTE + 30 * SECOND);
    h.clock.time = START + 7 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "effective",
      checkedAt: iso(START + 7 * MINUTE),
      evidence: "plain-gap is OK since 10:06:30",
    });
    expect(h.cloudwatch.asked).toHaveLength(3);
  });

  it("counts an alarm that never shows OK within two verifyAfter as ineffective", async () => {
    const h = harness();
    const id = await h.alarm("plain-gone");
    await h.dispatchAll();
    // Not found (deleted, or another account without a role): inconclusive, like missing data.
    for (let minute = 5; minute < 10; minute++) {
      h.clock.time = START + minute * MINUTE;
      await h.runSweep();
      expect((await h.action(id, "a1")).verification?.status).toBe("pending");
    }
    h.clock.time = START + 10 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "ineffective",
      evidence: "plain-gone was not found: not back to OK",
    });
  });

  it("tries again on the next sweep when CloudWatch cannot be read", async () => {
    const h = harness();
    const id = await h.alarm("plain-throttled");
    await h.dispatchAll();
    h.cloudwatch.set("plain-throttled", "OK", START + MINUTE);
    h.cloudwatch.failNext = 1;
    h.clock.time = START + 5 * MINUTE;
    expect((await h.runSweep()).verified).toEqual([]);
    expect((await h.action(id, "a1")).verification?.status).toBe("pending");
    h.clock.time += SECOND;
    expect((await h.runSweep()).verified).toEqual([id]);
    expect((await h.action(id, "a1")).verification?.status).toBe("effective");
  });

  it("checks every firing alarm of a grouped incident: one still in ALARM is ineffective", async () => {
    const h = harness();
    const id = await h.alarm("shop-5xx");
    h.clock.time += 10 * SECOND;
    expect(await h.alarm("shop-latency")).toBe(id);
    expect((await h.record(id)).alerts.map((alert) => alert.title)).toEqual([
      "shop-5xx",
      "shop-latency",
    ]);
    await h.dispatchAll();
    h.cloudwatch.set("shop-5xx", "OK", START + 40 * SECOND);
    h.cloudwatch.set("shop-latency", "ALARM", START + 10 * SECOND, "p99 2.3 s > 1 s");
    h.clock.time += MINUTE;
    await h.runSweep();
    expect(h.cloudwatch.asked).toEqual([
      { names: ["shop-5xx", "shop-latency"], account: "123456789012" },
    ]);
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "ineffective",
      evidence: "shop-latency is still ALARM since 10:00:10: p99 2.3 s > 1 s",
    });
  });

  it("finds a grouped incident effective once all its firing alarms are OK", async () => {
    const h = harness();
    const id = await h.alarm("shop-errors");
    await h.alarm("shop-queue");
    await h.dispatchAll();
    h.cloudwatch.set("shop-errors", "OK", START + 20 * SECOND);
    h.cloudwatch.set("shop-queue", "OK", START + 30 * SECOND);
    h.clock.time += MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "effective",
      evidence: "shop-errors is OK since 10:00:20; shop-queue is OK since 10:00:30",
    });
  });

  it("does not verify a failed or skipped action, and the view says so", async () => {
    const h = harness();
    h.aws.failNext.push(new Error("AccessDeniedException: not authorized"));
    const failed = await h.alarm("plain-a");
    await h.dispatchAll();
    h.clock.time += MINUTE;
    // The same target again within its cooldown: skipped.
    h.aws.failNext = [];
    const first = await h.alarm("plain-b");
    await h.dispatchAll();
    h.clock.time += MINUTE;
    const skipped = await h.alarm("plain-c");
    await h.dispatchAll();
    expect((await h.action(first, "a1")).verification?.status).toBe("pending");
    for (const [id, status, evidence] of [
      [failed, "failed", "not verified: it failed"],
      [skipped, "skipped", "not verified: it was skipped, nothing was changed"],
    ] as const) {
      const action = await h.action(id, "a1");
      expect(action.status).toBe(status);
      expect(action.verification ?? null).toBeNull();
      expect(actionView(action).verification).toEqual({
        status: "not-verified",
        dueAt: null,
        checkedAt: null,
        evidence,
      });
    }
  });
});

describe("logs and Sentry: whether new signals stopped", () => {
  it("is effective when nothing arrived after the action ran and its grace", async () => {
    const h = harness();
    const id = await h.logLine();
    await h.dispatchAll();
    // Within the grace (a minute, at most half of verifyAfter): already on its way.
    h.clock.time += 50 * SECOND;
    await h.logLine();
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "effective",
      evidence: "no new signal since a1 ran at 10:00:00 (last at 10:00:50)",
    });
    expect(h.cloudwatch.asked).toEqual([]);
  });

  it("is ineffective when signals kept arriving, and the ladder goes on", async () => {
    const h = harness();
    const id = await h.logLine();
    await h.dispatchAll();
    h.clock.time += 90 * SECOND;
    await h.logLine();
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    const record = await h.record(id);
    expect(record.actions[0]?.verification).toMatchObject({
      status: "ineffective",
      evidence: "signals still arriving: the last at 10:01:30, 1m 30s after a1 ran",
    });
    expect(record.actions[1]).toMatchObject({
      id: "a2",
      type: "scale",
      targetKey: "ecs-service:us-east-1/prod/logs-workers",
      status: "planned",
      trigger: "ineffective",
      follows: { action: "a1", root: "a1", step: 0 },
    });
  });

  it("pages when the last step did not stop the signals; a re-triggered step climbs no ladder", async () => {
    const h = harness();
    const id = await h.logLine();
    await h.dispatchAll();
    h.clock.time = START + 90 * SECOND;
    await h.logLine();
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    await h.dispatchAll();
    h.clock.time = START + 6 * MINUTE;
    await h.logLine();
    h.clock.time = START + 7 * MINUTE;
    await h.runSweep();
    const final = await h.action(id, "a3");
    expect(final).toMatchObject({ type: "page", trigger: "ineffective" });
    expect(final.page?.channel).toBe("oncall");
    expect(final.reason).toBe(
      "every step of a1's ladder was tried and checkout: ERROR is still firing (new signals keep arriving): " +
        "a1 (scale ecs-service:us-east-1/prod/logs) ineffective: signals still arriving: the last at 10:01:30, 1m 30s after a1 ran; " +
        "a2 (scale ecs-service:us-east-1/prod/logs-workers) ineffective: signals still arriving: the last at 10:06:00, 4m after a2 ran. " +
        "Nothing more to try automatically: a person must act.",
    );
    await h.dispatchAll();
    // Past the cooldown a new line re-triggers the rule's scale-out: verified, and that is all.
    h.clock.time = START + 11 * MINUTE;
    await h.logLine();
    await h.dispatchAll();
    expect((await h.action(id, "a4")).trigger).toBe("retriggered");
    h.clock.time = START + 12 * MINUTE + 30 * SECOND;
    await h.logLine();
    h.clock.time = START + 13 * MINUTE;
    await h.runSweep();
    expect(await h.ledger(id)).toEqual([
      "a1:scale:succeeded:ineffective",
      "a2:scale:succeeded:ineffective",
      "a3:page:succeeded",
      "a4:scale:succeeded:ineffective",
    ]);
  });

  it("judges a Sentry incident by its webhooks the same way", async () => {
    const h = harness();
    const sentry = {
      source: "sentry" as const,
      fingerprint: "sentry:checkout:4711",
      title: "TypeError: cart is undefined",
      attributes: { project: "checkout" },
    };
    const id = await h.signal(sentry);
    await h.dispatchAll();
    h.clock.time += 2 * MINUTE;
    await h.signal(sentry);
    h.clock.time = START + 3 * MINUTE;
    await h.runSweep();
    expect((await h.action(id, "a1")).verification).toMatchObject({
      status: "ineffective",
      evidence: "signals still arriving: the last at 10:02:00, 2m after a1 ran",
    });
  });
});

describe("ifIneffective: the ladder", () => {
  it("climbs step by step through the guards, and pages what was tried when the last fails", async () => {
    const h = harness();
    const id = await h.alarm("api-5xx");
    await h.dispatchAll();
    h.cloudwatch.set("api-5xx", "ALARM", START, "Threshold Crossed");
    expect(await h.ledger(id)).toEqual(["a1:scale:succeeded:pending", "a2:page:succeeded"]);

    // Step 1: scale the workers, planned in the same write as a1's verdict.
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    expect(await h.ledger(id)).toEqual([
      "a1:scale:succeeded:ineffective",
      "a2:page:succeeded",
      "a3:scale:planned",
    ]);
    expect((await h.action(id, "a3")).follows).toEqual({ action: "a1", root: "a1", step: 0 });
    // Nothing more until a3 has run and been checked: a second sweep plans nothing.
    await h.runSweep();
    expect(await h.ledger(id)).toHaveLength(3);
    await h.dispatchAll();
    expect(h.aws.desired.get("prod/api-workers")).toBe(4);

    // Step 2 pages and the ladder goes on to step 3, a failover that waits for approval.
    h.clock.time = START + 4 * MINUTE;
    await h.runSweep();
    expect(await h.ledger(id)).toEqual([
      "a1:scale:succeeded:ineffective",
      "a2:page:succeeded",
      "a3:scale:succeeded:ineffective",
      "a4:page:planned",
      "a5:failover:awaiting-approval",
      "a6:page:planned",
    ]);
    const ladderPage = await h.action(id, "a4");
    expect(ladderPage.follows).toEqual({ action: "a3", root: "a1", step: 1 });
    expect(ladderPage.reason).toBe(
      "a3 (scale ecs-service:us-east-1/prod/api-workers) did not help (api-5xx is still ALARM since 10:00:00: Threshold Crossed); the alarm api-5xx is still firing, trying the next step of a1's ladder",
    );
    expect((await h.action(id, "a6")).reason).toContain(`/incident approve ${id} a5`);
    await h.dispatchAll();
    await h.commands.approve(id, "a5", "api:ops");
    h.clock.time += 10 * SECOND;
    await h.dispatchAll();
    expect(h.aws.writer).toBe("orders-2");
    const failover = await h.action(id, "a5");
    expect(failover.verification).toMatchObject({
      status: "pending",
      dueAt: iso(START + 9 * MINUTE + 10 * SECOND),
    });

    // The last step is ineffective too: people hear what was tried and that it still fires.
    h.clock.time = START + 9 * MINUTE + 10 * SECOND;
    await h.runSweep();
    const final = (await h.record(id)).actions.at(-1) as ActionRecord;
    expect(final).toMatchObject({ id: "a7", type: "page", trigger: "ineffective" });
    expect(final.reason).toBe(
      "every step of a1's ladder was tried and the alarm api-5xx is still firing: " +
        "a1 (scale ecs-service:us-east-1/prod/api) ineffective: api-5xx is still ALARM since 10:00:00: Threshold Crossed; " +
        "a3 (scale ecs-service:us-east-1/prod/api-workers) ineffective: api-5xx is still ALARM since 10:00:00: Threshold Crossed; " +
        "a5 (failover rds-cluster:us-east-1/orders) ineffective: api-5xx is still ALARM since 10:00:00: Threshold Crossed. " +
        "Nothing more to try automatically: a person must act.",
    );
    await h.dispatchAll();
    expect(h.pager.delivered.at(-1)).toMatchObject({
      channel: "oncall",
      content: { kind: "page", note: final.reason },
    });
    expect(nextDueAt(await h.record(id), config)).toBeNull();

    // The post-mortem's automation section tells the ladder's story.
    const done = await h.record(id);
    const markdown = renderPostmortemMarkdown(
      buildPostmortem(done, assembleTimeline(done, []), iso(h.clock.time)),
    );
    const automation = markdown.split("## What the automation did")[1] ?? "";
    expect(automation).toContain(
      "- **a3** scale `ecs-service:us-east-1/prod/api-workers`, after an ineffective action: succeeded at 10:02:00 — desiredCount 2 → 4\n" +
        "  - Step 1 of a1's ladder, after a1 was ineffective\n",
    );
    expect(automation).toContain(
      "  - Verified ineffective at 10:04:00: api-5xx is still ALARM since 10:00:00: Threshold Crossed\n",
    );
    expect(automation).toContain("  - Step 3 of a1's ladder, after a3 was ineffective\n");
    expect(automation).toContain(
      "- **a7** page oncall, after an ineffective action: succeeded at 10:09:10 — sent via sns\n",
    );
  });

  it("holds the next step while a silence holds the incident: nothing responds", async () => {
    const h = harness();
    const id = await h.alarm("api-held");
    await h.dispatchAll();
    h.cloudwatch.set("api-held", "ALARM", START);
    const endsAt = iso(START + 30 * MINUTE);
    await h.silences.put({
      id: "S4K2PX",
      match: { alarmName: "api-held" },
      matcher: "alarmName=api-held",
      reason: "deploy freeze",
      createdBy: "api:ops",
      createdAt: iso(START + MINUTE),
      endsAt,
      incidentId: null,
    });
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    const record = await h.record(id);
    expect(record.actions.slice(2)).toEqual([
      expect.objectContaining({
        id: "a3",
        type: "scale",
        status: "skipped",
        reason: `silenced by S4K2PX until ${endsAt} (deploy freeze)`,
        follows: { action: "a1", root: "a1", step: 0 },
        notBefore: endsAt,
      }),
    ]);
    // Looked at again when the silence ends.
    expect(nextDueAt(record, config)).toBe(Date.parse(endsAt));
  });

  it("rolls back exactly the service's last change when the ladder says last-change", async () => {
    const h = harness();
    h.lastChanges.set("checkout", {
      id: "chg-7",
      service: "checkout",
      version: "43",
      previousVersion: "42",
      target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
      commit: "abc123",
      author: "ci",
      url: null,
      at: iso(START - 4 * MINUTE),
      origin: "lambda",
      account: "123456789012",
    });
    const id = await h.alarm("checkout-5xx");
    await h.dispatchAll();
    h.cloudwatch.set("checkout-5xx", "ALARM", START);
    h.clock.time = START + MINUTE;
    await h.runSweep();
    expect(h.changes.asked).toEqual([`checkout@${iso(START + MINUTE)}`]);
    expect(await h.action(id, "a2")).toMatchObject({
      type: "rollback",
      status: "planned",
      targetKey: "lambda-alias:us-east-1/checkout-api:live",
      spec: { change: { id: "chg-7", version: "43", previousVersion: "42" } },
      follows: { action: "a1", root: "a1", step: 0 },
    });
  });

  it("goes on past a last-change rollback with no change to roll back", async () => {
    const h = harness();
    const id = await h.alarm("checkout-latency");
    await h.dispatchAll();
    h.cloudwatch.set("checkout-latency", "ALARM", START);
    h.clock.time = START + MINUTE;
    await h.runSweep();
    const [, skipped, next] = (await h.record(id)).actions;
    expect(skipped).toMatchObject({
      type: "rollback",
      status: "skipped",
      reason: "rollback of the last change: no change to checkout recorded",
      follows: { action: "a1", root: "a1", step: 0 },
    });
    expect(next).toMatchObject({
      type: "scale",
      status: "planned",
      targetKey: "ecs-service:us-east-1/prod/checkout-workers",
      follows: { action: "a2", root: "a1", step: 1 },
    });
  });

  it("stops climbing once a step is effective", async () => {
    const h = harness();
    const id = await h.alarm("api-latency");
    await h.dispatchAll();
    h.cloudwatch.set("api-latency", "ALARM", START);
    h.clock.time = START + 2 * MINUTE;
    await h.runSweep();
    await h.dispatchAll();
    h.cloudwatch.set("api-latency", "OK", START + 3 * MINUTE);
    h.clock.time = START + 4 * MINUTE;
    await h.runSweep();
    expect(await h.ledger(id)).toEqual([
      "a1:scale:succeeded:ineffective",
      "a2:page:succeeded",
      "a3:scale:succeeded:effective",
    ]);
  });

  it("goes on past a step its guards skip (here a cooldown), which changed nothing", async () => {
    const h = harness();
    const id = await h.alarm("cart-errors");
    await h.dispatchAll();
    h.cloudwatch.set("cart-errors", "ALARM", START);
    h.clock.time = START + MINUTE;
    await h.runSweep();
    await h.dispatchAll();
    const ledger = (await h.record(id)).actions;
    expect(ledger.map((action) => [action.id, action.status, action.follows?.step])).toEqual([
      ["a1", "succeeded", undefined],
      ["a2", "skipped", 0],
      ["a3", "succeeded", 1],
    ]);
    expect(ledger[1]?.reason).toMatch(/cooldown/);
    expect(ledger[2]?.follows).toEqual({ action: "a2", root: "a1", step: 1 });
    expect(h.aws.desired.get("prod/cart-workers")).toBe(3);
  });
});
