import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Correlator, type IncidentRecord, incidentId, Policy, type Signal } from "../src";
import { aConfig, aSignal, MemoryIncidentStore } from "../src/testing";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const clock = { now: () => NOW };
const policy = new Policy(
  aConfig({
    rules: [{ name: "latency", match: { alarmName: "api-*" }, severity: "critical" }],
  }),
);

function setup(store = new MemoryIncidentStore()) {
  return { store, correlator: new Correlator({ store, policy, clock }) };
}

const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const alarm = (name: string, seconds: number, overrides: Partial<Signal> = {}) =>
  aSignal({
    fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
    title: name,
    attributes: { alarmName: name },
    at: at(seconds),
    ...overrides,
  });

describe("Correlator", () => {
  it("classifies, folds a batch per fingerprint and writes once per fingerprint", async () => {
    const { store, correlator } = setup();
    const signals = [
      ...Array.from({ length: 30 }, (_, index) => alarm("api-latency", index)),
      ...Array.from({ length: 20 }, (_, index) => alarm("db-cpu", index)),
    ];
    const { results, changes } = await correlator.process(signals);
    expect(results.every((result) => result.outcome === "applied")).toBe(true);
    expect(store.writes).toBe(2);
    expect(changes.map((change) => change.record.incident.count).sort()).toEqual([20, 30]);
    const api = await store.getCurrent("cloudwatch:123456789012:us-east-1:api-latency");
    expect(api?.incident).toMatchObject({ severity: "critical", rule: "latency", count: 30 });
    const db = await store.getCurrent("cloudwatch:123456789012:us-east-1:db-cpu");
    expect(db?.incident).toMatchObject({ severity: "info", rule: null, count: 20 });
  });

  it("answers per signal, in input order, with the incident each went to", async () => {
    const { correlator } = setup();
    const signals = [alarm("a", 0), alarm("b", 0), alarm("a", 1)];
    const { results } = await correlator.process(signals);
    expect(results.map((result) => result.signal)).toEqual(signals);
    expect(results[0]?.incidentId).toBe(results[2]?.incidentId);
    expect(results[0]?.incidentId).not.toBe(results[1]?.incidentId);
  });

  it("makes a redelivered batch a no-op", async () => {
    const { store, correlator } = setup();
    const batch = [alarm("api-x", 0), alarm("api-x", 1), alarm("api-x", 2)];
    await correlator.process(batch);
    const writes = store.writes;
    const replay = await setup(store).correlator.process(batch);
    expect(replay.results.map((result) => result.outcome)).toEqual([
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    expect(store.writes).toBe(writes);
  });

  it("resolves and re-opens across batches, in one batch too", async () => {
    const { store, correlator } = setup();
    const ok = (seconds: number) => alarm("api-y", seconds, { kind: "recovery" });
    await correlator.process([alarm("api-y", 0), ok(10), alarm("api-y", 20), alarm("api-y", 21)]);
    const fingerprint = "cloudwatch:123456789012:us-east-1:api-y";
    const current = await store.getCurrent(fingerprint);
    expect(current?.incident).toMatchObject({ sequence: 2, count: 2, status: "triggered" });
    const first = await store.get(incidentId(fingerprint, 1));
    expect(first?.incident).toMatchObject({ status: "resolved", count: 1 });
  });

  it("keeps the exact count with 64 concurrent processors on one fingerprint", async () => {
    const store = new MemoryIncidentStore();
    const slow = slowStore(store);
    const deliveries = Array.from({ length: 64 }, (_, index) => alarm("api-race", index));
    await Promise.all(
      deliveries.map((signal) => new Correlator({ store: slow, policy, clock }).process([signal])),
    );
    const current = await store.getCurrent("cloudwatch:123456789012:us-east-1:api-race");
    expect(current?.incident.count).toBe(64);
    expect(store.records.size).toBe(1);
  });

  it("reloads after losing a race with a stale cache", async () => {
    const store = new MemoryIncidentStore();
    const a = new Correlator({ store, policy, clock });
    const b = new Correlator({ store, policy, clock });
    await a.process([alarm("api-z", 0)]);
    await b.process([alarm("api-z", 1)]);
    await a.process([alarm("api-z", 2)]); // a's cached copy is one version behind
    const current = await store.getCurrent("cloudwatch:123456789012:us-east-1:api-z");
    expect(current?.incident.count).toBe(3);
  });

  it("reduces again against the record that won a race, without reading it back", async () => {
    const store = new MemoryIncidentStore();
    const reads: string[] = [];
    const counted = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== "get" && name !== "getFingerprint") return value;
        return (...args: unknown[]) => {
          reads.push(String(name));
          return value.apply(target, args);
        };
      },
    });
    const a = new Correlator({ store: counted, policy, clock });
    const b = new Correlator({ store, policy, clock });
    await a.process([alarm("api-w", 0)]);
    await b.process([alarm("api-w", 1)]);
    reads.length = 0;
    await a.process([alarm("api-w", 2)]); // a's cached copy is one version behind
    expect(reads).toEqual([]);
    const fingerprint = "cloudwatch:123456789012:us-east-1:api-w";
    expect((await store.getCurrent(fingerprint))?.incident.count).toBe(3);

    // Resolved by the winner: the next trigger opens the next incident, read afresh.
    await b.process([alarm("api-w", 3, { kind: "recovery" })]);
    await a.process([alarm("api-w", 4)]);
    expect(reads).toContain("getFingerprint");
    const next = await store.getCurrent(fingerprint);
    expect(next?.incident).toMatchObject({ sequence: 2, count: 1, status: "triggered" });
  });

  it("reads the states of a batch's new keys together, then none of them one by one", async () => {
    const store = new MemoryIncidentStore();
    const reads: string[] = [];
    const counted = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof name !== "string" || !name.startsWith("get")) return value;
        return (...args: unknown[]) => {
          reads.push(name);
          return value.apply(target, args);
        };
      },
    });
    const correlator = new Correlator({ store: counted, policy, clock });
    const names = Array.from({ length: 20 }, (_, index) => `db-${index}`);
    await correlator.process(names.map((name) => alarm(name, 0)));
    expect(reads).toEqual(["getFingerprints"]);
    // Resolved ones are not kept between batches: read together again.
    await correlator.process(names.map((name) => alarm(name, 1, { kind: "recovery" })));
    reads.length = 0;
    const { results } = await correlator.process(names.map((name) => alarm(name, 2)));
    expect(reads).toEqual(["getFingerprints"]);
    expect(results.every((result) => result.outcome === "applied")).toBe(true);
    const reopened = await store.getCurrent("cloudwatch:123456789012:us-east-1:db-3");
    expect(reopened?.incident).toMatchObject({ sequence: 2, status: "triggered" });
  });

  it("repairs a pointer left behind by a crash between create and pointer", async () => {
    const store = new MemoryIncidentStore();
    const crashing = { ...bind(store), setCurrent: async () => Promise.reject(new Error("crash")) };
    const signal = alarm("api-crash", 0);
    const first = await new Correlator({ store: crashing, policy, clock }).process([signal]);
    expect(first.results[0]?.outcome).toBe("failed");
    // The queue retries the delivery: it is recognised, and the pointer is fixed.
    const retry = await setup(store).correlator.process([signal, alarm("api-crash", 1)]);
    expect(retry.results.map((result) => result.outcome)).toEqual(["duplicate", "applied"]);
    const current = await store.getCurrent(signal.fingerprint);
    expect(current?.incident.count).toBe(2);
  });

  it("salts the id when two fingerprints collide", async () => {
    const store = new MemoryIncidentStore();
    const { correlator } = setup(store);
    const victim = alarm("api-collide", 0);
    // Occupy the id the victim would get with another fingerprint's incident.
    const squatter = (
      await setup(new MemoryIncidentStore()).correlator.process([alarm("other", 0)])
    ).changes[0]?.record as IncidentRecord;
    squatter.incident.id = incidentId(victim.fingerprint, 1);
    await store.save(squatter, null);
    const { results } = await correlator.process([victim]);
    expect(results[0]?.outcome).toBe("applied");
    expect(results[0]?.incidentId).toBe(incidentId(victim.fingerprint, 1, 1));
    expect((await store.getCurrent(victim.fingerprint))?.incident.id).toBe(results[0]?.incidentId);
  });

  it("reports store failures per signal instead of throwing", async () => {
    const store = new MemoryIncidentStore();
    const failing = {
      ...bind(store),
      getFingerprint: async () => Promise.reject(new Error("down")),
    };
    const { results } = await new Correlator({ store: failing, policy, clock }).process([
      alarm("api-down", 0),
    ]);
    expect(results[0]).toMatchObject({ outcome: "failed", incidentId: null });
  });

  it("property: any split, order and repetition of deliveries counts each trigger once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 39 }), { minLength: 1, maxLength: 120 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (deliveryIndexes, batchSizes) => {
          const store = new MemoryIncidentStore();
          const signals = deliveryIndexes.map((index) =>
            alarm(`api-${index % 3}`, index, { deliveryId: `d-${index}` }),
          );
          // Several processors, each taking batches of varying size, in parallel.
          const batches: Signal[][] = [];
          for (let start = 0, i = 0; start < signals.length; i++) {
            const size = batchSizes[i % batchSizes.length] as number;
            batches.push(signals.slice(start, start + size));
            start += size;
          }
          await Promise.all(
            batches.map((batch) => new Correlator({ store, policy, clock }).process(batch)),
          );
          const distinct = new Set(deliveryIndexes);
          for (let alarmIndex = 0; alarmIndex < 3; alarmIndex++) {
            const expected = [...distinct].filter((index) => index % 3 === alarmIndex).length;
            const record = await store.getCurrent(
              `cloudwatch:123456789012:us-east-1:api-${alarmIndex}`,
            );
            expect(record?.incident.count ?? 0).toBe(expected);
          }
          expect(store.records.size).toBe(new Set([...distinct].map((index) => index % 3)).size);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** The store's methods bound, so a test can replace one of them. */
function bind(store: MemoryIncidentStore) {
  return {
    getCurrent: store.getCurrent.bind(store),
    getFingerprint: store.getFingerprint.bind(store),
    getFingerprints: store.getFingerprints.bind(store),
    rememberRecovery: store.rememberRecovery.bind(store),
    archiveMarks: store.archiveMarks.bind(store),
    findArchivedMarks: store.findArchivedMarks.bind(store),
    get: store.get.bind(store),
    save: store.save.bind(store),
    setCurrent: store.setCurrent.bind(store),
    getTimelinePages: store.getTimelinePages.bind(store),
    list: store.list.bind(store),
    listPending: store.listPending.bind(store),
    oldestPendingSince: store.oldestPendingSince.bind(store),
    listDue: store.listDue.bind(store),
    expiredAt: store.expiredAt.bind(store),
  };
}

/** Adds a yield before each read and write so concurrent processors really interleave. */
function slowStore(store: MemoryIncidentStore) {
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const inner = bind(store);
  return {
    ...inner,
    getFingerprint: async (fingerprint: string) => {
      await tick();
      return inner.getFingerprint(fingerprint);
    },
    save: async (...args: Parameters<MemoryIncidentStore["save"]>) => {
      await tick();
      return inner.save(...args);
    },
  };
}
