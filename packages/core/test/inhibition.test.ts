import { describe, expect, it } from "vitest";
import {
  type ConfigInput,
  Correlator,
  dependenciesOf,
  HoldReader,
  holdCounts,
  type IncidentRecord,
  nextDueAt,
  Policy,
  planResponses,
  type Signal,
  sweep,
} from "../src";
import { aConfig, aSignal, MemoryIncidentStore, MemorySilenceStore } from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");
const MINUTE = 60_000;

const channels = { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } };
const page = [{ type: "page" as const, channel: "oncall" }];

/** A database, a service on it, and a front end on that: dependents of dependents. */
const system = (scope: "service" | "dependents", group = true): ConfigInput => ({
  services: {
    "orders-db": { match: [{ alarmName: "orders-db-*" }], group },
    checkout: { match: [{ alarmName: "checkout-*" }], dependsOn: ["orders-db"], group },
    web: { match: [{ alarmName: "web-*" }], dependsOn: ["checkout"], group },
    search: { match: [{ alarmName: "search-*" }], group },
  },
  rules: [
    { name: "down", match: { alarmName: "*-down" }, severity: "critical", actions: page },
    { name: "slow", match: { alarmName: "*-slow" }, severity: "warning", actions: page },
  ],
  inhibit: [{ source: { severity: "critical" }, target: { severity: ["warning", "info"] }, scope }],
  channels,
});

const alarm = (name: string, at: number, kind: Signal["kind"] = "trigger"): Signal =>
  aSignal({
    kind,
    fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
    title: name,
    at: new Date(at).toISOString(),
    attributes: { alarmName: name, account: "123456789012", region: "us-east-1" },
  });

function harness(input: ConfigInput) {
  const config = aConfig(input);
  let now = START;
  const clock = { now: () => now };
  const store = new MemoryIncidentStore({ config });
  const silences = new MemorySilenceStore();
  // As the processor is built (app.ts), without the cache so each step sees the last one.
  const holds = new HoldReader({ store, silences, config, maxAgeMs: 0 });
  const correlator = new Correlator({
    store,
    policy: new Policy(config),
    clock,
    respond: async (record, events, at) =>
      planResponses(record, events, {
        config,
        now: at,
        region: "us-east-1",
        hold: await holds.holdFor(record, at),
      }),
  });
  return {
    config,
    store,
    holds,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    async send(name: string, kind: Signal["kind"] = "trigger"): Promise<IncidentRecord> {
      const { results } = await correlator.process([alarm(name, now, kind)]);
      const record = await store.get(results[0]?.incidentId as string);
      if (!record) throw new Error(`${name} made no incident`);
      return record;
    },
    sweep: () => sweep({ store, silences, config, clock, region: "us-east-1" }),
  };
}

const pages = (record: IncidentRecord) =>
  record.actions.filter((action) => action.type === "page" && action.status === "planned");

describe("inhibition", () => {
  it("follows dependsOn transitively, and stops at a cycle", () => {
    const { services } = aConfig(system("dependents"));
    expect(dependenciesOf(services, "web").sort()).toEqual(["checkout", "orders-db"]);
    expect(dependenciesOf(services, "orders-db")).toEqual([]);
  });

  it("scope dependents: a failing database quiets the warnings of the services that depend on it", async () => {
    const h = harness(system("dependents"));
    const db = await h.send("orders-db-down");
    expect(pages(db)).toHaveLength(1);

    const checkout = await h.send("checkout-slow");
    const web = await h.send("web-slow");
    for (const held of [checkout, web]) {
      expect(pages(held)).toEqual([]);
      expect(held.actions).toEqual([
        expect.objectContaining({
          type: "page",
          status: "skipped",
          reason: expect.stringMatching(
            `^inhibited by incident ${db.incident.id} while it is open`,
          ),
        }),
      ]);
      expect(held.alerts.map((alert) => alert.inhibitedBy)).toEqual([db.incident.id]);
      expect(held.timeline).toContainEqual(
        expect.objectContaining({
          type: "note",
          by: "inhibit",
          text: expect.stringContaining(`inhibited by incident ${db.incident.id}`),
        }),
      );
    }
    // Not what does not depend on the database, and not a critical alert of a dependent.
    expect(pages(await h.send("search-slow"))).toHaveLength(1);
    expect(pages(await h.send("checkout-down"))).toHaveLength(1);
    expect(
      holdCounts(
        await Promise.all(
          [db, checkout, web].map(
            async (r) => (await h.store.get(r.incident.id)) as IncidentRecord,
          ),
        ),
      ),
    ).toEqual({
      inhibited: 2,
      inhibitedAlerts: 2,
      maintenance: 0,
      silenced: 0,
    });
  });

  it("scope service: a critical incident quiets the warnings of its own service only", async () => {
    const h = harness(system("service", false));
    const checkoutDown = await h.send("checkout-down");
    const checkoutSlow = await h.send("checkout-slow");
    expect(pages(checkoutSlow)).toEqual([]);
    expect(checkoutSlow.alerts[0]?.inhibitedBy).toBe(checkoutDown.incident.id);
    // The dependent is not in scope.
    expect(pages(await h.send("web-slow"))).toHaveLength(1);
  });

  it("a held incident still firing when the inhibiting incident resolves pages then, once", async () => {
    const h = harness(system("dependents"));
    const db = await h.send("orders-db-down");
    const held = await h.send("checkout-slow");
    // Looked at every sweep while held, without a write each time.
    expect(nextDueAt(held, h.config)).toBeLessThanOrEqual(h.now());
    h.advance(MINUTE);
    expect((await h.sweep()).escalated).toEqual([]);
    expect((await h.store.get(held.incident.id))?.version).toBe(held.version);

    h.advance(MINUTE);
    await h.send("orders-db-down", "recovery");
    expect((await h.store.get(db.incident.id))?.incident.status).toBe("resolved");
    h.advance(MINUTE);
    expect((await h.sweep()).escalated).toEqual([held.incident.id]);
    const released = (await h.store.get(held.incident.id)) as IncidentRecord;
    expect(pages(released)).toEqual([
      expect.objectContaining({ trigger: "opened", plannedAt: new Date(h.now()).toISOString() }),
    ]);
    expect(released.timeline.at(-2)).toMatchObject({
      type: "note",
      by: "hold",
      text: `no longer inhibited by incident ${db.incident.id}, and still open: responding now`,
    });
    h.advance(MINUTE);
    expect((await h.sweep()).escalated).toEqual([]);
    expect(pages((await h.store.get(held.incident.id)) as IncidentRecord)).toHaveLength(1);
  });

  it("a held incident that resolves first never pages", async () => {
    const h = harness(system("dependents"));
    await h.send("orders-db-down");
    const held = await h.send("checkout-slow");
    await h.send("checkout-slow", "recovery");
    expect(nextDueAt((await h.store.get(held.incident.id)) as IncidentRecord, h.config)).toBeNull();
  });

  it("costs one open-incident query per service asked about, per cache period, whatever the batch", async () => {
    const h = harness(system("dependents"));
    await h.send("orders-db-down");
    const holds = new HoldReader({
      store: h.store,
      silences: new MemorySilenceStore(),
      config: h.config,
      maxAgeMs: 5_000,
    });
    // 40 alerts of two dependents (grouped into their services' incidents, each record read
    // as it grew): checkout asks about orders-db, web about checkout and orders-db.
    const batch: IncidentRecord[] = [];
    for (let index = 0; index < 20; index++) {
      batch.push(await h.send(`checkout-${index}-slow`), await h.send(`web-${index}-slow`));
    }
    const before = holds.inhibitionReads;
    for (const record of batch) expect(await holds.holdFor(record, h.now())).not.toBeNull();
    expect(holds.inhibitionReads - before).toBe(2);
    // Critical alerts match no target: they cost no query at all.
    const critical = await h.send("checkout-down");
    const reads = holds.inhibitionReads;
    expect(await holds.holdFor(critical, h.now())).toBeNull();
    expect(holds.inhibitionReads).toBe(reads);
  });
});

describe("holds", () => {
  it("an alert no window holds joining a held incident makes it respond at once", async () => {
    const h = harness({
      ...system("dependents"),
      maintenance: [
        {
          name: "db-patching",
          match: { service: "orders-db", severity: "warning" },
          start: new Date(START - MINUTE).toISOString(),
          end: new Date(START + 60 * MINUTE).toISOString(),
        },
      ],
    });
    const held = await h.send("orders-db-slow");
    expect(pages(held)).toEqual([]);
    expect(held.actions[0]?.reason).toMatch(/^held by maintenance window db-patching until /);
    expect(nextDueAt(held, h.config)).toBe(START + 60 * MINUTE);
    h.advance(MINUTE);
    const joined = await h.send("orders-db-down");
    expect(joined.incident.id).toBe(held.incident.id);
    expect(pages(joined)).toHaveLength(1);
    expect(nextDueAt(joined, h.config)).not.toBe(START + 60 * MINUTE);
  });
});
