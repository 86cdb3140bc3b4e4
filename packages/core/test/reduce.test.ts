import { describe, expect, it } from "vitest";
import {
  acknowledge,
  addNote,
  type ClassifiedSignal,
  type IncidentRecord,
  incidentId,
  reduce,
  resolveByPerson,
} from "../src";
import { aClassifiedSignal, aConfig } from "../src/testing";

const settings = aConfig().incidents;
const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();

const trigger = (minutes: number, overrides: Partial<ClassifiedSignal> = {}) =>
  aClassifiedSignal({ at: at(minutes), ...overrides });
const recovery = (minutes: number, overrides: Partial<ClassifiedSignal> = {}) =>
  aClassifiedSignal({ at: at(minutes), kind: "recovery", detail: "back to OK", ...overrides });

/** Reduces and insists a record came out. */
function apply(current: IncidentRecord | null, signals: ClassifiedSignal[], now = NOW) {
  const reduction = reduce(current, signals, settings, now);
  if (!reduction.record) throw new Error("expected a change");
  return reduction;
}

describe("reduce", () => {
  it("opens an incident from the first trigger", () => {
    const signal = trigger(0, { severity: "critical", rule: "api-latency" });
    const { record, created, events } = apply(null, [signal]);
    expect(created).toBe(true);
    expect(events).toEqual([{ type: "opened", at: signal.at }]);
    expect(record?.version).toBe(1);
    expect(record?.incident).toMatchObject({
      id: incidentId(signal.fingerprint, 1),
      status: "triggered",
      severity: "critical",
      rule: "api-latency",
      count: 1,
      sequence: 1,
      firstSeenAt: signal.at,
      lastSeenAt: signal.at,
      flapping: false,
    });
    expect(record?.timeline.map((entry) => entry.type)).toEqual(["opened"]);
  });

  it("counts repeats on the open incident and never opens a second one", () => {
    const opened = apply(null, [trigger(0)]).record as IncidentRecord;
    const { record, created, events } = apply(opened, [trigger(1), trigger(3), trigger(2)]);
    expect(created).toBe(false);
    expect(record?.version).toBe(2);
    expect(record?.incident).toMatchObject({ id: opened.incident.id, count: 4, lastSeenAt: at(3) });
    expect(events).toEqual([{ type: "retriggered", at: at(3), count: 4 }]);
    // One aggregated timeline entry for the three, not one per signal.
    expect(record?.timeline.at(-1)).toMatchObject({
      type: "signals",
      count: 3,
      firstAt: at(1),
      lastAt: at(3),
      total: 4,
    });
  });

  it("does not touch the caller's record", () => {
    const opened = apply(null, [trigger(0)]).record as IncidentRecord;
    const snapshot = structuredClone(opened);
    apply(opened, [trigger(1), recovery(2)]);
    expect(opened).toEqual(snapshot);
  });

  it("ignores a delivery it has already seen, even in the same batch", () => {
    const first = trigger(0, { deliveryId: "eb-1" });
    const opened = apply(null, [first, { ...first }]);
    expect(opened.outcomes.map((outcome) => outcome.outcome)).toEqual(["applied", "duplicate"]);
    const again = reduce(opened.record, [first], settings, NOW + 60_000);
    expect(again.record).toBeNull();
    expect(again.outcomes[0]?.outcome).toBe("duplicate");
  });

  it("forgets delivery ids after one to two dedup windows", () => {
    const first = trigger(0, { deliveryId: "eb-1" });
    const opened = apply(null, [first]).record as IncidentRecord;
    const soon = reduce(opened, [first], settings, NOW + settings.dedupWindow);
    expect(soon.outcomes[0]?.outcome).toBe("duplicate");
    const later = apply(opened, [trigger(1)], NOW + 2 * settings.dedupWindow).record;
    expect(later?.seen.map((bucket) => bucket.generation)).not.toContain(
      Math.floor(NOW / settings.dedupWindow),
    );
  });

  it("raises severity with a later signal and says so, but never lowers it", () => {
    const opened = apply(null, [trigger(0, { severity: "warning" })]).record as IncidentRecord;
    const raised = apply(opened, [trigger(1, { severity: "critical", rule: "paging" })]);
    expect(raised.record?.incident).toMatchObject({ severity: "critical", rule: "paging" });
    expect(raised.events).toContainEqual({
      type: "severity-raised",
      at: at(1),
      from: "warning",
      to: "critical",
    });
    expect(raised.record?.timeline).toContainEqual(
      expect.objectContaining({ type: "severity", from: "warning", to: "critical" }),
    );
    const lower = apply(raised.record, [trigger(2, { severity: "info" })]).record;
    expect(lower?.incident.severity).toBe("critical");
  });

  it("resolves on recovery and records why", () => {
    const opened = apply(null, [trigger(0)]).record as IncidentRecord;
    const { record, events } = apply(opened, [recovery(5)]);
    expect(record?.incident).toMatchObject({
      status: "resolved",
      resolvedAt: at(5),
      resolvedBy: "recovery:cloudwatch",
    });
    expect(record?.timeline.at(-1)).toEqual({
      type: "resolved",
      at: at(5),
      by: "recovery:cloudwatch",
      reason: "back to OK",
    });
    expect(events).toEqual([{ type: "resolved", at: at(5), by: "recovery:cloudwatch" }]);
  });

  it("resolves an acknowledged incident too", () => {
    const opened = apply(null, [trigger(0)]).record as IncidentRecord;
    const acked = acknowledge(opened, "slack:U1", at(1));
    expect(acked.changed).toBe(true);
    expect(apply(acked.record, [recovery(2)]).record?.incident.status).toBe("resolved");
  });

  it("keeps the incident open when a recovery is older than the last trigger", () => {
    const opened = apply(null, [trigger(0), trigger(10)]).record as IncidentRecord;
    const { record } = apply(opened, [recovery(5)]);
    expect(record?.incident.status).toBe("triggered");
    expect(record?.timeline.at(-1)).toMatchObject({ type: "stale-recovery", signalAt: at(5) });
  });

  it("orders a batch by signal time, so ALARM then OK resolve even when delivered reversed", () => {
    const { record } = apply(null, [recovery(5), trigger(0)]);
    expect(record?.incident.status).toBe("resolved");
  });

  it("ignores a recovery with nothing open", () => {
    const reduction = reduce(null, [recovery(0)], settings, NOW);
    expect(reduction.record).toBeNull();
    expect(reduction.outcomes[0]?.outcome).toBe("ignored");
  });

  it("opens the next incident for a trigger after resolution", () => {
    const resolved = apply(null, [trigger(0), recovery(5)]).record as IncidentRecord;
    const { record, created } = apply(resolved, [trigger(10)]);
    expect(created).toBe(true);
    expect(record?.incident).toMatchObject({
      sequence: 2,
      id: incidentId(resolved.incident.fingerprint, 2),
      count: 1,
      status: "triggered",
    });
  });

  it("counts a late trigger timed before the resolution on the resolved incident", () => {
    const resolved = apply(null, [trigger(0), recovery(5)]).record as IncidentRecord;
    const { record, created } = apply(resolved, [trigger(4)]);
    expect(created).toBe(false);
    expect(record?.incident).toMatchObject({ status: "resolved", count: 2 });
    expect(record?.timeline.at(-1)).toMatchObject({ type: "signals", late: true });
  });

  it("stops at a rollover and hands back the rest", () => {
    const opened = apply(null, [trigger(0)]).record as IncidentRecord;
    const rest = [trigger(10), trigger(11)];
    const first = apply(opened, [trigger(1), recovery(5), ...rest]);
    expect(first.record?.incident.status).toBe("resolved");
    expect(first.rest).toEqual(rest);
    const second = apply(first.record, first.rest);
    expect(second.created).toBe(true);
    expect(second.record?.incident.count).toBe(2);
  });

  it("recognises a redelivery after the rollover", () => {
    const first = trigger(0, { deliveryId: "alarm-1" });
    const resolved = apply(null, [first, recovery(5, { deliveryId: "ok-1" })]).record;
    const next = apply(resolved, [trigger(10)]).record;
    const replay = reduce(next, [first, recovery(5, { deliveryId: "ok-1" })], settings, NOW);
    expect(replay.record).toBeNull();
    expect(replay.outcomes.map((outcome) => outcome.outcome)).toEqual(["duplicate", "duplicate"]);
  });

  it("marks the incident flapping after it resolves and re-triggers 3 times in 30 minutes", () => {
    let record = apply(null, [trigger(0)]).record as IncidentRecord;
    const flags: boolean[] = [record.incident.flapping];
    for (let cycle = 1; cycle <= 3; cycle++) {
      record = apply(record, [recovery(cycle * 5 - 1)]).record as IncidentRecord;
      record = apply(record, [trigger(cycle * 5)]).record as IncidentRecord;
      flags.push(record.incident.flapping);
    }
    expect(flags).toEqual([false, false, false, true]);
    expect(record.timeline[0]).toMatchObject({ type: "opened", flapping: true });
  });

  it("does not call it flapping when the re-triggers are spread out", () => {
    let record = apply(null, [trigger(0)]).record as IncidentRecord;
    for (let cycle = 1; cycle <= 3; cycle++) {
      record = apply(record, [recovery(cycle * 20 - 1)]).record as IncidentRecord;
      record = apply(record, [trigger(cycle * 20)]).record as IncidentRecord;
    }
    expect(record.incident.flapping).toBe(false);
  });

  it("samples the timeline under a storm but keeps the exact count", () => {
    let record = apply(null, [trigger(0)]).record as IncidentRecord;
    for (let batch = 0; batch < 200; batch++) {
      const signals = Array.from({ length: 50 }, (_, index) =>
        trigger(0, { at: new Date(NOW + batch * 1000 + index).toISOString() }),
      );
      record = apply(record, signals).record as IncidentRecord;
    }
    expect(record.incident.count).toBe(1 + 200 * 50);
    const signalEntries = record.timeline.filter((entry) => entry.type !== "opened");
    // 19 groups before sampling, then one per power of two crossed (2^10 .. 2^13).
    expect(signalEntries.length).toBeLessThan(30);
    expect(record.signalEntries).toBe(signalEntries.length + 1);
  });
});

describe("people", () => {
  const opened = apply(null, [trigger(0)]).record as IncidentRecord;

  it("acknowledges once, then says who already did", () => {
    const first = acknowledge(opened, "slack:U1", at(1));
    expect(first.changed).toBe(true);
    expect(first.record.incident).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "slack:U1",
      acknowledgedAt: at(1),
    });
    const again = acknowledge(first.record, "slack:U2", at(2));
    expect(again).toMatchObject({ changed: false });
    expect(again.changed === false && again.reason).toContain("already acknowledged by slack:U1");
  });

  it("refuses to acknowledge or resolve a resolved incident", () => {
    const resolved = resolveByPerson(opened, "api:ops", at(3), "fixed the config").record;
    expect(resolved.incident).toMatchObject({ status: "resolved", resolvedBy: "api:ops" });
    expect(resolved.timeline.at(-1)).toMatchObject({ reason: "fixed the config" });
    expect(acknowledge(resolved, "slack:U1", at(4)).changed).toBe(false);
    expect(resolveByPerson(resolved, "slack:U1", at(4), null).changed).toBe(false);
  });

  it("adds notes with their author", () => {
    const noted = addNote(opened, "slack:U1", at(2), "looking at the ALB");
    expect(noted.record.version).toBe(opened.version + 1);
    expect(noted.record.timeline.at(-1)).toEqual({
      type: "note",
      at: at(2),
      by: "slack:U1",
      text: "looking at the ALB",
    });
  });
});
