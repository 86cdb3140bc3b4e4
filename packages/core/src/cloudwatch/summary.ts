import { formatDuration } from "../duration";
import type { MetricSeries } from "./ports";

/** Something that happened during the series, such as an action: "the scale-out". */
export interface MetricMark {
  at: string;
  label: string;
}

/** How far before an incident its metric context starts: enough to see the climb. */
export const METRIC_CONTEXT_BEFORE_MS = 60 * 60 * 1000;

/**
 * The time range of an incident's metric context: from an hour before it started to its
 * resolution, or to now while it is open.
 */
export function metricWindow(
  incident: { firstSeenAt: string; resolvedAt: string | null },
  now: number,
): { from: number; to: number } {
  const started = Date.parse(incident.firstSeenAt);
  const to = incident.resolvedAt ? Date.parse(incident.resolvedAt) : now;
  return { from: started - METRIC_CONTEXT_BEFORE_MS, to: Math.max(to, started) };
}

type Comparison = (value: number, threshold: number) => boolean;

/** CloudWatch's static-threshold comparison operators; anomaly bands have no number to cross. */
const BREACHES: Record<string, Comparison> = {
  GreaterThanThreshold: (value, threshold) => value > threshold,
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/**
 * One line about an alarm's metric for the post-mortem and the timeline:
 * "peak 2.3 s, under the threshold 4 minutes after the scale-out". The extreme is the peak for
 * alarms on high values and the low for alarms on low ones; recovery is the first point after
 * the last one beyond the threshold, told relative to the latest mark before it (an action)
 * when there is one. Pure: the caller fetched the series and knows the marks.
 *
 * @example
 * summariseMetric(series, [{ at: "2026-12-02T12:01:00Z", label: "the scale-out" }])
 * // "peak 2.3 s, under the threshold 4 minutes after the scale-out"
 */
export function summariseMetric(
  series: MetricSeries,
  marks: ReadonlyArray<MetricMark> = [],
): string {
  const { points, threshold, comparison } = series;
  if (points.length === 0) return "no data points in the incident's time range";
  const low = comparison?.startsWith("Less") === true;
  const extreme = points.reduce((best, point) =>
    low ? (point.value < best.value ? point : best) : point.value > best.value ? point : best,
  );
  const head = `${low ? "low" : "peak"} ${formatValue(extreme.value, series.unit)}`;
  const breaches = comparison ? BREACHES[comparison] : undefined;
  if (threshold === null || !breaches) return head;
  const thresholdText = formatValue(threshold, series.unit);
  const lastBreach = points.findLastIndex((point) => breaches(point.value, threshold));
  if (lastBreach === -1) return `${head}, never beyond the threshold of ${thresholdText}`;
  const side = low ? "above" : "under";
  const recovered = points[lastBreach + 1];
  if (!recovered)
    return `${head}, still ${low ? "under" : "over"} the threshold of ${thresholdText}`;
  const recoveredAt = Date.parse(recovered.at);
  const mark = marks
    .filter((candidate) => Date.parse(candidate.at) <= recoveredAt)
    .reduce<MetricMark | undefined>(
      (latest, candidate) =>
        !latest || Date.parse(candidate.at) >= Date.parse(latest.at) ? candidate : latest,
      undefined,
    );
  if (!mark) return `${head}, ${side} the threshold again at ${clockTime(recovered.at)}`;
  return `${head}, ${side} the threshold ${spell(recoveredAt - Date.parse(mark.at))} after ${mark.label}`;
}

/** "4 minutes", "40 seconds", "1h 5m": the phrases a post-mortem reads well with. */
function spell(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  return formatDuration(ms);
}

const clockTime = (iso: string) => `${new Date(iso).toISOString().slice(11, 16)} UTC`;

/**
 * Three significant digits, whole numbers from 100 up (a backlog of 1462 messages is not
 * 1460), in the metric's unit where CloudWatch gave one.
 */
export function formatValue(value: number, unit?: string | null): string {
  const round = (n: number) =>
    Math.abs(n) >= 100 ? String(Math.round(n)) : String(Number(n.toPrecision(3)));
  switch (unit) {
    case "Seconds":
      return `${round(value)} s`;
    case "Milliseconds":
      return Math.abs(value) >= 1000 ? `${round(value / 1000)} s` : `${round(value)} ms`;
    case "Microseconds":
      return Math.abs(value) >= 1000 ? `${round(value / 1000)} ms` : `${round(value)} µs`;
    case "Percent":
      return `${round(value)}%`;
    case undefined:
    case null:
    case "None":
    case "Count":
      return round(value);
    default:
      return `${round(value)} ${unit}`;
  }
}
