import type { IncidentDetail } from "../wire";

export interface ChartMark {
  kind: "ack" | "resolved" | "action";
  at: number;
  label: string;
  title: string;
}

export interface ChartData {
  start: number;
  span: number;
  bucketMs: number;
  buckets: number[];
  max: number;
  total: number;
  marks: ChartMark[];
}

/**
 * Spreads the timeline's signal entries (each a count over `firstAt`..`lastAt`) over equal
 * intervals. Under a storm the timeline is sampled, so the bars show the shape; the exact count
 * is the incident's.
 *
 * No DOM here: the tests import this file under Node.
 */
export function bucketSignals(incident: IncidentDetail, now: number, count: number): ChartData {
  const start = Date.parse(incident.firstSeenAt);
  const end = Math.max(
    start + 60_000,
    incident.resolvedAt ? Date.parse(incident.resolvedAt) : now,
    Date.parse(incident.lastSeenAt),
  );
  const span = end - start;
  const bucketMs = span / count;
  const buckets = Array.from({ length: count }, () => 0);
  const index = (time: number) =>
    Math.min(count - 1, Math.max(0, Math.floor((time - start) / bucketMs)));
  const add = (from: number, to: number, signals: number) => {
    const first = index(from);
    const last = index(Math.max(from, to));
    const each = signals / (last - first + 1);
    for (let i = first; i <= last; i++) buckets[i] = (buckets[i] as number) + each;
  };
  for (const entry of incident.timeline) {
    if (entry.type === "opened") add(Date.parse(entry.at), Date.parse(entry.at), 1);
    if (entry.type === "signals" && entry.count !== undefined) {
      add(Date.parse(entry.firstAt ?? entry.at), Date.parse(entry.lastAt ?? entry.at), entry.count);
    }
  }
  const rounded = buckets.map((value) => Math.round(value * 10) / 10);
  const marks: ChartMark[] = [];
  if (incident.acknowledgedAt) {
    marks.push({
      kind: "ack",
      at: Date.parse(incident.acknowledgedAt),
      label: "ack",
      title: `acknowledged by ${incident.acknowledgedBy ?? "someone"}`,
    });
  }
  for (const action of incident.actions) {
    if (action.type === "page" || action.status === "planned") continue;
    marks.push({
      kind: "action",
      at: Date.parse(action.at),
      label: action.id,
      title: `${action.id} ${action.type} ${action.status}`,
    });
  }
  if (incident.resolvedAt) {
    marks.push({
      kind: "resolved",
      at: Date.parse(incident.resolvedAt),
      label: "resolved",
      title: `resolved by ${incident.resolvedBy ?? "someone"}`,
    });
  }
  return {
    start,
    span,
    bucketMs,
    buckets: rounded,
    max: Math.max(1, Math.ceil(Math.max(...rounded))),
    total: incident.count,
    marks: marks.filter((mark) => Number.isFinite(mark.at)).sort((a, b) => a.at - b.at),
  };
}
