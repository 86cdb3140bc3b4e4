import { describe, expect, it } from "vitest";
import { nextDueAt } from "../src/actions/due";
import { sweepIncident } from "../src/actions/escalate";
import type { IncidentRecord } from "../src/incidents/model";
import { aConfig, aRecord } from "../src/testing";

const config = aConfig();
const HOUR = 3_600_000;

/** A grouped incident opened by log errors, joined by an alarm that is still firing. */
function logsAndAlarm(alarm: "firing" | "resolved"): IncidentRecord {
  const record = aRecord({
    source: "logs",
    fingerprint: "logs:checkout:Error",
    title: "Error: boom",
    attributes: { logGroup: "/aws/lambda/checkout-api" },
  });
  const first = record.alerts[0] as IncidentRecord["alerts"][number];
  record.alerts.push({
    ...structuredClone(first),
    id: "al2",
    fingerprint: "cloudwatch:123456789012:us-east-1:checkout-5xx",
    source: "cloudwatch",
    title: "checkout-5xx",
    status: alarm,
  });
  return record;
}

describe("auto-resolve of a grouped incident", () => {
  it("waits for a firing alarm's own OK, however quiet the log lines beside it are", () => {
    const record = logsAndAlarm("firing");
    const now = Date.parse(record.incident.lastSeenAt) + 48 * HOUR;
    expect(sweepIncident(record, { config, now, region: "us-east-1" })).toBeNull();
    expect(nextDueAt(record, config)).not.toBe(
      Date.parse(record.incident.lastSeenAt) + 30 * 60_000,
    );
  });

  it("resolves the incident and its quiet alerts once only log alerts fire", () => {
    const record = logsAndAlarm("resolved");
    const quiet = Date.parse(record.lastReceivedAt ?? record.incident.lastSeenAt) + 30 * 60_000;
    expect(nextDueAt(record, config)).toBe(quiet);
    const swept = sweepIncident(record, { config, now: quiet, region: "us-east-1" });
    expect(swept?.incident).toMatchObject({ status: "resolved", resolvedBy: "auto-resolve" });
    expect(swept?.alerts.map((alert) => alert.status)).toEqual(["resolved", "resolved"]);
  });
});
