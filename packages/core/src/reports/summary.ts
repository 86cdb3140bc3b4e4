import * as z from "zod";
import { type Incident, IncidentStatusSchema } from "../incidents/model";
import { SEVERITIES, type Severity, SeveritySchema } from "../severity";
import { SOURCES, SourceSchema } from "../signal";
import { secondsBetween } from "./postmortem";

const Timestamp = z.iso.datetime();
const Count = z.number().int().nonnegative();

/** Fingerprints listed as the noisiest. */
export const NOISIEST_MAX = 10;

const TimingSchema = z.object({
  count: Count.describe("Incidents the figures are over (those acknowledged, or those resolved)"),
  medianSeconds: z.number().nonnegative().nullable().describe("Null when `count` is 0"),
  p90Seconds: z.number().nonnegative().nullable().describe("Null when `count` is 0"),
});
export type Timing = z.infer<typeof TimingSchema>;

/**
 * Incidents over a time range: how many by severity, source and status, how fast they were
 * acknowledged and resolved (MTTA and MTTR as median and 90th percentile, per severity), and the
 * fingerprints that made the most noise.
 */
export const SummarySchema = z.object({
  range: z
    .object({ since: Timestamp.nullable(), until: Timestamp.nullable() })
    .describe(
      "The range asked for; incidents count when their first signal falls in it (ends included)",
    ),
  incidents: Count,
  bySeverity: z.record(SeveritySchema, Count),
  bySource: z.record(SourceSchema, Count),
  byStatus: z.record(IncidentStatusSchema, Count),
  timeToAcknowledge: z
    .record(SeveritySchema, TimingSchema)
    .describe("First signal to acknowledgement, over the incidents someone acknowledged"),
  timeToResolve: z
    .record(SeveritySchema, TimingSchema)
    .describe("First signal to resolution, over the resolved incidents"),
  noisiest: z
    .array(
      z.object({
        fingerprint: z.string(),
        title: z.string().describe("The title of its latest incident"),
        source: SourceSchema,
        incidents: Count,
        signals: Count,
        lastSeenAt: Timestamp,
      }),
    )
    .max(NOISIEST_MAX)
    .describe("Most signals first; equal counts by fingerprint"),
});
export type Summary = z.infer<typeof SummarySchema>;

const zeros = <K extends string>(keys: ReadonlyArray<K>) =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

const byKey = <K extends string, V>(keys: ReadonlyArray<K>, value: (key: K) => V) =>
  Object.fromEntries(keys.map((key) => [key, value(key)])) as Record<K, V>;

/** Rounded to the millisecond, so float noise never shows in the JSON. */
const round = (value: number) => Math.round(value * 1000) / 1000;

/** The pth quantile of sorted values, interpolating between neighbours (numpy's default). */
function quantile(sorted: ReadonlyArray<number>, p: number): number {
  const position = (sorted.length - 1) * p;
  const below = sorted[Math.floor(position)] as number;
  const above = sorted[Math.ceil(position)] as number;
  return round(below + (above - below) * (position - Math.floor(position)));
}

function timing(values: number[]): Timing {
  if (values.length === 0) return { count: 0, medianSeconds: null, p90Seconds: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    medianSeconds: quantile(sorted, 0.5),
    p90Seconds: quantile(sorted, 0.9),
  };
}

/** Code-unit order, the same in every locale. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Summarises incidents over a range. Pure and deterministic: the order of `incidents` does not
 * matter, and ties are broken by fingerprint (then incident id).
 *
 * @param incidents - incidents to count; those whose first signal is outside `range` are left out
 * @param range - ISO bounds on `firstSeenAt`, inclusive; null leaves that side open
 * @example
 * ```ts
 * const { items } = await store.list({ since, until, limit: 1000 });
 * const summary = summarize(items, { since, until });
 * summary.timeToAcknowledge.critical.medianSeconds; // 272
 * ```
 */
export function summarize(
  incidents: ReadonlyArray<Incident>,
  range: { since: string | null; until: string | null },
): Summary {
  const since = range.since === null ? Number.NEGATIVE_INFINITY : Date.parse(range.since);
  const until = range.until === null ? Number.POSITIVE_INFINITY : Date.parse(range.until);
  const bySeverity = zeros(SEVERITIES);
  const bySource = zeros(SOURCES);
  const byStatus = zeros(IncidentStatusSchema.options);
  const acknowledge = byKey(SEVERITIES, (): number[] => []);
  const resolve = byKey(SEVERITIES, (): number[] => []);
  const fingerprints = new Map<string, { latest: Incident; incidents: number; signals: number }>();
  let counted = 0;

  for (const incident of incidents) {
    const first = Date.parse(incident.firstSeenAt);
    if (!(first >= since && first <= until)) continue;
    counted += 1;
    bySeverity[incident.severity] += 1;
    bySource[incident.source] += 1;
    byStatus[incident.status] += 1;
    if (incident.acknowledgedAt) {
      acknowledge[incident.severity].push(
        secondsBetween(incident.firstSeenAt, incident.acknowledgedAt),
      );
    }
    if (incident.status === "resolved" && incident.resolvedAt) {
      resolve[incident.severity].push(secondsBetween(incident.firstSeenAt, incident.resolvedAt));
    }
    let noise = fingerprints.get(incident.fingerprint);
    if (!noise) {
      noise = { latest: incident, incidents: 0, signals: 0 };
      fingerprints.set(incident.fingerprint, noise);
    } else if (isLater(incident, noise.latest)) {
      noise.latest = incident;
    }
    noise.incidents += 1;
    noise.signals += incident.count;
  }

  const noisiest = [...fingerprints.entries()]
    .sort(([a, x], [b, y]) => y.signals - x.signals || compare(a, b))
    .slice(0, NOISIEST_MAX)
    .map(([fingerprint, noise]) => ({
      fingerprint,
      title: noise.latest.title,
      source: noise.latest.source,
      incidents: noise.incidents,
      signals: noise.signals,
      lastSeenAt: noise.latest.lastSeenAt,
    }));

  return {
    range: { since: range.since, until: range.until },
    incidents: counted,
    bySeverity,
    bySource,
    byStatus,
    timeToAcknowledge: byKey(SEVERITIES, (severity: Severity) => timing(acknowledge[severity])),
    timeToResolve: byKey(SEVERITIES, (severity: Severity) => timing(resolve[severity])),
    noisiest,
  };
}

/** Which of two incidents of a fingerprint is the latest: last seen, then sequence, then id. */
function isLater(candidate: Incident, current: Incident): boolean {
  const difference =
    Date.parse(candidate.lastSeenAt) - Date.parse(current.lastSeenAt) ||
    candidate.sequence - current.sequence;
  return difference > 0 || (difference === 0 && compare(candidate.id, current.id) > 0);
}
