import type { OperationalMetrics } from "@firebreak/core";
import { PENDING_AGE_METRIC } from "@firebreak/stacks/topology";

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
  return {
    pendingActionsOldestAge(seconds) {
      write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: PENDING_AGE_METRIC.namespace,
                Dimensions: [[PENDING_AGE_METRIC.dimension]],
                Metrics: [{ Name: PENDING_AGE_METRIC.name, Unit: PENDING_AGE_METRIC.unit }],
              },
            ],
          },
          [PENDING_AGE_METRIC.dimension]: functionName,
          [PENDING_AGE_METRIC.name]: seconds,
        }),
      );
    },
  };
}
