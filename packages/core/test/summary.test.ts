import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  acknowledge,
  type Incident,
  type IncidentRecord,
  resolveByPerson,
  type Severity,
  type Source,
  SummarySchema,
  summarize,
} from "../src";
import { aRecord } from "../src/testing";

const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const HOUR = 3_600_000;
const iso = (time: number) => new Date(time).toISOString();
const ALL = { since: null, until: null };

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
function anIncident(shape: Shape = {}): Incident {
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
  return record.incident;
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
    const summary = summarize(incidents, ALL);
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
    expect(summarize([], { since: "2026-11-01T00:00:00.000Z", until: null })).toEqual({
      range: { since: "2026-11-01T00:00:00.000Z", until: null },
      incidents: 0,
      bySeverity: { info: 0, warning: 0, critical: 0 },
      bySource: { cloudwatch: 0, logs: 0, sentry: 0, security: 0, health: 0 },
      byStatus: { triggered: 0, acknowledged: 0, resolved: 0 },
      timeToAcknowledge: { info: none, warning: none, critical: none },
      timeToResolve: { info: none, warning: none, critical: none },
      noisiest: [],
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
    const summary = summarize(incidents, ALL);
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
    expect(summarize([...incidents].reverse(), ALL)).toEqual(summary);
  });

  it("counts incidents whose first signal is in the range, ends included", () => {
    const incidents = [1, 2, 3, 4, 5].map((hour) => anIncident({ opened: hour }));
    const range = { since: iso(T0 + 2 * HOUR), until: iso(T0 + 4 * HOUR) };
    const summary = summarize(incidents, range);
    expect(summary.incidents).toBe(3);
    expect(summary.range).toEqual(range);
    expect(summarize(incidents, { since: iso(T0 + 4 * HOUR), until: null }).incidents).toBe(2);
  });

  it("is what its schema describes", () => {
    const summary = summarize(
      [anIncident({ severity: "critical", acknowledgedAfter: 272, resolvedAfter: 552 })],
      ALL,
    );
    expect(SummarySchema.parse(summary)).toEqual(summary);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(() => z.toJSONSchema(SummarySchema, { io: "output" })).not.toThrow();
  });
});
