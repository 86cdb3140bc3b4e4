import { componentName } from "./names";
import type { Queues } from "./queues";
import type { FunctionName, Topology } from "./topology";

export interface EventSourcesArgs {
  topology: Topology;
  queues: Queues;
  table: sst.aws.Dynamo;
  functions: Partial<Record<FunctionName, sst.aws.Function>>;
}

/**
 * What invokes the functions besides HTTP and CloudWatch: the topology's SQS and stream event
 * source mappings and its schedules, with exactly the settings the local stack emulates.
 */
export function eventSources({ topology, queues, table, functions }: EventSourcesArgs) {
  const target = (key: FunctionName) => {
    const fn = functions[key];
    if (!fn) throw new Error(`The topology wires ${key}, which this stage does not deploy`);
    return fn;
  };

  const queueMappings = topology.queueSources.map((source) =>
    queues[source.queue].subscribe(target(source.function).arn, {
      batch: {
        size: source.batchSize,
        window: `${source.batchingWindowSeconds} seconds`,
        partialResponses: source.reportBatchItemFailures,
      },
      // An empty filter list is not "no filter" to Lambda: it would be refused.
      ...(source.filters.length > 0
        ? { filters: [...source.filters] as Record<string, unknown>[] }
        : {}),
      transform: {
        eventSourceMapping: (args) => {
          args.scalingConfig = { maximumConcurrency: source.maximumConcurrency };
        },
      },
    }),
  );

  const streamMappings = topology.streamSources.map((source) =>
    table.subscribe(componentName(source.function), target(source.function).arn, {
      ...(source.filters.length > 0
        ? { filters: [...source.filters] as Record<string, unknown>[] }
        : {}),
      transform: {
        eventSourceMapping: (args) => {
          args.startingPosition = source.startingPosition;
          args.batchSize = source.batchSize;
          args.maximumBatchingWindowInSeconds = source.batchingWindowSeconds;
          args.functionResponseTypes = source.reportBatchItemFailures
            ? ["ReportBatchItemFailures"]
            : [];
          args.bisectBatchOnFunctionError = source.bisectBatchOnFunctionError;
          args.maximumRetryAttempts = source.maximumRetryAttempts;
          args.maximumRecordAgeInSeconds = source.maximumRecordAgeSeconds;
          args.destinationConfig = {
            onFailure: { destinationArn: queues[source.onFailure].arn },
          };
        },
      },
    }),
  );

  const schedules = Object.entries(topology.schedules).map(
    ([key, schedule]) =>
      new sst.aws.CronV2(componentName(key), {
        function: target(schedule.function).arn,
        schedule: schedule.expression as `rate(${string})`,
        retries: schedule.retries,
      }),
  );

  return { queueMappings, streamMappings, schedules };
}
