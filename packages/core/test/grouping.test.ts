import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConfigInput,
  ConflictError,
  Correlator,
  IncidentCommands,
  type IncidentRecord,
  IncidentRecordSchema,
  InvalidInputError,
  incidentId,
  NotFoundError,
  Policy,
  planResponses,
  type Signal,
} from "../src";
import { aConfig, aSignal, MemoryIncidentStore } from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");
const at = (seconds: number) => new Date(START + seconds * 1000).toISOString();

const configInput: ConfigInput = {
  services: {
    checkout: {
      match: [
        { source: "cloudwatch", alarmName: "checkout-*" },
        { source: "logs", logGroup: "/aws/lambda/checkout*" },
        { source: "sentry", project: "checkout" },
      ],
      runbook: "https://wiki.example.com/runbooks/checkout",
    },
    solo: { match: [{ alarmName: "solo-*" }], group: false },
  },
  rules: [
    {
      name: "checkout-alarms",
      match: { alarmName: "checkout-*" },
      severity: "critical",
      actions: [
        { type: "page", channel: "oncall" },
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
          by: 2,
          max: 8,
        },
      ],
    },
    {
      name: "lambda-errors",
      match: { source: "logs" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    {
      name: "sentry",
      match: { source: "sentry" },
      severity: "warning",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
};
const config = aConfig(configInput);
const policy = new Policy(config);

const clock = { now: () => START };

function setup(store = new MemoryIncidentStore({ clock })) {
  const correlator = new Correlator({
    store,
    policy,
    clock,
    respond: (record, events, now) =>
      planResponses(record, events, { config, now, region: "us-east-1" }),
  });
  const commands = new IncidentCommands({ store, config, clock, region: "us-east-1" });
  return { store, correlator, commands, clock };
}

/** One failing Lambda, as each source tells it. */
const alarm = (name: string, seconds: number, overrides: Partial<Signal> = {}) =>
  aSignal({
    fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
    title: name,
    attributes: {
      alarmName: name,
      description: "Runbook: https://wiki.example.com/runbooks/checkout#errors",
    },
    at: at(seconds),
    ...overrides,
  });
const ok = (name: string, seconds: number) =>
  alarm(name, seconds, { kind: "recovery", detail: "back to OK" });
const logError = (seconds: number) =>
  aSignal({
    source: "logs",
    fingerprint: "logs:/aws/lambda/checkout-fn:TypeError",
    title: "TypeError: cannot read properties of undefined",
    attributes: { logGroup: "/aws/lambda/checkout-fn", level: "error" },
    at: at(seconds),
  });
const sentryIssue = (seconds: number) =>
  aSignal({
    source: "sentry",
    fingerprint: "sentry:issue:4242",
    title: "TypeError: cannot read properties of undefined",
    attributes: { project: "checkout", level: "error" },
    at: at(seconds),
  });

const pages = (record: IncidentRecord | null) =>
  (record?.actions ?? []).filter((action) => action.page?.kind === "page");
const SERVICE = "service:checkout";

describe("grouping by service", () => {
  it("makes one incident and one page of an alarm, its log errors and its Sentry issue", async () => {
    for (const batches of [
      [[alarm("checkout-fn-errors", 0), logError(5), sentryIssue(9)]],
      [[sentryIssue(0)], [logError(5)], [alarm("checkout-fn-errors", 9)]],
    ]) {
      const { store, correlator } = setup();
      for (const batch of batches) await correlator.process(batch);
      expect(store.records.size).toBe(1);
      const record = await store.getCurrent(SERVICE);
      expect(record?.incident).toMatchObject({
        id: incidentId(SERVICE, 1),
        service: "checkout",
        runbook: "https://wiki.example.com/runbooks/checkout",
        severity: "critical",
        count: 3,
      });
      expect(record?.alerts.map((alert) => [alert.id, alert.source, alert.status])).toEqual(
        batches.flat().map((signal, index) => [`al${index + 1}`, signal.source, "firing"]),
      );
      expect(pages(record)).toHaveLength(1);
      expect(record?.timeline.filter((entry) => entry.type === "alert")).toHaveLength(2);
    }
  });

  it("still plans what a more severe joining alert's rule does besides paging", async () => {
    const { store, correlator } = setup();
    await correlator.process([sentryIssue(0)]);
    await correlator.process([alarm("checkout-fn-errors", 30)]);
    const record = await store.getCurrent(SERVICE);
    expect(record?.incident).toMatchObject({ severity: "critical", rule: "checkout-alarms" });
    expect(pages(record)).toHaveLength(1);
    expect(record?.actions.map((action) => action.type)).toEqual(["page", "scale"]);
  });

  it("keeps the alarm's description on its alert", async () => {
    const { store, correlator } = setup();
    await correlator.process([alarm("checkout-fn-errors", 0)]);
    const record = await store.getCurrent(SERVICE);
    expect(record?.alerts[0]?.description).toBe(
      "Runbook: https://wiki.example.com/runbooks/checkout#errors",
    );
  });

  it("joins within the group window only; a later new alert opens an incident of its own", async () => {
    const { store, correlator } = setup();
    await correlator.process([alarm("checkout-a", 0)]);
    await correlator.process([alarm("checkout-b", 5 * 60)]);
    await correlator.process([alarm("checkout-c", 5 * 60 + 1)]);
    const grouped = await store.getCurrent(SERVICE);
    expect(grouped?.alerts.map((alert) => alert.title)).toEqual(["checkout-a", "checkout-b"]);
    const late = alarm("checkout-c", 0).fingerprint;
    const own = await store.getCurrent(late);
    expect(own?.incident).toMatchObject({
      id: incidentId(late, 1),
      fingerprint: late,
      service: "checkout",
    });
    // Its later signals go to its own incident, not to the service's.
    await correlator.process([alarm("checkout-c", 400), ok("checkout-c", 410)]);
    expect((await store.get(own?.incident.id as string))?.incident).toMatchObject({
      count: 2,
      status: "resolved",
    });
    expect((await store.getCurrent(SERVICE))?.incident.count).toBe(2);
    const listed = await store.list({ limit: 10, service: "checkout" });
    expect(listed.items.map((item) => item.id).sort()).toEqual(
      [grouped?.incident.id, own?.incident.id].sort(),
    );
  });

  it("resolves each alert on its own recovery, and the incident with the last", async () => {
    const { store, correlator } = setup();
    await correlator.process([alarm("checkout-a", 0), sentryIssue(1)]);
    await correlator.process([ok("checkout-a", 60)]);
    let record = await store.getCurrent(SERVICE);
    expect(record?.incident).toMatchObject({ status: "triggered", severity: "warning" });
    expect(record?.alerts.map((alert) => alert.status)).toEqual(["resolved", "firing"]);
    // An older ALARM of the resolved alert is late: it does not fire it again.
    await correlator.process([alarm("checkout-a", 30)]);
    record = await store.getCurrent(SERVICE);
    expect(record?.alerts[0]).toMatchObject({ status: "resolved", count: 2 });
    // A newer one does.
    await correlator.process([alarm("checkout-a", 90)]);
    record = await store.getCurrent(SERVICE);
    expect(record?.alerts[0]?.status).toBe("firing");
    expect(record?.incident.severity).toBe("critical");
    await correlator.process([ok("checkout-a", 120)]);
    const sentryOk = { ...sentryIssue(130), kind: "recovery" as const };
    await correlator.process([sentryOk]);
    record = await store.getCurrent(SERVICE);
    expect(record?.incident).toMatchObject({ status: "resolved", resolvedBy: "recovery:sentry" });
    const changes = record?.timeline.flatMap((entry) =>
      entry.type === "alert" ? [`${entry.alertId}:${entry.change}`] : [],
    );
    expect(changes).toEqual(["al2:joined", "al1:resolved", "al1:fired", "al1:resolved"]);
  });

  it("never lets one alarm's recovery make another alarm's older trigger stale", async () => {
    const { store, correlator } = setup();
    // A's OK arrives with nothing open: remembered for A only.
    await correlator.process([ok("checkout-a", 60)]);
    const results = await correlator.process([alarm("checkout-b", 30), alarm("checkout-a", 30)]);
    expect(results.results.map((result) => result.outcome)).toEqual(["applied", "stale-trigger"]);
    const record = await store.getCurrent(SERVICE);
    expect(record?.alerts.map((alert) => alert.title)).toEqual(["checkout-b"]);
  });

  it("keeps services with group: false and signals without a service one incident per fingerprint", async () => {
    const { store, correlator } = setup();
    await correlator.process([alarm("solo-a", 0), alarm("solo-b", 1), alarm("other", 2)]);
    expect(store.records.size).toBe(3);
    const soloA = await store.getCurrent(alarm("solo-a", 0).fingerprint);
    expect(soloA?.incident).toMatchObject({ service: "solo", runbook: null });
    expect(soloA?.alerts).toHaveLength(1);
    const other = await store.getCurrent(alarm("other", 0).fingerprint);
    expect(other?.incident).toMatchObject({ service: null, runbook: null });
  });

  it("reads a record written before alerts existed as one alert made from the incident", () => {
    const { alerts, severitySetBy, ...legacy } = structuredClone(legacyRecord()) as IncidentRecord &
      Record<string, unknown>;
    const { service, runbook, mergedInto, ...incident } = legacy.incident;
    const read = IncidentRecordSchema.parse({ ...legacy, incident });
    expect(read.incident).toMatchObject({ service: null, runbook: null, mergedInto: null });
    expect(read.severitySetBy).toBeNull();
    expect(read.alerts).toEqual([
      expect.objectContaining({
        id: "al1",
        fingerprint: incident.fingerprint,
        status: "firing",
        count: incident.count,
        inhibitedBy: null,
      }),
    ]);
    expect([alerts.length, severitySetBy, service, runbook, mergedInto]).toEqual([
      1,
      null,
      null,
      null,
      null,
    ]);
  });
});

function legacyRecord(): IncidentRecord {
  const signal = alarm("legacy", 0);
  return {
    ...IncidentRecordSchema.parse({
      incident: {
        id: incidentId(signal.fingerprint, 1),
        fingerprint: signal.fingerprint,
        title: signal.title,
        source: "cloudwatch",
        severity: "critical",
        status: "triggered",
        rule: null,
        count: 3,
        flapping: false,
        firstSeenAt: signal.at,
        lastSeenAt: signal.at,
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedAt: null,
        resolvedBy: null,
        sequence: 1,
        link: null,
        attributes: signal.attributes,
        detail: null,
      },
      version: 1,
      timeline: [],
      timelinePages: 0,
      signalEntries: 0,
      lastSignalEntryAt: null,
      lastTriggerAt: signal.at,
      seen: [],
      opens: [signal.at],
    }),
  };
}

describe("merge, split and edit", () => {
  async function twoIncidents() {
    const context = setup();
    await context.correlator.process([alarm("checkout-a", 0), sentryIssue(1)]);
    const payments = alarm("payments-x", 2);
    await context.correlator.process([payments]);
    const service = (await context.store.getCurrent(SERVICE)) as IncidentRecord;
    const other = (await context.store.getCurrent(payments.fingerprint)) as IncidentRecord;
    return { ...context, service, other, payments };
  }

  it("merges: the target takes the alerts and counts, the source resolves, its signals follow", async () => {
    const { store, correlator, commands, service, other, payments } = await twoIncidents();
    const result = await commands.merge(other.incident.id, service.incident.id, "api:alice");
    expect(result).toMatchObject({
      changed: true,
      incident: { status: "resolved", resolvedBy: "api:alice", mergedInto: service.incident.id },
    });
    let target = await store.get(service.incident.id);
    expect(target?.alerts.map((alert) => [alert.id, alert.title])).toEqual([
      ["al1", "checkout-a"],
      ["al2", sentryIssue(0).title],
      ["al3", "payments-x"],
    ]);
    expect(target?.incident.count).toBe(3);
    // A redelivery of what the source already counted, routed here, stays a duplicate.
    const redelivered = await correlator.process([payments]);
    expect(redelivered.results.map((result) => result.outcome)).toEqual(["duplicate"]);
    await correlator.process([alarm("payments-x", 60)]);
    target = await store.get(service.incident.id);
    expect(target?.alerts[2]?.count).toBe(2);
    expect((await store.get(other.incident.id))?.incident.count).toBe(1);
    // Running it again changes nothing.
    const again = await commands.merge(other.incident.id, service.incident.id, "api:alice");
    expect(again.changed).toBe(false);
  });

  it("splits: the alert leaves, opens its own incident, and its later signals go there", async () => {
    const { store, correlator, commands, service } = await twoIncidents();
    const result = await commands.split(service.incident.id, "al2", "api:bob");
    expect(result.message).toMatch(/al2 split off into [0-9A-Z]{7} by api:bob/);
    const fingerprint = sentryIssue(0).fingerprint;
    const own = await store.getCurrent(fingerprint);
    expect(own?.incident).toMatchObject({
      id: incidentId(fingerprint, 1),
      service: "checkout",
      status: "triggered",
      count: 1,
    });
    expect((await store.get(service.incident.id))?.alerts.map((alert) => alert.id)).toEqual([
      "al1",
    ]);
    await correlator.process([sentryIssue(30), alarm("checkout-a", 31)]);
    expect((await store.getCurrent(fingerprint))?.incident.count).toBe(2);
    expect((await store.get(service.incident.id))?.incident.count).toBe(3);
  });

  it("sets severity and title with who and why; a set severity sticks until a person changes it", async () => {
    const { store, correlator, commands, service } = await twoIncidents();
    const id = service.incident.id;
    const edited = await commands.edit(id, "api:carol", {
      severity: "warning",
      title: "Checkout is down",
      reason: "only the canary is affected",
    });
    expect(edited.incident).toMatchObject({ severity: "warning", title: "Checkout is down" });
    await correlator.process([alarm("checkout-a", 60)]);
    const record = await store.get(id);
    expect(record?.incident.severity).toBe("warning");
    expect(record?.timeline.filter((entry) => entry.type === "edited")).toEqual([
      expect.objectContaining({
        by: "api:carol",
        field: "severity",
        from: "critical",
        to: "warning",
        reason: "only the canary is affected",
      }),
      expect.objectContaining({ by: "api:carol", field: "title", to: "Checkout is down" }),
    ]);
  });

  it("refuses what cannot be done, saying why", async () => {
    const { commands, service, other } = await twoIncidents();
    const [a, b] = [service.incident.id, other.incident.id];
    await expect(commands.merge(a, a, "api:x")).rejects.toBeInstanceOf(ConflictError);
    await expect(commands.merge("ZZZZZZZ", a, "api:x")).rejects.toBeInstanceOf(NotFoundError);
    await expect(commands.merge(a, "ZZZZZZZ", "api:x")).rejects.toBeInstanceOf(NotFoundError);
    await commands.resolve(b, "api:x", null);
    await expect(commands.merge(a, b, "api:x")).rejects.toThrow(/resolved/);
    await expect(commands.split(a, "al9", "api:x")).rejects.toBeInstanceOf(NotFoundError);
    await expect(commands.split(b, "al1", "api:x")).rejects.toBeInstanceOf(ConflictError);
    await expect(commands.edit(a, "api:x", { reason: "nothing" })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });
});

describe("property", () => {
  const fingerprints = ["checkout-a", "checkout-b", "checkout-c"];
  const step = fc.record({
    alarm: fc.constantFrom(...fingerprints),
    kind: fc.constantFrom("trigger" as const, "recovery" as const),
  });

  it("resolves the service's incident iff every alert's last signal was a recovery, in any delivery order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 25, maxLength: 25 }),
        fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
        async (steps, cuts, swaps) => {
          const { store, correlator } = setup();
          // Distinct whole seconds, all within the group window, delivered in any order.
          const signals = steps.map((one, index) =>
            one.kind === "trigger" ? alarm(one.alarm, index * 5) : ok(one.alarm, index * 5),
          );
          for (const [index, swap] of swaps.slice(0, signals.length).entries()) {
            const other = swap % signals.length;
            [signals[index], signals[other]] = [signals[other] as Signal, signals[index] as Signal];
          }
          for (let start = 0, cut = 0; start < signals.length; cut++) {
            const size = cuts[cut % cuts.length] as number;
            await correlator.process(signals.slice(start, start + size));
            start += size;
          }
          const last = new Map(steps.map((one) => [one.alarm, one.kind]));
          const allRecovered = [...last.values()].every((kind) => kind === "recovery");
          const current = await store.getCurrent(SERVICE);
          expect(current === null || current.incident.status === "resolved").toBe(allRecovered);
          expect(store.records.size).toBeLessThanOrEqual(steps.length);
          for (const record of store.records.values()) {
            expect(record.incident.fingerprint).toBe(SERVICE);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
