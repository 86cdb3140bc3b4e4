import { type FunctionDefaults, firebreakFunction } from "./lambda";
import { TABLE_ACCESS } from "./table";

/** Messages older than this are dropped by SQS; the dead-letter queue keeps them longest. */
const QUEUE_RETENTION_SECONDS = 4 * 86_400;
/** SQS's maximum: a broken processor can be fixed and its signals redriven within two weeks. */
export const DLQ_RETENTION_SECONDS = 14 * 86_400;
/** Receives before a message is dead-lettered (partial batch failures count per message). */
export const MAX_RECEIVE_COUNT = 5;
const PROCESS_TIMEOUT_SECONDS = 60;

export interface IngestArgs {
  defaults: FunctionDefaults;
  table: sst.aws.Dynamo;
  /** Firebreak's own alarms are named with this prefix; they page directly, not through here. */
  alarmPrefix: string;
}

/**
 * Signals in: an EventBridge rule for alarm state changes and an SNS topic alarms can notify,
 * both delivering straight to one SQS queue (with a dead-letter queue); a function for what AWS
 * can only push to a function (Logs subscriptions, alarm actions); the processor consuming the
 * queue in batches with partial batch failures.
 */
export function ingest({ defaults, table, alarmPrefix }: IngestArgs) {
  const { options } = defaults;
  const deadLetters = new sst.aws.Queue("SignalsDeadLetter", {
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = DLQ_RETENTION_SECONDS;
        args.sqsManagedSseEnabled = true;
      },
    },
  });
  const queue = new sst.aws.Queue("Signals", {
    // AWS's advice for a Lambda consumer: six times the function's timeout, so a message is not
    // received again while a slow batch is still working on it.
    visibilityTimeout: `${PROCESS_TIMEOUT_SECONDS * 6} seconds`,
    dlq: { queue: deadLetters.arn, retry: MAX_RECEIVE_COUNT },
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = QUEUE_RETENTION_SECONDS;
        args.sqsManagedSseEnabled = true;
      },
    },
  });

  // Alarms notify this topic (alarm actions); it delivers the SNS envelope to the queue as is.
  const alarmTopic = new aws.sns.Topic("AlarmTopic", {});
  new aws.sns.TopicSubscription("AlarmTopicToQueue", {
    topic: alarmTopic.arn,
    protocol: "sqs",
    endpoint: queue.arn,
    rawMessageDelivery: false,
  });

  // Every alarm state change in the account and region, except Firebreak's own alarms.
  const alarmRule = new aws.cloudwatch.EventRule("AlarmStateChanges", {
    description: "CloudWatch alarm state changes to Firebreak's signal queue",
    eventPattern: JSON.stringify({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [{ "anything-but": { prefix: alarmPrefix } }] },
    }),
  });
  new aws.cloudwatch.EventTarget("AlarmStateChangesToQueue", {
    rule: alarmRule.name,
    arn: queue.arn,
    retryPolicy: { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 },
  });

  // SQS takes one policy per queue: both producers are in it, and nothing over plain HTTP.
  new aws.sqs.QueuePolicy("SignalsPolicy", {
    queueUrl: queue.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AlarmStateChanges",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": alarmRule.arn } },
        },
        {
          Sid: "AlarmTopic",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": alarmTopic.arn } },
        },
        {
          Sid: "TlsOnly",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:*",
          Resource: queue.arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    }),
  });

  // CloudWatch Logs and alarm actions invoke the ingest function asynchronously: what still fails
  // after Lambda's retries is kept here (the original event is the record's requestPayload).
  const ingestFailures = new sst.aws.Queue("IngestFailures", {
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = DLQ_RETENTION_SECONDS;
        args.sqsManagedSseEnabled = true;
      },
    },
  });
  const ingestFn = firebreakFunction(
    "Ingest",
    "ingest",
    {
      description: "Firebreak: CloudWatch Logs subscriptions and alarm actions to the signal queue",
      memory: "512 MB",
      timeout: "30 seconds",
      environment: { QUEUE_URL: queue.url },
      // The failure destination is written with the function's own role.
      permissions: [{ actions: ["sqs:SendMessage"], resources: [queue.arn, ingestFailures.arn] }],
      async: { retries: 2, onFailure: ingestFailures.arn },
    },
    defaults,
  );

  const partition = aws.getPartitionOutput({}).partition;
  const region = aws.getRegionOutput({}).region;
  const account = aws.getCallerIdentityOutput({}).accountId;

  // Alarms in this account may name the ingest function as an alarm action.
  new aws.lambda.Permission("IngestFromAlarmActions", {
    action: "lambda:InvokeFunction",
    function: ingestFn.name,
    principal: "lambda.alarms.cloudwatch.amazonaws.com",
    sourceAccount: account,
    sourceArn: $interpolate`arn:${partition}:cloudwatch:${region}:${account}:alarm:*`,
  });

  const subscriptions = options.logGroups.map((group, index) => {
    const logGroupArn = $interpolate`arn:${partition}:logs:${region}:${account}:log-group:${group.name}:*`;
    const permission = new aws.lambda.Permission(`IngestFromLogs${index}`, {
      action: "lambda:InvokeFunction",
      function: ingestFn.name,
      principal: "logs.amazonaws.com",
      sourceAccount: account,
      sourceArn: logGroupArn,
    });
    return new aws.cloudwatch.LogSubscriptionFilter(
      `LogSubscription${index}`,
      {
        // Per stage: CloudWatch Logs allows two subscription filters per log group, each named.
        name: `${$app.name}-${$app.stage}`,
        logGroup: group.name,
        filterPattern: group.filterPattern,
        destinationArn: ingestFn.arn,
      },
      { dependsOn: [permission] },
    );
  });

  const processFn = firebreakFunction(
    "Process",
    "process",
    {
      description: "Firebreak: the signal queue's consumer (correlate, classify, store incidents)",
      memory: "1024 MB",
      timeout: `${PROCESS_TIMEOUT_SECONDS} seconds`,
      environment: { TABLE_NAME: table.name },
      permissions: [
        {
          actions: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
          ],
          resources: [queue.arn],
        },
        {
          actions: [...TABLE_ACCESS.readWrite],
          resources: [table.arn, $interpolate`${table.arn}/index/*`],
        },
      ],
    },
    defaults,
  );
  queue.subscribe(processFn.arn, {
    batch: {
      size: options.processor.batchSize,
      window: `${options.processor.batchWindowSeconds} seconds`,
      partialResponses: true,
    },
    transform: {
      eventSourceMapping: (args) => {
        args.scalingConfig = { maximumConcurrency: options.processor.maxConcurrency };
      },
    },
  });

  return {
    queue,
    deadLetters,
    ingestFailures,
    alarmTopic,
    alarmRule,
    ingestFn,
    processFn,
    subscriptions,
  };
}
