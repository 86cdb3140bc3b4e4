/**
 * What Firebreak reads from CloudWatch: alarm states (to verify a remediation) and the alarm's
 * metric (context for an incident). In AWS `DescribeAlarms` and `GetMetricData`, in the alarm's
 * own account (through the role in `accounts` when it is not Firebreak's); locally, the
 * simulated CloudWatch.
 */
export interface AlarmState {
  alarmName: string;
  state: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  /** When it entered that state (ISO). */
  since: string;
  reason: string | null;
}

/** One alarm's metric over a time range, at the alarm's period and statistic. */
export interface MetricSeries {
  alarmName: string;
  /** e.g. `AWS/Lambda Errors (Sum, 60s)`. */
  label: string;
  periodSeconds: number;
  statistic: string;
  threshold: number | null;
  comparison: string | null;
  /** The metric's CloudWatch unit when the alarm names one (`Seconds`, `Percent`...). */
  unit?: string | null;
  /** Oldest first; ISO times with their values. */
  points: Array<{ at: string; value: number }>;
}

export interface CloudWatchReader {
  /** The named alarms' states; an alarm that does not exist is absent from the result. */
  alarmStates(alarmNames: ReadonlyArray<string>, account?: string): Promise<AlarmState[]>;
  /** The alarm's metric between two times (ms), or null for an alarm without one metric. */
  metricSeries(
    alarmName: string,
    from: number,
    to: number,
    account?: string,
  ): Promise<MetricSeries | null>;
}
