import { formatDuration } from "@firebreak/core";
import type { DeployOptions } from "./options";
import type { Queues } from "./queues";
import { alarmTopicPolicy } from "./topic-policy";
import { PENDING_AGE_METRIC } from "./topology";

/** Pending actions older than this page: the dispatcher picks work up within seconds. */
const PENDING_AGE_ALARM_SECONDS = 300;

export interface MonitoringArgs {
  options: DeployOptions;
  /** Every alarm's name starts with it (the alarm rule leaves these out of Firebreak). */
  prefix: string;
  functions: Record<string, sst.aws.Function>;
  queues: Queues;
  dispatchFn: sst.aws.Function;
  processFn: sst.aws.Function;
  escalationsFn: sst.aws.Function;
  alarmRule: aws.cloudwatch.EventRule;
  api: sst.aws.ApiGatewayV2;
}

/**
 * Firebreak watching itself. Its alarms notify its own SNS topic directly, never through
 * Firebreak, which may be the thing that is down; subscribe the people who run Firebreak to it
 * (email here, or PagerDuty's CloudWatch integration, or a chat webhook).
 */
export function selfMonitoring(args: MonitoringArgs) {
  const { options, prefix, queues } = args;
  const opsTopic = new aws.sns.Topic("OpsTopic", {});
  // Only Firebreak's own alarms notify the people who run it.
  alarmTopicPolicy("OpsTopicPolicy", { topic: opsTopic, alarmNames: `${prefix}*` });
  options.alarms.emails.forEach((email, index) => {
    new aws.sns.TopicSubscription(`OpsEmail${index}`, {
      topic: opsTopic.arn,
      protocol: "email",
      endpoint: email,
    });
  });
  const notify = { alarmActions: [opsTopic.arn], okActions: [opsTopic.arn] };

  const alarm = (name: string, alarmArgs: Omit<aws.cloudwatch.MetricAlarmArgs, "name">) =>
    new aws.cloudwatch.MetricAlarm(
      `Alarm${name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`,
      {
        name: `${prefix}${name}`,
        ...notify,
        ...alarmArgs,
      },
    );
  const queueDepth = (queue: sst.aws.Queue, description: string) => ({
    alarmDescription: description,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue.nodes.queue.name },
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });

  const alarms = [
    alarm(
      "dead-letters",
      queueDepth(
        queues.signalsDeadLetter,
        "Signals failed 5 times and were dead-lettered: fix the cause, then redrive the DLQ (see the README's recovery section)",
      ),
    ),
    alarm(
      "ingest-failures",
      queueDepth(
        queues.ingestFailures,
        "Logs or alarm-action events the ingest function failed on after retries: fix it, then replay them (see the README's recovery section)",
      ),
    ),
    alarm(
      "dispatch-failures",
      queueDepth(
        queues.dispatchFailures,
        "Stream records the dispatcher could not handle after retries; the sweep retries their actions",
      ),
    ),
    alarm("queue-age", {
      alarmDescription:
        "Signals are waiting in the queue: the processor is failing, throttled or too slow",
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queues.signals.nodes.queue.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: options.alarms.queueAge / 1000,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    }),
    alarm("dispatch-iterator-age", {
      alarmDescription: "The dispatcher is behind the table's stream: actions and pages are late",
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: { FunctionName: args.dispatchFn.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      threshold: 300_000,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    }),
    // Liveness of the whole response path, measured where the work is: the sweep reports the
    // age of the oldest pending action every minute. It catches what the stream alarms cannot: a
    // filter or mapping that drops records (IteratorAge stays 0 then), a dispatcher that takes
    // records and leaves their actions planned, or a disabled mapping. No data means the sweep
    // itself is not running, which is as bad.
    alarm("pending-actions-age", {
      alarmDescription: `Actions have been waiting more than ${PENDING_AGE_ALARM_SECONDS / 60} minutes, or the escalation sweep stopped reporting: the dispatcher is not draining the table`,
      namespace: PENDING_AGE_METRIC.namespace,
      metricName: PENDING_AGE_METRIC.name,
      dimensions: { [PENDING_AGE_METRIC.dimension]: args.escalationsFn.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: PENDING_AGE_ALARM_SECONDS,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "breaching",
    }),
    alarm("alarm-rule-failures", {
      alarmDescription: "EventBridge could not deliver alarm state changes to the signal queue",
      namespace: "AWS/Events",
      metricName: "FailedInvocations",
      dimensions: { RuleName: args.alarmRule.name },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    }),
    alarm("api-5xx", {
      alarmDescription: "The HTTP API answers 5xx (webhooks from Sentry and Slack may be failing)",
      namespace: "AWS/ApiGateway",
      metricName: "5xx",
      dimensions: { ApiId: args.api.nodes.api.id, Stage: "$default" },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 5,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
  ];

  for (const [key, fn] of Object.entries(args.functions)) {
    alarms.push(
      alarm(`${key}-errors`, {
        alarmDescription: `The ${key} function fails (its log group has the errors)`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: fn.name },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: options.alarms.functionErrors,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
      }),
      alarm(`${key}-throttles`, {
        alarmDescription: `The ${key} function is throttled (account concurrency, or its own limit)`,
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: { FunctionName: fn.name },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      }),
    );
  }

  const { heartbeat } = options.alarms;
  if (heartbeat !== false) {
    // Windows up to an hour are one period; longer ones are whole hours, all of which must be
    // empty. Missing data (no invocation at all) is what this alarm is for: it breaches.
    const period = Math.min(heartbeat, 3_600_000) / 1000;
    const periods = Math.max(1, Math.round(heartbeat / 1000 / period));
    const invocationMetric = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: {
        namespace: "AWS/Lambda",
        metricName,
        dimensions: { FunctionName: args.processFn.name },
        stat: "Sum",
        period,
      },
    });
    alarms.push(
      alarm("heartbeat", {
        alarmDescription: `No signal processed successfully for ${formatDuration(heartbeat)}: is anything reaching Firebreak?`,
        metricQueries: [
          invocationMetric("invocations", "Invocations"),
          invocationMetric("errors", "Errors"),
          {
            id: "processed",
            label: "Processor invocations that succeeded",
            expression: "FILL(invocations, 0) - FILL(errors, 0)",
            returnData: true,
          },
        ],
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      }),
    );
  }

  return { opsTopic, alarms };
}
