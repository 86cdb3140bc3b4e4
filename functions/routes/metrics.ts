import {
  type ApiDeps,
  loadIncident,
  type MetricMark,
  metricWindow,
  summariseMetric,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ErrorResponse, IncidentParams } from "../lib/params";
import { type Route, route } from "../lib/router";

/** Actions that changed something (or, simulated, would have): the marks a recovery is told against. */
const RAN = new Set(["succeeded", "simulated"]);

const MetricSeriesView = z.object({
  alarmName: z.string(),
  label: z.string(),
  periodSeconds: z.number(),
  statistic: z.string(),
  threshold: z.number().nullable(),
  comparison: z.string().nullable(),
  unit: z.string().nullable().optional(),
  points: z.array(z.object({ at: z.string(), value: z.number() })),
});

const MetricsResponse = z.object({
  /** Each CloudWatch alert's alarm with one metric, from an hour before the incident. */
  items: z.array(
    z.object({ series: MetricSeriesView, summary: z.string().describe("peak 2.3 s, ...") }),
  ),
});

/**
 * `GET /incidents/{id}/metrics`: the metric context of a CloudWatch incident, each alarm's
 * metric (`GetMetricData`, the alarm's period and statistic) from an hour before the incident
 * to its resolution or now, read when asked (the CloudWatch client is built only then), with
 * the one-line summary the post-mortem gives relative to the incident's remediations.
 */
export function metricRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route({
      method: "GET",
      path: "/incidents/{id}/metrics",
      summary: "The alarm metrics of a CloudWatch incident, an hour before it to now",
      tags: ["incidents"],
      params: IncidentParams,
      responses: {
        200: {
          description: "One series per alarm (none for other sources)",
          schema: MetricsResponse,
        },
        400: { description: "A bad incident id", schema: ErrorResponse },
        401: { description: "No valid bearer token", schema: ErrorResponse },
        404: { description: "No such incident", schema: ErrorResponse },
      },
      handle: async ({ params }) => {
        const { store, clock, cloudwatch } = await deps();
        const record = await loadIncident(store, params.id as string);
        const alarms = new Map<string, string | undefined>();
        for (const alert of record.alerts) {
          const name = alert.attributes.alarmName;
          if (alert.source === "cloudwatch" && name) alarms.set(name, alert.attributes.account);
        }
        if (alarms.size === 0) return json(200, { items: [] });
        const { from, to } = metricWindow(record.incident, clock.now());
        const marks: MetricMark[] = record.actions
          .filter((action) => action.type !== "page" && RAN.has(action.status))
          .map((action) => ({ at: action.at, label: `the ${action.type} (${action.id})` }));
        const reader = await cloudwatch();
        const items = [];
        for (const [alarmName, account] of alarms) {
          const series = await reader.metricSeries(alarmName, from, to, account);
          if (series) items.push({ series, summary: summariseMetric(series, marks) });
        }
        return json(200, { items });
      },
    }),
  ];
}
