import type { OperationalMetrics } from "@firebreak/core";
import { PENDING_AGE_METRIC } from "@firebreak/stacks/topology";

/** Signals ignore rules dropped, per processed batch, by function (as the pending age is). */
export const SIGNALS_IGNORED_METRIC = {
  namespace: PENDING_AGE_METRIC.namespace,
  name: "SignalsIgnored",
  unit: "Count",
  dimension: PENDING_AGE_METRIC.dimension,
} as const;

/**
 * Firebreak's own figures as CloudWatch embedded metric format lines on stdout, which Lambda's
 * log group turns into metrics with no API call. Written by hand rather than with Powertools
 * Metrics, which adds a `service` dimension the deployed alarm (stacks/monitoring.ts) does not
 * name: a metric with other dimensions is another metric to CloudWatch.
 */
export function emfMetrics(
  functionName: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): OperationalMetrics {
  const emit = (metric: typeof PENDING_AGE_METRIC | typeof SIGNALS_IGNORED_METRIC, value: number) =>
    write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: metric.namespace,
              Dimensions: [[metric.dimension]],
              Metrics: [{ Name: metric.name, Unit: metric.unit }],
            },
          ],
        },
        [metric.dimension]: functionName,
        [metric.name]: value,
      }),
    );
  return {
    pendingActionsOldestAge: (seconds) => emit(PENDING_AGE_METRIC, seconds),
    signalsIgnored: (count) => emit(SIGNALS_IGNORED_METRIC, count),
  };
}
