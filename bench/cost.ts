import { FUNCTIONS, type FunctionName } from "../stacks/topology";
import { round } from "./load";
import { HOURS_PER_MONTH, PRICES } from "./prices";

/** What a scenario's run used, counted by the local stack (deltas over the run). */
export interface UsageCounts {
  signals: number;
  /** Requests that reached the HTTP API (webhooks); EventBridge and SNS deliveries are not. */
  httpRequests: number;
  invocations: Partial<Record<FunctionName, number>>;
  invocationMs: Partial<Record<FunctionName, number>>;
  /** Read and write capacity units consumed, as DynamoDB reported them (what on-demand bills). */
  dynamodb: { readUnits: number; writeUnits: number };
  /** Messages sent to the signal queue, and the batches the event source mapping invoked. */
  sqs: { sent: number; batches: number };
  pages: number;
}

export interface CostPerMillion {
  lambda: number;
  dynamodb: number;
  sqs: number;
  sns: number;
  apiGateway: number;
  total: number;
  /** Lambda GB-seconds per million signals. */
  gbSeconds: number;
}

/** Messages one SQS ReceiveMessage or DeleteMessageBatch call carries at most. */
const SQS_MESSAGES_PER_CALL = 10;

/**
 * Dollars per million signals at PRICES, from a run's counts. Approximations, each stated: the
 * DynamoDB units are the embedded database's own count by item size (a failed conditional write
 * at its item's size: `localDynamoDbClient`); a function's local running
 * time stands for its billed duration at its deployed memory (this machine's x86 cores for
 * Lambda's arm64 ones); SQS counts one request per message sent (EventBridge and SNS deliver one
 * by one), and receives and deletes in calls of 10; every page is one SNS publish. Left out:
 * the mapping's empty long polls (a fixed few cents a month), logs and storage.
 */
export function costPerMillion(usage: UsageCounts): CostPerMillion {
  const perMillion = 1e6 / Math.max(1, usage.signals);
  let gbSeconds = 0;
  let requests = 0;
  for (const [name, count] of Object.entries(usage.invocations) as Array<[FunctionName, number]>) {
    requests += count;
    gbSeconds += ((usage.invocationMs[name] ?? 0) / 1000) * (FUNCTIONS[name].memoryMB / 1024);
  }
  const lambda = requests * PRICES.lambda.perRequest + gbSeconds * PRICES.lambda.perGbSecondArm;
  const dynamodb =
    usage.dynamodb.readUnits * PRICES.dynamodb.perReadUnit +
    usage.dynamodb.writeUnits * PRICES.dynamodb.perWriteUnit;
  const receivesAndDeletes = 2 * Math.ceil(usage.sqs.sent / SQS_MESSAGES_PER_CALL);
  const sqs =
    (usage.sqs.sent + Math.max(receivesAndDeletes, usage.sqs.batches)) * PRICES.sqs.perRequest;
  const sns = usage.pages * PRICES.sns.perPublish;
  const apiGateway = usage.httpRequests * PRICES.apiGateway.perHttpRequest;
  const scaled = (dollars: number) => round(dollars * perMillion, 3);
  return {
    lambda: scaled(lambda),
    dynamodb: scaled(dynamodb),
    sqs: scaled(sqs),
    sns: scaled(sns),
    apiGateway: scaled(apiGateway),
    total: scaled(lambda + dynamodb + sqs + sns + apiGateway),
    gbSeconds: round(gbSeconds * perMillion, 1),
  };
}

/** An always-on t4g.small running Alertmanager, with an 8 GB gp3 root volume, per month. */
export function alertmanagerInstancePerMonth(): number {
  return round(PRICES.ec2.t4gSmallPerHour * HOURS_PER_MONTH + 8 * PRICES.ec2.gp3PerGbMonth, 2);
}

export function costLines(costs: Array<{ shape: string; cost: CostPerMillion }>): string[] {
  const instance = alertmanagerInstancePerMonth();
  return [
    `dollars per million signals (${PRICES.region} on-demand, prices of ${PRICES.writtenOn}: bench/prices.ts)`,
    ...costs.map(
      ({ shape, cost }) =>
        `  ${shape.padEnd(34)} $${cost.total} (Lambda $${cost.lambda} for ${cost.gbSeconds} GB-s, DynamoDB $${cost.dynamodb}, SQS $${cost.sqs}, SNS $${cost.sns}, HTTP API $${cost.apiGateway})`,
    ),
    `  beside: Alertmanager on an always-on t4g.small, $${instance} a month whatever the volume` +
      (costs.length
        ? `; Firebreak costs that at ${costs.map(({ shape, cost }) => `${round(instance / Math.max(cost.total, 1e-9), 1)} million ${shape} signals`).join(", ")} a month`
        : ""),
  ];
}
