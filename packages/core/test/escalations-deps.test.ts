import { describe, expect, it, vi } from "vitest";
import {
  type AppPorts,
  type CloudWatchReader,
  composeApp,
  PageBudgetKeeper,
  Policy,
  type Responders,
  silentLogger,
  sweep,
} from "../src";
import {
  aConfig,
  aRecord,
  MemoryChangeStore,
  MemoryIncidentStore,
  MemoryOverrideStore,
  MemorySignalCounters,
  MemorySilenceStore,
  MemoryVersionedItems,
  RecordingPager,
} from "../src/testing";

const AT = Date.parse("2026-11-26T10:01:30.000Z");
const DAY = 86_400_000;

/**
 * The escalations function's ports, in memory: a page budget of its own (as in Lambda), and the
 * responders and CloudWatch as spies, to see when the sweep builds them.
 */
function harness() {
  const config = aConfig({
    channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
  });
  const clock = { now: () => AT + 60_000 };
  const store = new MemoryIncidentStore({ config });
  const pageBudget = new PageBudgetKeeper(new MemoryVersionedItems());
  const pager = new RecordingPager();
  const responders = vi.fn(
    async (): Promise<Responders> => ({
      gateway: {} as Responders["gateway"],
      guards: {} as Responders["guards"],
      pageBudget,
      pager,
      mode: "simulated",
      consoleUrl: (id) => `https://console.example/incidents/${id}`,
    }),
  );
  const alarmStates = vi.fn(async () => [] as Awaited<ReturnType<CloudWatchReader["alarmStates"]>>);
  const cloudwatch = vi.fn(
    async (): Promise<CloudWatchReader> => ({ alarmStates, metricSeries: async () => null }),
  );
  const unused = async (): Promise<never> => {
    throw new Error("the sweep does not use this port");
  };
  const ports: AppPorts = {
    clock,
    region: "us-east-1",
    logger: () => silentLogger,
    policy: async () => new Policy(config),
    store: async () => store,
    silences: async () => new MemorySilenceStore(),
    queue: unused,
    responders,
    pageBudget: async () => pageBudget,
    apiTokens: unused,
    sentryClientSecret: unused,
    slackSigningSecret: unused,
    replays: unused,
    overrides: async () => new MemoryOverrideStore(),
    calendarToken: unused,
    cloudwatch,
    changes: async () => new MemoryChangeStore(clock, DAY),
    counters: async () => new MemorySignalCounters(clock, DAY),
  };
  return { app: composeApp(ports), store, pageBudget, pager, responders, cloudwatch, alarmStates };
}

describe("the escalations function's deps", () => {
  it("build neither the responders nor CloudWatch for a sweep with nothing due and no digest owed", async () => {
    const h = harness();
    const report = await sweep(await h.app.escalations());
    expect(report).toMatchObject({ escalated: [], autoResolved: [], nudged: [], verified: [] });
    expect(h.responders).not.toHaveBeenCalled();
    expect(h.cloudwatch).not.toHaveBeenCalled();
  });

  it("build the pager, once, when a digest goes out", async () => {
    const h = harness();
    // 21 pages in one minute on one channel: the 21st folds into that minute's digest.
    const record = aRecord({ rule: "errors" });
    await h.store.save(record, null);
    const limits = { perMinute: 20, perHour: 200 };
    for (let index = 0; index <= 20; index++) {
      await h.pageBudget.take({
        channel: "oncall",
        ref: `${record.incident.id}/a${index}`,
        incidentId: record.incident.id,
        title: record.incident.title,
        now: AT,
        limits,
      });
    }
    const deps = await h.app.escalations();
    expect(h.responders).not.toHaveBeenCalled();
    await sweep(deps);
    expect(h.responders).toHaveBeenCalledTimes(1);
    expect(h.pager.delivered).toHaveLength(1);
    expect(h.pager.delivered[0]?.content.consoleUrl).toBe(
      `https://console.example/incidents/${record.incident.id}`,
    );
    // The digest is sent: the next sweep owes none, and builds nothing more.
    await sweep(deps);
    expect(h.responders).toHaveBeenCalledTimes(1);
  });

  it("build CloudWatch's reader on its first read, once", async () => {
    const h = harness();
    const { cloudwatch } = await h.app.escalations();
    expect(h.cloudwatch).not.toHaveBeenCalled();
    await cloudwatch?.alarmStates(["api-errors"], "123456789012");
    await cloudwatch?.alarmStates(["db-cpu"]);
    expect(h.cloudwatch).toHaveBeenCalledTimes(1);
    expect(h.alarmStates.mock.calls).toEqual([
      [["api-errors"], "123456789012"],
      [["db-cpu"], undefined],
    ]);
  });
});
