import { describe, expect, it } from "vitest";
import {
  Correlator,
  Dispatcher,
  GuardKeeper,
  type IncidentRecord,
  PageBudgetKeeper,
  Policy,
  planResponses,
} from "../src";
import {
  aConfig,
  aSignal,
  MemoryIncidentStore,
  MemoryVersionedItems,
  RecordingPager,
} from "../src/testing";

/** Well inside a minute: a first page here is claimed by its budget take alone. */
const START = Date.parse("2026-11-26T10:00:20.000Z");
const MINUTE = 60_000;

const config = aConfig({
  rules: [
    {
      name: "api",
      match: { alarmName: "api-*" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: {
    oncall: {
      sns: "arn:aws:sns:us-east-1:123456789012:oncall",
      pagerduty: { routingKey: "0123456789abcdef0123456789abcdef" },
    },
  },
  escalation: { maxRepeats: 0 },
  paging: { budget: { perMinute: 100, perHour: 1000 } },
});

/** The incident store as the dispatcher sees it, counting its writes; `dead` fails them all. */
class CountingStore extends MemoryIncidentStore {
  saves = 0;
  dead = false;
  override async save(...args: Parameters<MemoryIncidentStore["save"]>): Promise<void> {
    if (this.dead) throw new Error("process killed");
    this.saves++;
    return super.save(...args);
  }
}

function harness() {
  const clock = {
    time: START,
    now() {
      return this.time;
    },
  };
  const store = new CountingStore({ config, clock });
  const pager = new RecordingPager();
  // One table: each dispatcher (a Lambda instance of its own) has its own keeper over it.
  const budgetItems = new MemoryVersionedItems();
  const correlator = new Correlator({
    store,
    policy: new Policy(config),
    clock,
    respond: (record, events, now) =>
      planResponses(record, events, { config, now, region: "us-east-1" }),
  });
  const dispatcher = (over: CountingStore = store) =>
    new Dispatcher({
      store: over,
      guards: new GuardKeeper(new MemoryVersionedItems()),
      gateway: { send: async () => ({}) },
      pager,
      pageBudget: new PageBudgetKeeper(budgetItems),
      clock,
      config,
      mode: "simulated",
      region: "us-east-1",
    });
  const alarm = async (name: string) => {
    const signal = aSignal({
      fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
      title: name,
      at: new Date(clock.time).toISOString(),
      attributes: { alarmName: name },
    });
    const { results } = await correlator.process([signal]);
    const id = results[0]?.incidentId as string;
    // The stream record's image: the record as the processor wrote it.
    return { id, image: (await store.get(id)) as IncidentRecord };
  };
  return { clock, store, pager, dispatcher, alarm };
}

describe("a first page claimed by its budget take", () => {
  it("goes out once with one incident write, however many dispatchers get its stream record", async () => {
    const { store, pager, dispatcher, alarm } = harness();
    const { id, image } = await alarm("api-5xx");
    const before = store.saves;
    // Redelivered and duplicated records: eight dispatchers with the same image at once.
    await Promise.all(Array.from({ length: 8 }, () => dispatcher().dispatch(id, image)));
    expect(pager.delivered.map((page) => page.transport).sort()).toEqual(["pagerduty", "sns"]);
    // No claim written to the incident: its only write is the outcome.
    expect(store.saves - before).toBe(1);
    const page = (await store.get(id))?.actions[0];
    expect(page).toMatchObject({ status: "succeeded", attempts: 1, claim: null });

    // The same (now stale) image delivered again later in the minute: nothing more.
    await dispatcher().dispatch(id, image);
    expect(pager.delivered).toHaveLength(2);
  });

  it("holds a page whose dispatcher died mid-send until its claim lapses, then sends it again", async () => {
    const { clock, store, pager, dispatcher, alarm } = harness();
    const { id, image } = await alarm("api-timeout");
    // The first dispatcher sends, then dies before it records anything.
    const dying = new CountingStore({ config, clock });
    Object.assign(dying, { get: store.get.bind(store) });
    dying.dead = true;
    await dispatcher(dying).dispatch(id, image);
    expect(pager.delivered).toHaveLength(2);
    expect((await store.get(id))?.actions[0]).toMatchObject({ status: "planned", attempts: 0 });

    // Lambda retries the batch: the budget's claim holds, nothing is sent twice meanwhile.
    await dispatcher().dispatch(id, image);
    clock.time += 30_000;
    await dispatcher().dispatch(id);
    expect(pager.delivered).toHaveLength(2);

    // Its claim lapsed (two minutes): as with a claim on the incident, the page goes out again
    // (at least once), claimed on the incident item this time.
    clock.time = START + 3 * MINUTE;
    await dispatcher().dispatch(id);
    expect(pager.delivered).toHaveLength(4);
    expect((await store.get(id))?.actions[0]).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("claims on the incident item a page due at a minute's edge, within clock skew of it", async () => {
    const { clock, store, pager, dispatcher, alarm } = harness();
    clock.time = Date.parse("2026-11-26T10:01:59.500Z");
    const { id, image } = await alarm("api-edge");
    const before = store.saves;
    await dispatcher().dispatch(id, image);
    expect(pager.delivered).toHaveLength(2);
    expect(store.saves - before).toBe(2);
    await dispatcher().dispatch(id, image);
    expect(pager.delivered).toHaveLength(2);
  });
});
