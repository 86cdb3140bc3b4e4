import type {
  ActionView,
  AlertView,
  Change,
  Incident,
  MetricSeries,
  Silence,
  Summary,
  TimelineEntry,
} from "@firebreak/core";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod/mini";
import type { LocalStack } from "../../local/src/stack";
import { client, startTestStack, TOKEN } from "../../local/test/helpers";
import { bucketSignals } from "../app/components/chart-data";
import { forReading } from "../app/order";
import {
  type ActionWire,
  type AlertWire,
  type ChangeWire,
  IncidentDetailWire,
  IncidentPageWire,
  type IncidentWire,
  type MetricSeriesWire,
  MetricsWire,
  SilencesWire,
  type SilenceWire,
  SummaryWire,
  type TimelineEntryWire,
} from "../app/wire";
import { alarms, minutesAgo } from "./browser";

describe("what the console reads is what the API sends", () => {
  it("matches the API's own types", () => {
    // A compile-time check: a field the API renames or drops fails the typecheck here.
    expectTypeOf<Incident & { silencedBy: string | null }>().toExtend<
      z.input<typeof IncidentWire>
    >();
    expectTypeOf<TimelineEntry>().toExtend<z.input<typeof TimelineEntryWire>>();
    expectTypeOf<ActionView>().toExtend<z.input<typeof ActionWire>>();
    expectTypeOf<AlertView>().toExtend<z.input<typeof AlertWire>>();
    expectTypeOf<Change>().toExtend<z.input<typeof ChangeWire>>();
    expectTypeOf<MetricSeries>().toExtend<z.input<typeof MetricSeriesWire>>();
    expectTypeOf<Silence>().toExtend<z.input<typeof SilenceWire>>();
    expectTypeOf<Summary>().toExtend<z.input<typeof SummaryWire>>();
  });

  describe("on a running stack", () => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await startTestStack({
        configInput: {
          rules: [
            {
              name: "db",
              match: { alarmName: "*-writer-down" },
              severity: "critical",
              actions: [{ type: "failover", target: { kind: "rds-cluster", clusterId: "orders" } }],
            },
          ],
          responders: "anyone",
        },
      });
    });
    afterAll(() => stack.stop());

    it("parses every reply the console reads", async () => {
      const alarm = alarms(stack);
      const id = await alarm("orders-writer-down", { at: minutesAgo(3) });
      await alarm("orders-writer-down", { at: minutesAgo(1) });
      const api = client(stack);
      const auth = { authorization: `Bearer ${TOKEN}` };
      await api.post("/silences", { matcher: "alarmName=x-*", duration: "1h" }, auth);
      const read = async (path: string) => (await api.get(path, auth)).json();

      const page = IncidentPageWire.parse(await read("/incidents?status=open"));
      expect(page.items.map((item) => item.id)).toEqual([id]);
      const detail = IncidentDetailWire.parse(await read(`/incidents/${id}`));
      expect(detail.actions[0]).toMatchObject({
        id: "a1",
        type: "failover",
        status: "awaiting-approval",
      });
      expect(detail.timeline.map((entry) => entry.type)).toContain("signals");
      expect(detail.alerts.map((alert) => alert.title)).toEqual(["orders-writer-down"]);
      const metrics = MetricsWire.parse(await read(`/incidents/${id}/metrics`));
      expect(metrics.items.map((item) => item.series.alarmName)).toEqual(["orders-writer-down"]);
      expect(metrics.items[0]?.series.points.length).toBeGreaterThan(0);
      expect(SummaryWire.parse(await read("/reports/summary")).incidents).toBe(1);
      expect(SilencesWire.parse(await read("/silences")).items).toHaveLength(1);

      const chart = bucketSignals(detail, Date.now(), 10);
      expect(chart.total).toBe(2);
      expect(chart.buckets.reduce((sum, count) => sum + count, 0)).toBe(2);
      expect(chart.buckets[0]).toBe(1);
    });
  });
});

describe("the order incidents are read in", () => {
  it("puts what needs someone first: unacknowledged, then by severity, then newest", () => {
    const item = (id: string, status: string, severity: string) =>
      ({ id, status, severity }) as unknown as z.output<typeof IncidentWire>;
    const sorted = forReading([
      item("resolved-critical", "resolved", "critical"),
      item("ack-critical", "acknowledged", "critical"),
      item("new-info", "triggered", "info"),
      item("new-critical", "triggered", "critical"),
      item("old-critical", "triggered", "critical"),
      item("new-warning", "triggered", "warning"),
    ]);
    expect(sorted.map((incident) => incident.id)).toEqual([
      "new-critical",
      "old-critical",
      "new-warning",
      "new-info",
      "ack-critical",
      "resolved-critical",
    ]);
  });
});
