import { loadEvent } from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Correlator,
  MAX_MARKS_PER_GENERATION,
  type NormalizeOptions,
  normalizeEvent,
  Policy,
  type Signal,
} from "../src";
import { aConfig, aSignal, MemoryIncidentStore } from "../src/testing";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const config = aConfig();
const policy = new Policy(config);
const FINGERPRINT = "cloudwatch:123456789012:us-east-1:api-latency";

const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const alarm = (seconds: number, overrides: Partial<Signal> = {}) =>
  aSignal({ at: at(seconds), ...overrides });
const ok = (seconds: number, overrides: Partial<Signal> = {}) =>
  aSignal({ kind: "recovery", at: at(seconds), ...overrides });

function setup(now = NOW) {
  const store = new MemoryIncidentStore({ clock: { now: () => now } });
  // A fresh correlator per batch: batches are separate Lambda invocations, caches cold.
  const process = (signals: Signal[], time = now) =>
    new Correlator({ store, policy, clock: { now: () => time } }).process(signals);
  return { store, process };
}

describe("out of order across batches", () => {
  it("an ALARM arriving after its own OK opens nothing (before: an incident nothing resolves)", async () => {
    const { store, process } = setup(NOW + 60_000);
    await process([ok(30)]);
    const { results } = await process([alarm(20)]);
    expect(results.map((result) => result.outcome)).toEqual(["stale-trigger"]);
    expect(store.records.size).toBe(0);
    // A later change opens as usual.
    const next = await process([alarm(40)]);
    expect(next.results[0]?.outcome).toBe("applied");
    expect((await store.getCurrent(FINGERPRINT))?.incident.status).toBe("triggered");
  });

  it("on a resolved incident: counted on its timeline, and the incident stays resolved", async () => {
    const { store, process } = setup(NOW + 60_000);
    await process([alarm(0), ok(10)]);
    await process([ok(30)]);
    const { results } = await process([alarm(20), alarm(25)]);
    expect(results.map((result) => result.outcome)).toEqual(["stale-trigger", "stale-trigger"]);
    const record = await store.getCurrent(FINGERPRINT);
    expect(record?.incident).toMatchObject({ status: "resolved", sequence: 1, count: 1 });
    expect(record?.timeline.at(-1)).toMatchObject({
      type: "stale-trigger",
      signalAt: at(25),
      count: 2,
    });
    // A redelivery of one of them is a duplicate, not another stale trigger.
    expect((await process([results[0]?.signal as Signal])).results[0]?.outcome).toBe("duplicate");
  });

  it("remembers a stray recovery with one write per fingerprint per batch", async () => {
    const { store, process } = setup(NOW + 60_000);
    const fingerprints = ["a", "b", "c"].map((name) => `cloudwatch:123456789012:us-east-1:${name}`);
    await process(
      fingerprints.flatMap((fingerprint) =>
        [10, 20, 30].map((seconds) => ok(seconds, { fingerprint })),
      ),
    );
    expect(store.writes).toBe(3);
    expect(store.recoveries.get(fingerprints[0] as string)?.at).toBe(at(30));
  });

  it("forgets the recovery after trustedTime.past: a later trigger is ordered by arrival anyway", async () => {
    const { process, store } = setup(NOW + 60_000);
    await process([ok(30)]);
    const later = NOW + config.incidents.trustedTime.past + 60_000;
    const { results } = await process([alarm(20)], later);
    expect(results[0]?.outcome).toBe("applied");
    expect(store.records.size).toBe(1);
  });

  it("property: whatever the arrival order and batching, the alarm ends open iff its last change was ALARM", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat({ max: 15 }), { maxLength: 4 }),
        async (changes, startsWithOk, keys, sizes, redelivered) => {
          const { store, process } = setup(NOW + 3_600_000);
          // Alternating state changes, one second or more apart, as CloudWatch emits them.
          const signals = Array.from({ length: changes }, (_, index) => {
            const recovery = (index % 2 === 0) === startsWithOk;
            const seconds = 10 * (index + 1);
            return recovery ? ok(seconds) : alarm(seconds);
          });
          const shuffled = signals
            .map((signal, index) => ({ signal, key: keys[index] as number }))
            .sort((a, b) => a.key - b.key)
            .map(({ signal }) => signal);
          const deliveries = [...shuffled, ...redelivered.flatMap((index) => signals[index] ?? [])];
          for (let start = 0, batch = 0; start < deliveries.length; batch++) {
            const size = sizes[batch % sizes.length] as number;
            await process(deliveries.slice(start, start + size));
            start += size;
          }
          const last = signals.at(-1) as Signal;
          const current = await store.getCurrent(FINGERPRINT);
          const open = current !== null && current.incident.status !== "resolved";
          expect(open).toBe(last.kind === "trigger");
          const triggers = signals.filter((signal) => signal.kind === "trigger").length;
          const counted = [...store.records.values()].reduce(
            (sum, record) => sum + record.incident.count,
            0,
          );
          expect(counted).toBeLessThanOrEqual(triggers);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("one state change through several paths", () => {
  const options: NormalizeOptions = { policy, region: "us-east-1" };
  const eventBridge = loadEvent("cloudwatch/eventbridge-alarm.json") as {
    detail: { state: { timestamp: string; reason: string } };
  };
  // biome-ignore lint/suspicious/noExplicitAny: the SNS fixture is edited to carry the same change.
  type Editable = Record<string, any>;

  /** The SNS fixture, carrying the EventBridge fixture's state change (as CloudWatch sends it). */
  function snsOfSameChange(change: (message: Editable) => void = () => {}): unknown {
    const event = structuredClone(
      loadEvent("cloudwatch/sns-lambda-single-metric.json"),
    ) as Editable;
    const sns = event.Records[0].Sns;
    const message = JSON.parse(sns.Message) as Editable;
    Object.assign(message, {
      AlarmName: "api-checkout-latency",
      AlarmArn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-checkout-latency",
      NewStateValue: "ALARM",
      NewStateReason: eventBridge.detail.state.reason,
      StateChangeTime: eventBridge.detail.state.timestamp,
    });
    change(message);
    sns.Message = JSON.stringify(message);
    return event;
  }

  function actionOfSameChange(): unknown {
    const event = structuredClone(loadEvent("cloudwatch/alarm-action.json")) as Editable;
    event.alarmArn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-checkout-latency";
    event.alarmData.alarmName = "api-checkout-latency";
    event.alarmData.state.timestamp = eventBridge.detail.state.timestamp;
    return event;
  }

  const signalOf = (raw: unknown) => normalizeEvent(raw, options).signals[0] as Signal;

  it("EventBridge, SNS and an alarm action of one change are one delivery (before: counted three times)", async () => {
    const paths = [
      signalOf(eventBridge),
      signalOf(snsOfSameChange()),
      signalOf(snsOfSameChange((message) => delete message.AlarmArn)),
      signalOf(actionOfSameChange()),
    ];
    expect(new Set(paths.map((signal) => signal.fingerprint)).size).toBe(1);
    expect(new Set(paths.map((signal) => signal.deliveryId)).size).toBe(1);

    const { store, process } = setup(Date.parse(eventBridge.detail.state.timestamp.slice(0, 19)));
    const outcomes = [];
    for (const signal of paths) outcomes.push((await process([signal])).results[0]?.outcome);
    expect(outcomes).toEqual(["applied", "duplicate", "duplicate", "duplicate"]);
    expect((await store.getCurrent(paths[0]?.fingerprint as string))?.incident.count).toBe(1);
  });

  it("another transition of the same alarm is another delivery", () => {
    const first = signalOf(snsOfSameChange());
    const later = signalOf(
      snsOfSameChange((message) => {
        message.StateChangeTime = "2024-11-05T14:09:40.536+0000";
      }),
    );
    const recovered = signalOf(
      snsOfSameChange((message) => {
        message.NewStateValue = "OK";
      }),
    );
    expect(new Set([first.deliveryId, later.deliveryId, recovered.deliveryId]).size).toBe(3);
  });
});

describe("redeliveries past a generation's marks", () => {
  const deliveries = (count: number, from = 0) =>
    Array.from({ length: count }, (_, index) =>
      alarm(index % 60, { deliveryId: `storm-${from + index}` }),
    );

  async function storm(process: (signals: Signal[]) => Promise<unknown>, signals: Signal[]) {
    for (let start = 0; start < signals.length; start += 100) {
      await process(signals.slice(start, start + 100));
    }
  }

  it("a redelivery is a no-op after any number of deliveries (before: counted again past 2,000)", async () => {
    const { store, process } = setup(NOW + 60_000);
    const total = MAX_MARKS_PER_GENERATION + 700;
    const signals = deliveries(total);
    await storm(process, signals);
    const { results } = await process(signals.slice(0, 100));
    expect(results.every((result) => result.outcome === "duplicate")).toBe(true);
    const record = await store.getCurrent(FINGERPRINT);
    expect(record?.incident.count).toBe(total);
    // The item stays bounded: the overflow went to the archive, not into the record.
    const inline = record?.seen.reduce((sum, generation) => sum + generation.ids.length, 0);
    expect(inline).toBeLessThanOrEqual(MAX_MARKS_PER_GENERATION);
    expect(store.archived.size).toBe(700);
    expect(JSON.stringify(record).length).toBeLessThan(400_000);
  });

  it("one batch bigger than a generation is split, never archiving an unwritten mark", async () => {
    const { store, process } = setup(NOW + 60_000);
    const signals = deliveries(2 * MAX_MARKS_PER_GENERATION + 10);
    const first = await process(signals);
    expect(first.results.every((result) => result.outcome === "applied")).toBe(true);
    expect((await process(signals)).results.every((r) => r.outcome === "duplicate")).toBe(true);
    expect((await store.getCurrent(FINGERPRINT))?.incident.count).toBe(signals.length);
  });

  it("property: any deliveries and redeliveries, in any batches, count each delivery once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_MARKS_PER_GENERATION - 50, max: MAX_MARKS_PER_GENERATION + 400 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 50, max: 700 }),
        async (distinct, redeliveries, batchSize) => {
          const { store, process } = setup(NOW + 60_000);
          const signals = deliveries(distinct);
          const replayed = redeliveries.map((index) => signals[index % distinct] as Signal);
          const all = [...signals, ...replayed];
          for (let start = 0; start < all.length; start += batchSize) {
            await process(all.slice(start, start + batchSize));
          }
          expect((await store.getCurrent(FINGERPRINT))?.incident.count).toBe(distinct);
        },
      ),
      { numRuns: 12 },
    );
  });
});
