import * as z from "zod";
import { type Incident, type IncidentRecord, IncidentStatusSchema } from "../incidents/model";
import { SEVERITIES, type Severity, SeveritySchema } from "../severity";
import { SOURCES, SourceSchema } from "../signal";
import { holdCounts } from "../silences/hold";
import type { SignalCounts } from "./counters";
import { secondsBetween } from "./postmortem";

const Timestamp = z.iso.datetime();
const Count = z.number().int().nonnegative();

/** Fingerprints (and services) listed as the noisiest. */
export const NOISIEST_MAX = 10;

/** The buckets of `alertsPerIncident.distribution`: incidents by how many alerts they hold. */
export const ALERT_BUCKETS = ["1", "2", "3-5", "6-10", "11+"] as const;
const bucketOf = (alerts: number): (typeof ALERT_BUCKETS)[number] =>
  alerts <= 1 ? "1" : alerts === 2 ? "2" : alerts <= 5 ? "3-5" : alerts <= 10 ? "6-10" : "11+";

const TimingSchema = z.object({
  count: Count.describe("Incidents the figures are over (those acknowledged, or those resolved)"),
  medianSeconds: z.number().nonnegative().nullable().describe("Null when `count` is 0"),
  p90Seconds: z.number().nonnegative().nullable().describe("Null when `count` is 0"),
});
export type Timing = z.infer<typeof TimingSchema>;

/**
 * Incidents over a time range: how many by severity, source and status, how fast they were
 * acknowledged and resolved (MTTA and MTTR as median and 90th percentile, per severity), the
 * fingerprints and services that made the most noise, how many alerts an incident grouped, and
 * what never reached anyone: signals ignore rules dropped, alerts inhibition held, incidents whose
 * responses a silence, a maintenance window or an inhibiting incident held.
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
  ignored: Count.describe(
    "Signals rules with severity ignore dropped, in the hours overlapping the range (when processed): never stored, never paged",
  ),
  inhibited: Count.describe("Alerts of the counted incidents an open incident inhibited"),
  held: z
    .object({ inhibited: Count, maintenance: Count, silenced: Count })
    .describe(
      "Incidents a silence, a maintenance window or an inhibiting incident held a response of",
    ),
  alertsPerIncident: z
    .object({
      mean: z.number().nonnegative().nullable().describe("Null when no incident is counted"),
      max: Count,
      distribution: z.record(z.enum(ALERT_BUCKETS), Count).describe("Incidents by alerts held"),
    })
    .describe("How many alerts (one per fingerprint) each counted incident grouped"),
  noisiestServices: z
    .array(
      z.object({
        service: z.string(),
        incidents: Count,
        alerts: Count,
        signals: Count,
        lastSeenAt: Timestamp,
      }),
    )
    .max(NOISIEST_MAX)
    .describe("Services by signals, then incidents, then name; incidents of no service left out"),
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
 * Summarises incidents over a range. Pure and deterministic: the order of `records` does not
 * matter, and ties are broken by fingerprint or service name (then incident id).
 *
 * @param records - incidents to count; those whose first signal is outside `range` are left out
 * @param range - ISO bounds on `firstSeenAt`, inclusive; null leaves that side open
 * @param counts - what the processor counted over the range (`SignalCounters.totals`)
 * @example
 * ```ts
 * const records = await Promise.all(ids.map((id) => store.get(id)));
 * const summary = summarize(records, { since, until }, await counters.totals({ since, until }));
 * summary.timeToAcknowledge.critical.medianSeconds; // 272
 * summary.ignored; // 9500
 * ```
 */
export function summarize(
  records: ReadonlyArray<IncidentRecord>,
  range: { since: string | null; until: string | null },
  counts: SignalCounts,
): Summary {
  const since = range.since === null ? Number.NEGATIVE_INFINITY : Date.parse(range.since);
  const until = range.until === null ? Number.POSITIVE_INFINITY : Date.parse(range.until);
  const bySeverity = zeros(SEVERITIES);
  const bySource = zeros(SOURCES);
  const byStatus = zeros(IncidentStatusSchema.options);
  const acknowledge = byKey(SEVERITIES, (): number[] => []);
  const resolve = byKey(SEVERITIES, (): number[] => []);
  const fingerprints = new Map<string, { latest: Incident; incidents: number; signals: number }>();
  const services = new Map<string, ServiceNoise>();
  const counted: IncidentRecord[] = [];
  const distribution = zeros(ALERT_BUCKETS);
  let alerts = 0;
  let maxAlerts = 0;

  for (const record of records) {
    const { incident, alerts: own } = record;
    const first = Date.parse(incident.firstSeenAt);
    if (!(first >= since && first <= until)) continue;
    counted.push(record);
    alerts += own.length;
    maxAlerts = Math.max(maxAlerts, own.length);
    distribution[bucketOf(own.length)] += 1;
    if (incident.service !== null) {
      const noise = services.get(incident.service) ?? {
        incidents: 0,
        alerts: 0,
        signals: 0,
        lastSeenAt: incident.lastSeenAt,
      };
      noise.incidents += 1;
      noise.alerts += own.length;
      noise.signals += incident.count;
      if (Date.parse(incident.lastSeenAt) > Date.parse(noise.lastSeenAt)) {
        noise.lastSeenAt = incident.lastSeenAt;
      }
      services.set(incident.service, noise);
    }
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

  const holds = holdCounts(counted);
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
    incidents: counted.length,
    bySeverity,
    bySource,
    byStatus,
    timeToAcknowledge: byKey(SEVERITIES, (severity: Severity) => timing(acknowledge[severity])),
    timeToResolve: byKey(SEVERITIES, (severity: Severity) => timing(resolve[severity])),
    noisiest,
    ignored: counts.ignored,
    inhibited: holds.inhibitedAlerts,
    held: { inhibited: holds.inhibited, maintenance: holds.maintenance, silenced: holds.silenced },
    alertsPerIncident: {
      mean: counted.length === 0 ? null : round(alerts / counted.length),
      max: maxAlerts,
      distribution,
    },
    noisiestServices: [...services.entries()]
      .sort(([a, x], [b, y]) => y.signals - x.signals || y.incidents - x.incidents || compare(a, b))
      .slice(0, NOISIEST_MAX)
      .map(([service, noise]) => ({ service, ...noise })),
  };
}

interface ServiceNoise {
  incidents: number;
  alerts: number;
  signals: number;
  lastSeenAt: string;
}

/** Which of two incidents of a fingerprint is the latest: last seen, then sequence, then id. */
function isLater(candidate: Incident, current: Incident): boolean {
  const difference =
    Date.parse(candidate.lastSeenAt) - Date.parse(current.lastSeenAt) ||
    candidate.sequence - current.sequence;
  return difference > 0 || (difference === 0 && compare(candidate.id, current.id) > 0);
}
