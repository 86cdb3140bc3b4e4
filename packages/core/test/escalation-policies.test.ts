import { describe, expect, it } from "vitest";
import {
  type ConfigInput,
  ConfigSchema,
  Correlator,
  Dispatcher,
  GuardKeeper,
  IncidentCommands,
  type IncidentRecord,
  newOverride,
  PageBudgetKeeper,
  Policy,
  planResponses,
  sweep,
} from "../src";
import {
  aConfig,
  aSignal,
  MemoryIncidentStore,
  MemoryOverrideStore,
  MemoryVersionedItems,
  RecordingPager,
} from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z"); // a Thursday
const SECOND = 1000;

const MANAGERS = "arn:aws:sns:us-east-1:123456789012:managers";

const base: ConfigInput = {
  channels: { managers: { sns: MANAGERS } },
  people: {
    alice: { slack: "U0ALICE01", phone: "+14155550101" },
    bob: { slack: "U0BOB0001" },
    dave: { slack: "U0DAVE001", pagerduty: { routingKey: "R0DAVE0000000000000000000000000A" } },
    erin: { email: "erin@example.com" },
  },
  schedules: {
    primary: {
      timeZone: "UTC",
      rotation: { people: ["bob"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
    },
    weekend: {
      timeZone: "UTC",
      rotation: { people: ["alice"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
      restrict: { days: ["Sat", "Sun"], from: "00:00", to: "23:59" },
    },
  },
  escalationPolicies: {
    default: {
      levels: [
        { notify: [{ person: "alice" }], after: "30s" },
        { notify: [{ person: "dave" }, { channel: "managers" }], after: "1m" },
      ],
      repeat: 1,
      reacknowledgeAfter: "1h",
    },
    rota: {
      levels: [
        { notify: [{ schedule: "weekend" }, { schedule: "primary" }], after: "30s" },
        { notify: [{ person: "erin" }, { person: "dave" }], after: "30s" },
      ],
    },
  },
  rules: [
    { name: "api", match: { alarmName: "api-*" }, severity: "warning", escalation: "default" },
    { name: "db", match: { alarmName: "db-*" }, severity: "critical", escalation: "rota" },
  ],
};

/** Records what was delivered: `kind:recipient:transport`. */
class FakePager extends RecordingPager {
  /** In delivery order, except that the transports of one page (sent at once) are sorted. */
  sent = () =>
    this.delivered.map((page) => `${page.content.kind}:${page.channel}:${page.transport}`);
  /** The lines from `from` on, sorted: one level's recipients are notified at once. */
  since = (from: number) => this.sent().slice(from).sort();
}

function harness(
  input: ConfigInput = base,
  options: { budget?: PageBudgetKeeper; overrides?: MemoryOverrideStore } = {},
) {
  const config = aConfig(input);
  const clock = {
    time: START,
    now() {
      return this.time;
    },
  };
  const store = new MemoryIncidentStore({ config, clock });
  const pager = new FakePager();
  const correlator = new Correlator({
    store,
    policy: new Policy(config),
    clock,
    respond: (record, events, now) =>
      planResponses(record, events, { config, now, region: "us-east-1" }),
  });
  const dispatcher = () =>
    new Dispatcher({
      store,
      guards: new GuardKeeper(new MemoryVersionedItems()),
      gateway: { send: async () => ({}) },
      pager,
      pageBudget: options.budget,
      clock,
      config,
      mode: "simulated",
      region: "us-east-1",
    });
  const commands = new IncidentCommands({ store, config, clock, region: "us-east-1" });
  const alarm = async (name: string) => {
    const signal = aSignal({
      fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
      title: name,
      at: new Date(clock.time).toISOString(),
      attributes: { alarmName: name },
    });
    const { results } = await correlator.process([signal]);
    return results[0]?.incidentId as string;
  };
  const sweepNow = () =>
    sweep({ store, config, clock, region: "us-east-1", overrides: options.overrides });
  const dispatchAll = async () => {
    const shared = dispatcher();
    for (const id of await store.listPending()) await shared.dispatch(id);
  };
  /** Moves the clock to `seconds` after the start, sweeps and dispatches what it planned. */
  const at = async (seconds: number) => {
    clock.time = START + seconds * SECOND;
    await sweepNow();
    await dispatchAll();
  };
  const record = async (id: string) => (await store.get(id)) as IncidentRecord;
  return {
    config,
    clock,
    store,
    pager,
    alarm,
    sweepNow,
    dispatchAll,
    dispatcher,
    at,
    record,
    commands,
  };
}

describe("escalation policies", () => {
  it("notifies level 1 as the incident opens, each next level after the previous one's time, and repeats the policy once", async () => {
    const h = harness();
    const id = await h.alarm("api-5xx");
    await h.dispatchAll();
    expect(h.pager.since(0)).toEqual(["page:person:alice:slack", "page:person:alice:sns"]);
    await h.at(29);
    expect(h.pager.sent()).toHaveLength(2);
    await h.at(30);
    expect(h.pager.since(2)).toEqual([
      "escalation:managers:sns",
      "escalation:person:dave:pagerduty",
      "escalation:person:dave:slack",
    ]);
    // Level 2 waits a minute; then round 2 starts again at level 1, and ends after its level 2.
    await h.at(89);
    expect(h.pager.sent()).toHaveLength(5);
    await h.at(90);
    expect(h.pager.since(5)).toEqual([
      "escalation:person:alice:slack",
      "escalation:person:alice:sns",
    ]);
    await h.at(120);
    expect(h.pager.sent()).toHaveLength(10);
    expect((await h.record(id)).escalation).toEqual({ repeats: 4, nextAt: null });
    await h.at(3600);
    expect(h.pager.sent()).toHaveLength(10);
    expect((await h.record(id)).actions.map((action) => action.page?.kind)).toEqual([
      "page",
      "escalation",
      "escalation",
      "escalation",
      "escalation",
      "escalation",
    ]);
  });

  it("plans the next level for the planned time, not the sweep's: a late sweep delays no later level", async () => {
    const h = harness();
    const id = await h.alarm("api-late");
    await h.at(45); // 15 s late
    expect((await h.record(id)).escalation.nextAt).toBe(
      new Date(START + 90 * SECOND).toISOString(),
    );
  });

  it("stops once acknowledged, and PagerDuty hears the acknowledgement", async () => {
    const h = harness();
    const id = await h.alarm("api-ack");
    await h.at(30);
    expect(h.pager.sent()).toHaveLength(5);
    await h.commands.acknowledge(id, "slack:U0ALICE01");
    await h.at(120);
    await h.at(600);
    // Only dave's PagerDuty alert hears it; nothing else is sent.
    expect(h.pager.since(5)).toEqual(["acknowledged:person:dave:pagerduty"]);
  });

  it("stops once resolved", async () => {
    const h = harness();
    const id = await h.alarm("api-resolve");
    await h.dispatchAll();
    await h.commands.resolve(id, "slack:U0ALICE01", null);
    await h.dispatchAll();
    await h.at(30);
    await h.at(120);
    // Alice heard the page; she has no PagerDuty, so nothing tells her phone it is over.
    expect(h.pager.since(0)).toEqual(["page:person:alice:slack", "page:person:alice:sns"]);
    expect((await h.record(id)).escalation.nextAt).toBeNull();
  });

  it("records a level's schedule with nobody on call and skips it; a person with no way to reach is recorded too", async () => {
    const h = harness();
    const id = await h.alarm("db-down");
    // Schedules need the sweep's on-call lookup: level 1 is due at once.
    expect((await h.record(id)).escalation.nextAt).toBe(new Date(START).toISOString());
    await h.at(0);
    expect(h.pager.sent()).toEqual(["page:person:bob:slack"]);
    await h.at(30);
    expect(h.pager.since(1)).toEqual([
      "escalation:person:dave:pagerduty",
      "escalation:person:dave:slack",
    ]);
    const { timeline, actions } = await h.record(id);
    const skipped = actions.filter((action) => action.status === "skipped");
    expect(skipped.map((action) => action.reason)).toEqual([
      "level 1 of 2: nobody on call for schedule weekend, skipped",
      expect.stringMatching(/^erin has no Slack id, phone or PagerDuty key: level 2 of 2/),
    ]);
    expect(timeline).toContainEqual(
      expect.objectContaining({
        type: "action",
        status: "skipped",
        target: "page:schedule:weekend",
      }),
    );
  });

  it("notifies whoever an override puts on call, once, even when they are also named in the level", async () => {
    const overrides = new MemoryOverrideStore();
    const h = harness(
      {
        ...base,
        escalationPolicies: {
          ...base.escalationPolicies,
          rota: {
            levels: [{ notify: [{ schedule: "primary" }, { person: "dave" }], after: "30s" }],
          },
        },
      },
      { overrides },
    );
    await overrides.put(
      newOverride(
        h.config,
        {
          schedule: "primary",
          person: "dave",
          from: START - 60_000,
          to: START + 3_600_000,
          createdBy: "api:tests",
        },
        START - 60_000,
      ),
    );
    const id = await h.alarm("db-override");
    await h.at(0);
    expect(h.pager.since(0)).toEqual(["page:person:dave:pagerduty", "page:person:dave:slack"]);
    expect((await h.record(id)).timeline).toContainEqual(
      expect.objectContaining({
        type: "action",
        status: "planned",
        reason: "level 1 of 1 (on call for primary)",
      }),
    );
  });

  it("notifies each recipient once per level when two sweeps and two dispatchers run at once", async () => {
    const h = harness();
    const ids = await Promise.all(["api-a", "api-b", "api-c"].map((name) => h.alarm(name)));
    const racing = async () => {
      await Promise.all([h.sweepNow(), h.sweepNow()]);
      const [one, two] = [h.dispatcher(), h.dispatcher()];
      for (const id of await h.store.listPending())
        await Promise.all([one.dispatch(id), two.dispatch(id)]);
    };
    for (const seconds of [0, 30, 30, 90, 90, 120, 120]) {
      h.clock.time = START + seconds * SECOND;
      await racing();
    }
    for (const id of ids) {
      const sent = h.pager.delivered
        .filter((page) => page.content.incident.id === id)
        .map((page) => `${page.content.kind}:${page.channel}:${page.transport}`);
      expect(sent.filter((line) => line === "escalation:person:dave:slack")).toHaveLength(2);
      expect(sent.filter((line) => line.endsWith("alice:slack"))).toHaveLength(2);
      expect(sent).toHaveLength(10);
    }
  });

  it("reminds the acknowledger of an incident neither resolved nor updated for reacknowledgeAfter", async () => {
    const h = harness();
    const id = await h.alarm("api-forgotten");
    await h.dispatchAll();
    await h.commands.acknowledge(id, "slack:U0ALICE01");
    await h.dispatchAll();
    // A signal at 30 min is an update: the reminder counts from it.
    h.clock.time = START + 1800 * SECOND;
    await h.alarm("api-forgotten");
    await h.at(3600);
    expect(h.pager.sent()).toHaveLength(2);
    await h.at(5400);
    expect(h.pager.since(2)).toEqual([
      "escalation:person:alice:slack",
      "escalation:person:alice:sns",
    ]);
    const planned = (await h.record(id)).timeline.findLast(
      (entry) => entry.type === "action" && entry.status === "planned",
    );
    expect(planned).toMatchObject({
      target: "page:person:alice",
      reason: expect.stringMatching(
        /^acknowledged by slack:U0ALICE01 1h 30m ago, nothing since for 1h$/,
      ),
    });
    await h.at(5400 + 3600);
    expect(h.pager.sent()).toHaveLength(6);
  });
});

describe("escalation policies and the page budget", () => {
  it("never folds a person's notification into a channel digest: past the budget, people are still notified", async () => {
    const h = harness(
      { ...base, paging: { budget: { perMinute: 1, perHour: 1 } } },
      { budget: new PageBudgetKeeper(new MemoryVersionedItems()) },
    );
    const ids = await Promise.all(["api-1", "api-2", "api-3"].map((name) => h.alarm(name)));
    await h.dispatchAll();
    await h.at(30);
    for (const id of ids) {
      const sent = h.pager.delivered.filter((page) => page.content.incident.id === id);
      expect(sent.filter((page) => page.channel === "person:alice")).toHaveLength(2);
      expect(sent.filter((page) => page.channel === "person:dave")).toHaveLength(2);
    }
    // The channel of level 2 is budgeted as before: one page, the others folded.
    const managers = h.pager.delivered.filter((page) => page.channel === "managers");
    expect(managers).toHaveLength(1);
  });
});

describe("escalation policy config", () => {
  it("names the bad path of an unknown policy, person, channel or schedule", () => {
    const parsed = ConfigSchema.safeParse({
      ...base,
      rules: [{ name: "x", match: {}, severity: "info", escalation: "nope" }],
      escalationPolicies: {
        p: {
          levels: [
            {
              notify: [{ person: "zed" }, { channel: "nowhere" }, { schedule: "none" }],
              after: "2s",
            },
          ],
        },
      },
    });
    const notify = ["escalationPolicies", "p", "levels", 0, "notify"];
    expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([
      ["rules", 0, "escalation"],
      [...notify, 0, "person"],
      [...notify, 1, "channel"],
      [...notify, 2, "schedule"],
    ]);
  });
});
