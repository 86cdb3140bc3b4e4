import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  acknowledge,
  type ConfigInput,
  Correlator,
  HoldReader,
  type IncidentRecord,
  Policy,
  planResponses,
  resolveByPerson,
  type Severity,
  type Signal,
  type Source,
  SummarySchema,
  summarize,
} from "../src";
import {
  aConfig,
  aRecord,
  aSignal,
  MemoryIncidentStore,
  MemorySignalCounters,
  MemorySilenceStore,
} from "../src/testing";

const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const HOUR = 3_600_000;
const iso = (time: number) => new Date(time).toISOString();
const ALL = { since: null, until: null };
const NONE = { ignored: 0 };

interface Shape {
  severity?: Severity;
  source?: Source;
  fingerprint?: string;
  title?: string;
  /** Hours after T0 the first signal came. */
  opened?: number;
  count?: number;
  /** Seconds from the first signal to the acknowledgement / resolution. */
  acknowledgedAfter?: number;
  resolvedAfter?: number;
}

let made = 0;

/** An incident as the reducer opens it, then acknowledged and resolved by the human commands. */
function anIncident(shape: Shape = {}): IncidentRecord {
  made += 1;
  const opened = T0 + (shape.opened ?? made) * HOUR;
  let record: IncidentRecord = aRecord({
    severity: shape.severity ?? "warning",
    source: shape.source ?? "cloudwatch",
    fingerprint: shape.fingerprint ?? `cloudwatch:123456789012:us-east-1:alarm-${made}`,
    title: shape.title ?? `alarm-${made}`,
    at: iso(opened),
  });
  record.incident.count = shape.count ?? 1;
  if (shape.acknowledgedAfter !== undefined) {
    const at = iso(opened + shape.acknowledgedAfter * 1000);
    record = acknowledge(record, "slack:U012AB3CD", at).record;
  }
  if (shape.resolvedAfter !== undefined) {
    const at = iso(opened + shape.resolvedAfter * 1000);
    record = resolveByPerson(record, "api:ops", at, null).record;
  }
  return record;
}

describe("summarize", () => {
  it("counts, and gives MTTA and MTTR per severity as median and 90th percentile", () => {
    const incidents = [
      // Critical: acknowledged after 10, 20 ... 100 s; resolved after 100, 200 ... 1000 s.
      ...Array.from({ length: 10 }, (_, index) =>
        anIncident({
          severity: "critical",
          acknowledgedAfter: (index + 1) * 10,
          resolvedAfter: (index + 1) * 100,
        }),
      ),
      anIncident({ severity: "warning", source: "logs", acknowledgedAfter: 30, resolvedAfter: 60 }),
      anIncident({ severity: "warning", source: "sentry", resolvedAfter: 120 }),
      anIncident({ severity: "warning", source: "logs" }),
      anIncident({ severity: "info", source: "sentry" }),
    ];
    const summary = summarize(incidents, ALL, NONE);
    expect(summary).toMatchObject({
      range: { since: null, until: null },
      incidents: 14,
      bySeverity: { info: 1, warning: 3, critical: 10 },
      bySource: { cloudwatch: 10, logs: 2, sentry: 2 },
      byStatus: { triggered: 2, acknowledged: 0, resolved: 12 },
    });
    expect(summary.timeToAcknowledge).toEqual({
      info: { count: 0, medianSeconds: null, p90Seconds: null },
      warning: { count: 1, medianSeconds: 30, p90Seconds: 30 },
      // Sorted 10..100: the median is between 50 and 60; p90 is 90 + 0.1 × (100 - 90).
      critical: { count: 10, medianSeconds: 55, p90Seconds: 91 },
    });
    expect(summary.timeToResolve).toEqual({
      info: { count: 0, medianSeconds: null, p90Seconds: null },
      // 60 and 120: p90 is 60 + 0.9 × 60.
      warning: { count: 2, medianSeconds: 90, p90Seconds: 114 },
      critical: { count: 10, medianSeconds: 550, p90Seconds: 910 },
    });
  });

  it("summarises nothing as zeros and nulls", () => {
    const none = { count: 0, medianSeconds: null, p90Seconds: null };
    expect(summarize([], { since: "2026-11-01T00:00:00.000Z", until: null }, NONE)).toEqual({
      range: { since: "2026-11-01T00:00:00.000Z", until: null },
      incidents: 0,
      bySeverity: { info: 0, warning: 0, critical: 0 },
      bySource: { cloudwatch: 0, logs: 0, sentry: 0, security: 0, health: 0 },
      byStatus: { triggered: 0, acknowledged: 0, resolved: 0 },
      timeToAcknowledge: { info: none, warning: none, critical: none },
      timeToResolve: { info: none, warning: none, critical: none },
      noisiest: [],
      ignored: 0,
      inhibited: 0,
      held: { inhibited: 0, maintenance: 0, silenced: 0 },
      alertsPerIncident: {
        mean: null,
        max: 0,
        distribution: { "1": 0, "2": 0, "3-5": 0, "6-10": 0, "11+": 0 },
      },
      noisiestServices: [],
    });
  });

  it("lists the ten noisiest fingerprints, ties by fingerprint, whatever the input order", () => {
    const fingerprint = (name: string) => `cloudwatch:123456789012:us-east-1:${name}`;
    const incidents = [
      // One fingerprint over three incidents: 30 signals, titled as its latest incident.
      anIncident({ fingerprint: fingerprint("api-5xx"), title: "api-5xx (old)", count: 10 }),
      anIncident({ fingerprint: fingerprint("api-5xx"), title: "api-5xx", count: 15, opened: 90 }),
      anIncident({ fingerprint: fingerprint("api-5xx"), title: "api-5xx (mid)", count: 5 }),
      // Eleven with 7 signals each: the tie is broken by fingerprint, the last one is cut.
      ...["k", "c", "j", "a", "i", "b", "h", "d", "g", "e", "f"].map((name) =>
        anIncident({ fingerprint: fingerprint(`tie-${name}`), count: 7 }),
      ),
    ];
    const summary = summarize(incidents, ALL, NONE);
    expect(
      summary.noisiest.map((noise) => [noise.fingerprint.split(":").at(-1), noise.signals]),
    ).toEqual([
      ["api-5xx", 30],
      ["tie-a", 7],
      ["tie-b", 7],
      ["tie-c", 7],
      ["tie-d", 7],
      ["tie-e", 7],
      ["tie-f", 7],
      ["tie-g", 7],
      ["tie-h", 7],
      ["tie-i", 7],
    ]);
    expect(summary.noisiest[0]).toEqual({
      fingerprint: fingerprint("api-5xx"),
      title: "api-5xx",
      source: "cloudwatch",
      incidents: 3,
      signals: 30,
      lastSeenAt: iso(T0 + 90 * HOUR),
    });
    expect(summarize([...incidents].reverse(), ALL, NONE)).toEqual(summary);
  });

  it("counts incidents whose first signal is in the range, ends included", () => {
    const incidents = [1, 2, 3, 4, 5].map((hour) => anIncident({ opened: hour }));
    const range = { since: iso(T0 + 2 * HOUR), until: iso(T0 + 4 * HOUR) };
    const summary = summarize(incidents, range, NONE);
    expect(summary.incidents).toBe(3);
    expect(summary.range).toEqual(range);
    expect(summarize(incidents, { since: iso(T0 + 4 * HOUR), until: null }, NONE).incidents).toBe(
      2,
    );
  });

  it("is what its schema describes", () => {
    const summary = summarize(
      [anIncident({ severity: "critical", acknowledgedAfter: 272, resolvedAfter: 552 })],
      ALL,
      NONE,
    );
    expect(SummarySchema.parse(summary)).toEqual(summary);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(() => z.toJSONSchema(SummarySchema, { io: "output" })).not.toThrow();
  });
});

/** An alarm's state change as the processor gets it. */
const alarm = (name: string, at: number): Signal =>
  aSignal({
    fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
    title: name,
    at: iso(at),
    attributes: { alarmName: name, account: "123456789012", region: "us-east-1" },
  });

const page = [{ type: "page" as const, channel: "oncall" }];
const channels = { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } };
/** Autoscaling's own alarms: dropped before any incident exists. */
const ignoreTargetTracking = {
  name: "autoscaling",
  match: { alarmName: "TargetTracking-*" },
  severity: "ignore" as const,
};

/**
 * The processor as app.ts builds it (correlator, holds, planning), over memory stores, and the
 * counting the process function does: a batch's dropped signals are added to its hour.
 */
function pipeline(input: ConfigInput, start: number) {
  const config = aConfig(input);
  let now = start;
  const clock = { now: () => now };
  const store = new MemoryIncidentStore({ config, clock });
  const counters = new MemorySignalCounters(clock, config.incidents.retention);
  const holds = new HoldReader({ store, silences: new MemorySilenceStore(), config, maxAgeMs: 0 });
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
    store,
    counters,
    at: (time: number) => {
      now = time;
    },
    async process(batch: Signal[]) {
      const { results } = await correlator.process(batch);
      const ignored = results.filter((result) => result.outcome === "dropped").length;
      await counters.add(now, { ignored });
      return results;
    },
    async records(): Promise<IncidentRecord[]> {
      const { items } = await store.list({ limit: 1000 });
      return Promise.all(items.map(async ({ id }) => (await store.get(id)) as IncidentRecord));
    },
  };
}

describe("summarize: grouping, ignore rules and holds", () => {
  it("a storm of 10,000 events from 50 alarms across 10 services: 50 alerts, 10 incidents, 10 pages; 1,000 TargetTracking alarms counted, never stored", async () => {
    const services = Array.from({ length: 10 }, (_, index) => `svc${index}`);
    const p = pipeline(
      {
        services: Object.fromEntries(
          services.map((name) => [name, { match: [{ alarmName: `${name}-*` }] }]),
        ),
        rules: [
          ignoreTargetTracking,
          { name: "alarms", match: { alarmName: "svc*" }, severity: "critical", actions: page },
        ],
        channels,
      },
      T0,
    );
    // Event i is alarm i mod 50 (5 per service), one every 50 ms; every tenth is followed by an
    // autoscaling alarm. SQS hands the processor batches of 100 messages.
    const events: Signal[] = [];
    for (let index = 0; index < 10_000; index++) {
      const at = T0 + index * 50;
      const n = index % 50;
      events.push(alarm(`svc${n % 10}-alarm-${Math.floor(n / 10)}`, at));
      if (index % 10 === 9) {
        events.push(alarm(`TargetTracking-table/orders-AlarmHigh-${index % 4}`, at));
      }
    }
    for (let start = 0; start < events.length; start += 100) {
      const batch = events.slice(start, start + 100);
      p.at(Date.parse((batch.at(-1) as Signal).at));
      await p.process(batch);
    }

    const records = await p.records();
    const summary = summarize(records, ALL, await p.counters.totals({ since: null, until: null }));
    const pages = records.flatMap((record) =>
      record.actions.filter((action) => action.type === "page" && action.status === "planned"),
    );
    expect({
      alerts: records.reduce((total, record) => total + record.alerts.length, 0),
      incidents: summary.incidents,
      pages: pages.length,
      ignored: summary.ignored,
    }).toEqual({ alerts: 50, incidents: 10, pages: 10, ignored: 1000 });
    expect(records.some((record) => record.incident.title.startsWith("TargetTracking-"))).toBe(
      false,
    );
    expect(summary.alertsPerIncident).toEqual({
      mean: 5,
      max: 5,
      distribution: { "1": 0, "2": 0, "3-5": 10, "6-10": 0, "11+": 0 },
    });
    // 1,000 signals each: ties by name.
    expect(summary.noisiestServices).toEqual(
      services.map((service, index) => ({
        service,
        incidents: 1,
        alerts: 5,
        signals: 1000,
        lastSeenAt: iso(T0 + (9950 + index) * 50 + 40 * 50),
      })),
    );
    expect(summary.bySeverity).toEqual({ info: 0, warning: 0, critical: 10 });
    expect(summary.inhibited).toBe(0);
    // 10,000 signals through the whole processor take about 10 s on one free core.
  }, 120_000);

  it("counts inhibited alerts, incidents held by inhibition and by maintenance, and alerts per incident", async () => {
    const p = pipeline(
      {
        services: {
          "orders-db": { match: [{ alarmName: "orders-db-*" }] },
          checkout: { match: [{ alarmName: "checkout-*" }], dependsOn: ["orders-db"] },
          search: { match: [{ alarmName: "search-*" }] },
        },
        rules: [
          ignoreTargetTracking,
          { name: "down", match: { alarmName: "*-down" }, severity: "critical", actions: page },
          { name: "slow", match: { alarmName: "*-slow" }, severity: "warning", actions: page },
        ],
        inhibit: [
          {
            source: { severity: "critical" },
            target: { severity: ["warning"] },
            scope: "dependents",
          },
        ],
        maintenance: [
          {
            name: "search-reindex",
            match: { service: "search" },
            start: iso(T0),
            end: iso(T0 + 2 * HOUR),
          },
        ],
        channels,
      },
      T0 + 10 * 60_000,
    );
    const minute = (n: number) => T0 + 10 * 60_000 + n * 60_000;
    // One after another, as a person would see them arrive.
    for (const [name, at] of [
      ["orders-db-down", minute(0)],
      ["checkout-slow", minute(1)],
      ["checkout-latency-slow", minute(2)],
      ["checkout-slow", minute(3)],
      ["search-slow", minute(4)],
      ["misc-slow", minute(5)],
    ] as const) {
      p.at(at);
      await p.process([alarm(name, at), alarm(`TargetTracking-${name}`, at)]);
    }
    // Two hours later: outside the range asked for, so neither its incident nor its count.
    p.at(T0 + 3 * HOUR);
    await p.process([alarm("misc-down", T0 + 3 * HOUR), alarm("TargetTracking-x", T0 + 3 * HOUR)]);

    const range = { since: iso(T0), until: iso(T0 + HOUR) };
    const summary = summarize(await p.records(), range, await p.counters.totals(range));
    expect(summary).toMatchObject({
      incidents: 4,
      bySeverity: { info: 0, warning: 3, critical: 1 },
      ignored: 6,
      // Both alerts of checkout's incident, held by the open orders-db incident.
      inhibited: 2,
      held: { inhibited: 1, maintenance: 1, silenced: 0 },
      alertsPerIncident: {
        mean: 1.25,
        max: 2,
        distribution: { "1": 3, "2": 1, "3-5": 0, "6-10": 0, "11+": 0 },
      },
      // misc-slow belongs to no service.
      noisiestServices: [
        { service: "checkout", incidents: 1, alerts: 2, signals: 3, lastSeenAt: iso(minute(3)) },
        { service: "orders-db", incidents: 1, alerts: 1, signals: 1, lastSeenAt: iso(minute(0)) },
        { service: "search", incidents: 1, alerts: 1, signals: 1, lastSeenAt: iso(minute(4)) },
      ],
    });
    expect(SummarySchema.parse(summary)).toEqual(summary);
  });

  it("ranks services by signals, then incidents, then name, and keeps ten", () => {
    const inService = (service: string, count: number, opened: number) => {
      const record = anIncident({ count, opened });
      record.incident.service = service;
      return record;
    };
    const records = [
      inService("a-busy", 50, 1),
      // Equal signals: more incidents first.
      inService("b-twice", 10, 2),
      inService("b-twice", 10, 3),
      inService("c-once", 20, 4),
      ...Array.from({ length: 9 }, (_, index) => inService(`tail-${index}`, 1, 5 + index)),
      anIncident({ count: 500 }),
    ];
    const summary = summarize(records, ALL, NONE);
    expect(summary.noisiestServices.map(({ service, signals }) => [service, signals])).toEqual([
      ["a-busy", 50],
      ["b-twice", 20],
      ["c-once", 20],
      ...Array.from({ length: 7 }, (_, index) => [`tail-${index}`, 1]),
    ]);
    expect(summary.noisiestServices[1]).toMatchObject({ incidents: 2, alerts: 2 });
    expect(summarize([...records].reverse(), ALL, NONE)).toEqual(summary);
  });
});
