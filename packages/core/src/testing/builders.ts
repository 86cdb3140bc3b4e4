import type { ActionRecord } from "../actions/model";
import { type ConfigInput, ConfigSchema, type MonitoringConfig } from "../config/schema";
import type { IncidentRecord } from "../incidents/model";
import { type ClassifiedSignal, openIncident } from "../incidents/reduce";
import type { Signal } from "../signal";

let counter = 0;

/** A CloudWatch alarm signal with sensible defaults; override what the test is about. */
export function aSignal(overrides: Partial<Signal> = {}): Signal {
  counter += 1;
  return {
    source: "cloudwatch",
    kind: "trigger",
    deliveryId: `delivery-${counter}`,
    fingerprint: "cloudwatch:123456789012:us-east-1:api-latency",
    title: "api-latency",
    at: "2026-11-26T10:00:00.000Z",
    attributes: { alarmName: "api-latency", account: "123456789012", region: "us-east-1" },
    link: null,
    detail: "Threshold Crossed",
    ...overrides,
  };
}

export function aClassifiedSignal(overrides: Partial<ClassifiedSignal> = {}): ClassifiedSignal {
  return { severity: "warning", rule: null, ...aSignal(overrides), ...overrides };
}

/** A validated config; tests that do not speak of responders let anyone act. */
export function aConfig(input: ConfigInput = {}): MonitoringConfig {
  return ConfigSchema.parse({ responders: "anyone", ...input });
}

/** An open incident as the reducer would create it from one signal. */
export function aRecord(overrides: Partial<ClassifiedSignal> = {}): IncidentRecord {
  const signal = aClassifiedSignal(overrides);
  return openIncident(null, signal, aConfig().incidents, Date.parse(signal.at));
}

/** A failover awaiting a person's approval; override what the test is about. */
export function anAction(overrides: Partial<ActionRecord> = {}): ActionRecord {
  return {
    id: "a1",
    type: "failover",
    rule: "db",
    spec: {},
    targetKey: "rds-cluster:us-east-1/orders-db",
    trigger: "opened",
    status: "awaiting-approval",
    reason: "failover waits for a person to approve it",
    plannedAt: "2026-11-26T10:00:00.000Z",
    at: "2026-11-26T10:00:00.000Z",
    dryRun: false,
    requests: [],
    before: null,
    attempts: 0,
    notBefore: null,
    claim: null,
    approvedBy: null,
    followUp: null,
    page: null,
    ...overrides,
  };
}
