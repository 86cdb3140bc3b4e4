import { componentName } from "./names";
import type { QueueName, QueueSpec, Topology } from "./topology";

export type Queues = Record<QueueName, sst.aws.Queue>;

/**
 * Every queue of the topology, each with its retention, visibility timeout and dead-letter queue,
 * encrypted with SQS's own key (SSE-SQS: no KMS key policy or grants for producers and consumers).
 */
export function declareQueues(specs: Topology["queues"]): Queues {
  const declared = new Map<QueueName, sst.aws.Queue>();
  const entries = specs as Record<QueueName, QueueSpec>;
  const declare = (key: QueueName): sst.aws.Queue => {
    const known = declared.get(key);
    if (known) return known;
    const spec = entries[key];
    // A dead-letter queue exists before the queue whose redrive policy names it.
    const deadLetter = spec.deadLetter
      ? {
          queue: declare(spec.deadLetter.queue as QueueName).arn,
          retry: spec.deadLetter.maxReceiveCount,
        }
      : undefined;
    const queue = new sst.aws.Queue(componentName(key), {
      ...(spec.visibilityTimeoutSeconds !== undefined
        ? { visibilityTimeout: `${spec.visibilityTimeoutSeconds} seconds` as const }
        : {}),
      ...(deadLetter ? { dlq: deadLetter } : {}),
      transform: {
        queue: (args) => {
          args.messageRetentionSeconds = spec.retentionSeconds;
          args.sqsManagedSseEnabled = true;
        },
      },
    });
    declared.set(key, queue);
    return queue;
  };
  for (const key of Object.keys(entries) as QueueName[]) declare(key);
  return Object.fromEntries(declared) as Queues;
}
