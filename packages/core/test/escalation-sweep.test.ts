import { describe, expect, it } from "vitest";
import { Correlator, Policy, planResponses, type Signal, type Silence, sweep } from "../src";
import {
  aConfig,
  aSignal,
  MemoryIncidentStore,
  MemoryOverrideStore,
  MemorySilenceStore,
} from "../src/testing";

const START = Date.parse("2026-11-26T10:00:00.000Z");
const MINUTE = 60_000;

/** A silence store that counts its reads. */
class CountingSilences extends MemorySilenceStore {
  reads = 0;
  override async listActive(now: number): Promise<Silence[]> {
    this.reads++;
    return super.listActive(now);
  }
}

/** An override store that counts its reads. */
class CountingOverrides extends MemoryOverrideStore {
  reads = 0;
  override async list(schedule: string, from: number, to: number) {
    this.reads++;
    return super.list(schedule, from, to);
  }
}

function harness() {
  const config = aConfig({
    channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
    rules: [
      {
        name: "down",
        match: { alarmName: "*-down" },
        severity: "critical",
        actions: [{ type: "page", channel: "oncall" }],
      },
    ],
    escalation: { channels: ["oncall"] },
    people: { alice: { email: "alice@example.com" } },
    schedules: {
      primary: {
        timeZone: "UTC",
        rotation: { people: ["alice"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
      },
    },
  });
  let now = START;
  const clock = { now: () => now };
  const store = new MemoryIncidentStore({ config });
  const silences = new CountingSilences();
  const overrides = new CountingOverrides();
  const correlator = new Correlator({
    store,
    policy: new Policy(config),
    clock,
    respond: async (record, events, at) =>
      planResponses(record, events, { config, now: at, region: "us-east-1" }),
  });
  return {
    silences,
    overrides,
    advance: (ms: number) => {
      now += ms;
    },
    async alarm(name: string): Promise<string> {
      const signal: Signal = aSignal({
        fingerprint: `cloudwatch:123456789012:us-east-1:${name}`,
        title: name,
        at: new Date(now).toISOString(),
        attributes: { alarmName: name, account: "123456789012", region: "us-east-1" },
      });
      const { results } = await correlator.process([signal]);
      return results[0]?.incidentId as string;
    },
    sweep: () => sweep({ store, silences, overrides, config, clock, region: "us-east-1" }),
  };
}

describe("the escalations sweep", () => {
  it("reads neither silences nor on-call overrides when nothing is due", async () => {
    const h = harness();
    const report = await h.sweep();
    expect(report).toEqual({
      escalated: [],
      autoResolved: [],
      nudged: [],
      verified: [],
      pendingActionsOldestAgeSeconds: 0,
    });
    expect(h.silences.reads).toBe(0);
    expect(h.overrides.reads).toBe(0);
  });

  it("reads them when an incident is due, and escalates it", async () => {
    const h = harness();
    const id = await h.alarm("api-down");
    h.advance(6 * MINUTE);
    const report = await h.sweep();
    expect(report.escalated).toEqual([id]);
    expect(h.silences.reads).toBeGreaterThan(0);
    expect(h.overrides.reads).toBe(1);
  });
});
