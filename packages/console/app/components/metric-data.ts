import type { Action, MetricSeries } from "../wire";
import type { ChartMark } from "./chart-data";

// No DOM here: the tests import this file under Node.

export interface MetricChartData {
  start: number;
  end: number;
  min: number;
  max: number;
  points: Array<{ at: number; value: number }>;
  threshold: number | null;
  marks: ChartMark[];
}

/**
 * The scales of an alarm's metric drawn over the incident's time range: the value axis spans
 * the points and the threshold (so the line it crosses is on the chart), and every action that
 * ran (not pages, not ones still planned or waiting) is a mark at its time.
 */
export function metricChart(
  series: MetricSeries,
  actions: ReadonlyArray<Action>,
  range: { start: number; end: number },
): MetricChartData {
  const points = series.points
    .map((point) => ({ at: Date.parse(point.at), value: point.value }))
    .filter((point) => Number.isFinite(point.at) && Number.isFinite(point.value))
    .sort((a, b) => a.at - b.at);
  const values = points.map((point) => point.value);
  if (series.threshold !== null) values.push(series.threshold);
  let min = values.length ? Math.min(0, ...values) : 0;
  let max = values.length ? Math.max(...values) : 1;
  if (max === min) max = min + 1;
  // A little room above the highest value, so the peak is not on the frame.
  max += (max - min) * 0.08;
  min = min < 0 ? min - (max - min) * 0.08 : min;
  const start = Math.min(range.start, points[0]?.at ?? range.start);
  const end = Math.max(range.end, points.at(-1)?.at ?? range.end, start + 60_000);
  const marks = actions
    .filter(
      (action) =>
        action.type !== "page" &&
        action.status !== "planned" &&
        action.status !== "awaiting-approval",
    )
    .map((action) => ({
      kind: "action" as const,
      at: Date.parse(action.at),
      label: action.id,
      title: `${action.id} ${action.type} ${action.status}`,
    }))
    .filter((mark) => Number.isFinite(mark.at) && mark.at >= start && mark.at <= end)
    .sort((a, b) => a.at - b.at);
  return { start, end, min, max, points, threshold: series.threshold, marks };
}
