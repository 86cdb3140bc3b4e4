import { type FunctionDefaults, firebreakFunction } from "./lambda";
import { componentName } from "./names";
import { TABLE_ACCESS } from "./table";
import { alarmTopicPolicy } from "./topic-policy";
import type { QueueName } from "./topology";

export interface IngestArgs {
  defaults: FunctionDefaults;
  table: sst.aws.Dynamo;
  /** Firebreak's own alarms' names start with it: they page the ops topic, never Firebreak. */
  alarmPrefix: string;
}

/**
 * Component names deployed stages already have, kept: a new name would replace the topic, whose
 * ARN alarm actions name, and its subscription (SNS answers a re-subscribe with the existing
 * subscription, which deleting the old resource then removes).
 */
const TOPIC_COMPONENTS = { alarms: "AlarmTopic" } as const;

/**
 * Signals in: the topology's EventBridge rules and SNS topics, each delivering straight to its
 * queue; a function for what AWS can only push to a function (Logs subscriptions, alarm actions);
 * the processor, which consumes the queue (stacks/events.ts wires the mapping).
 */
export function ingest({ defaults, table, alarmPrefix }: IngestArgs) {
  const { options, topology, queues } = defaults;

  const topics = Object.fromEntries(
    Object.entries(topology.topics).map(([key, spec]) => {
      const name = TOPIC_COMPONENTS[key as keyof typeof TOPIC_COMPONENTS];
      const topic = new aws.sns.Topic(name, {});
      // Alarm actions of this account's alarms only: a forged alarm is a forged incident, and
      // with it a page or a remediation.
      alarmTopicPolicy(`${name}Policy`, {
        topic,
        alarmNames: "*",
        exceptAlarmNames: `${alarmPrefix}*`,
      });
      spec.subscriptions.forEach((subscription, index) => {
        new aws.sns.TopicSubscription(`${name}ToQueue${index === 0 ? "" : index}`, {
          topic: topic.arn,
          protocol: subscription.protocol,
          endpoint: queues[subscription.queue].arn,
          rawMessageDelivery: subscription.rawMessageDelivery,
        });
      });
      return [key, { topic, queues: spec.subscriptions.map((s) => s.queue as QueueName) }];
    }),
  ) as Record<keyof typeof topology.topics, { topic: aws.sns.Topic; queues: QueueName[] }>;

  const rules = Object.fromEntries(
    Object.entries(topology.rules).map(([key, spec]) => {
      const name = componentName(key);
      const rule = new aws.cloudwatch.EventRule(name, {
        description: spec.description,
        eventPattern: JSON.stringify(spec.pattern),
      });
      new aws.cloudwatch.EventTarget(`${name}ToQueue`, {
        rule: rule.name,
        arn: queues[spec.queue].arn,
        retryPolicy: {
          maximumEventAgeInSeconds: spec.retry.maximumEventAgeSeconds,
          maximumRetryAttempts: spec.retry.maximumRetryAttempts,
        },
      });
      return [key, { rule, queue: spec.queue }];
    }),
  ) as Record<keyof typeof topology.rules, { rule: aws.cloudwatch.EventRule; queue: QueueName }>;

  // SQS takes one policy per queue: every producer the topology names is in it, and nothing
  // over plain HTTP.
  const producers = [
    ...Object.entries(rules).map(([key, { rule, queue }]) => ({
      sid: componentName(key),
      service: "events.amazonaws.com",
      source: rule.arn,
      queue,
    })),
    ...Object.entries(topics).flatMap(([key, { topic, queues: targets }]) =>
      targets.map((queue) => ({
        sid: TOPIC_COMPONENTS[key as keyof typeof TOPIC_COMPONENTS],
        service: "sns.amazonaws.com",
        source: topic.arn,
        queue,
      })),
    ),
  ];
  for (const key of new Set(producers.map((producer) => producer.queue))) {
    const queue = queues[key];
    new aws.sqs.QueuePolicy(`${componentName(key)}Policy`, {
      queueUrl: queue.url,
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [
          ...producers
            .filter((producer) => producer.queue === key)
            .map((producer) => ({
              Sid: producer.sid,
              Effect: "Allow",
              Principal: { Service: producer.service },
              Action: "sqs:SendMessage",
              Resource: queue.arn,
              Condition: { ArnEquals: { "aws:SourceArn": producer.source } },
            })),
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
  }

  const ingestFn = firebreakFunction(
    "ingest",
    {
      environment: { QUEUE_URL: queues.signals.url },
      permissions: [{ actions: ["sqs:SendMessage"], resources: [queues.signals.arn] }],
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

  // One grant for every log group of this account and region, not one per group: each grant is
  // a statement of the function's resource policy, which Lambda caps at 20 KB, and a statement
  // per group passes that near 50 groups (stacks/limits.ts). Only CloudWatch Logs acting for this
  // account may invoke, and only the groups given a subscription filter below send anything.
  const fromLogs =
    options.logGroups.length > 0
      ? new aws.lambda.Permission("IngestFromLogs", {
          action: "lambda:InvokeFunction",
          function: ingestFn.name,
          principal: "logs.amazonaws.com",
          sourceAccount: account,
          sourceArn: $interpolate`arn:${partition}:logs:${region}:${account}:log-group:*`,
        })
      : undefined;
  const subscriptions = options.logGroups.map(
    (group, index) =>
      new aws.cloudwatch.LogSubscriptionFilter(
        `LogSubscription${index}`,
        {
          // Per stage: CloudWatch Logs allows two subscription filters per log group, each named.
          name: `${$app.name}-${$app.stage}`,
          logGroup: group.name,
          filterPattern: group.filterPattern,
          destinationArn: ingestFn.arn,
        },
        { dependsOn: fromLogs ? [fromLogs] : [] },
      ),
  );

  const processFn = firebreakFunction(
    "process",
    { environment: { TABLE_NAME: table.name }, table: TABLE_ACCESS.readWrite },
    defaults,
  );

  return {
    alarmTopic: topics.alarms.topic,
    alarmRule: rules.alarmStateChanges.rule,
    ingestFn,
    processFn,
    subscriptions,
  };
}
