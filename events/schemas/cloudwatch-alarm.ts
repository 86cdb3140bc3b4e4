import {
  EventBridgeSchema,
  SnsSchema,
  SnsSqsNotificationSchema,
} from "@aws-lambda-powertools/parser/schemas";
import * as z from "zod";
import { AwsRegionSchema } from "./aws-regions";
import { jsonString } from "./json";

export { AWS_REGION_CODE, AwsRegionSchema, regionCodeFromDisplayName } from "./aws-regions";

// Provider payloads use plain (stripping) objects, never strict ones: AWS adds fields over time
// (AlarmConfigurationUpdatedTimestamp, OKActions, evaluationState...) and that must not page
// anyone. The fields Firebreak reads are validated tightly instead.

const ALARM_STATE_CHANGE = "CloudWatch Alarm State Change";

/**
 * CloudWatch's own timestamp form, `2019-10-02T17:04:40.989+0000` (no colon in the offset), which
 * `z.iso.datetime` rejects. `Z` and `+00:00` are accepted too. The string is kept as sent.
 */
export const CloudWatchTimestampSchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/,
    "Expected a CloudWatch timestamp such as 2019-10-02T17:04:40.989+0000",
  );

/** The alarm ARN: the stable key that folds ALARM and OK transitions into one incident. */
export const AlarmArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:cloudwatch:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:alarm:.+$/,
    "Expected a CloudWatch alarm ARN",
  );

export const AccountIdSchema = z.string().regex(/^\d{12}$/, "Expected a 12-digit AWS account id");

/** Alarm state values, as in the CloudWatch `StateValue` API enum. */
export const AlarmStateValueSchema = z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]);
export type AlarmStateValue = z.infer<typeof AlarmStateValueSchema>;

/**
 * `detail.state` / `detail.previousState` of an alarm event, and `alarmData.state` of an alarm
 * action. `reasonData` is a JSON *string* and is missing for some transitions ("Unchecked:
 * Initial alarm creation"). Follows the CloudWatch user guide, "Alarm events and EventBridge".
 */
export const AlarmStateSchema = z.object({
  value: AlarmStateValueSchema,
  reason: z.string(),
  reasonData: z.string().optional(),
  timestamp: CloudWatchTimestampSchema,
  actionsSuppressedBy: z.string().optional(),
  actionsSuppressedReason: z.string().optional(),
  evaluationState: z.string().optional(),
});
export type AlarmState = z.infer<typeof AlarmStateSchema>;

/** A `configuration.metrics[]` entry that reads one metric. */
export const AlarmMetricStatSchema = z.object({
  id: z.string().min(1),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
  metricStat: z.object({
    metric: z.object({
      namespace: z.string().min(1),
      name: z.string().min(1),
      dimensions: z.record(z.string(), z.string()).optional(),
    }),
    period: z.number().int().positive(),
    stat: z.string().min(1),
    unit: z.string().optional(),
  }),
});
export type AlarmMetricStat = z.infer<typeof AlarmMetricStatSchema>;

/** A `configuration.metrics[]` entry that is metric math or an anomaly detection band. */
export const AlarmMetricExpressionSchema = z.object({
  id: z.string().min(1),
  expression: z.string().min(1),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
});
export type AlarmMetricExpression = z.infer<typeof AlarmMetricExpressionSchema>;

/**
 * `detail.configuration` of an alarm event: `metrics` for metric alarms, `alarmRule` and the
 * actions-suppressor fields for composite alarms. Follows the CloudWatch user guide, "Alarm
 * events and EventBridge", and the aws_lambda_events composite-alarm fixtures.
 */
export const AlarmConfigurationSchema = z.object({
  description: z.string().nullish(),
  metrics: z.array(z.union([AlarmMetricStatSchema, AlarmMetricExpressionSchema])).optional(),
  alarmRule: z.string().min(1).optional(),
  actionsSuppressor: z.string().optional(),
  actionsSuppressorWaitPeriod: z.number().int().nonnegative().optional(),
  actionsSuppressorExtensionPeriod: z.number().int().nonnegative().optional(),
});
export type AlarmConfiguration = z.infer<typeof AlarmConfigurationSchema>;

/** `detail` of an EventBridge "CloudWatch Alarm State Change" event. */
export const AlarmStateChangeDetailSchema = z.object({
  alarmName: z.string().min(1),
  state: AlarmStateSchema,
  previousState: AlarmStateSchema.optional(),
  configuration: AlarmConfigurationSchema,
  operation: z.string().optional(),
});
export type AlarmStateChangeDetail = z.infer<typeof AlarmStateChangeDetailSchema>;

/**
 * EventBridge "CloudWatch Alarm State Change": Powertools' EventBridge envelope narrowed to
 * CloudWatch. `id` is the idempotency key; `resources[0]` is the alarm ARN.
 * Follows the CloudWatch user guide, "Alarm events and EventBridge".
 */
export const AlarmStateChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal("aws.cloudwatch"),
  "detail-type": z.literal(ALARM_STATE_CHANGE),
  account: AccountIdSchema,
  region: AwsRegionSchema,
  resources: z.array(AlarmArnSchema).min(1),
  detail: AlarmStateChangeDetailSchema,
});
export type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEventSchema>;

/**
 * Any other EventBridge event from `aws.cloudwatch` ("CloudWatch Alarm Configuration Change",
 * contributor events...): accepted so the caller can acknowledge and ignore it. A malformed
 * state change is *not* accepted here, so it cannot slip through as "other".
 */
export const CloudWatchOtherEventSchema = EventBridgeSchema.extend({
  source: z.literal("aws.cloudwatch"),
  "detail-type": z.string().refine((type) => type !== ALARM_STATE_CHANGE, {
    message: `"${ALARM_STATE_CHANGE}" must match AlarmStateChangeEventSchema`,
  }),
});
export type CloudWatchOtherEvent = z.infer<typeof CloudWatchOtherEventSchema>;

/**
 * The payload of a CloudWatch alarm that invokes a Lambda function directly (alarm action).
 * `time` uses the `+0000` form, unlike EventBridge's `time`. Follows the CloudWatch user guide,
 * "Invoke a Lambda function from an alarm", and the aws_lambda_events
 * `example-cloudwatch-alarm-*.json` fixtures.
 */
export const AlarmActionEventSchema = z.object({
  source: z.literal("aws.cloudwatch"),
  alarmArn: AlarmArnSchema,
  accountId: AccountIdSchema,
  time: CloudWatchTimestampSchema,
  region: AwsRegionSchema,
  alarmData: z.object({
    alarmName: z.string().min(1),
    state: AlarmStateSchema,
    previousState: AlarmStateSchema.optional(),
    configuration: AlarmConfigurationSchema,
  }),
});
export type AlarmActionEvent = z.infer<typeof AlarmActionEventSchema>;

/** SNS alarm dimensions are a list of `{ name, value }`, not a record as in EventBridge. */
const SnsAlarmDimensionSchema = z.object({ name: z.string(), value: z.string() });

/** An entry of `Trigger.Metrics[]` in an SNS alarm message (metric math, anomaly bands). */
export const SnsAlarmTriggerMetricSchema = z.object({
  Id: z.string().min(1),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  MetricStat: z
    .object({
      Metric: z.object({
        Dimensions: z.array(SnsAlarmDimensionSchema),
        MetricName: z.string().min(1),
        Namespace: z.string().min(1),
      }),
      Period: z.number().int().positive(),
      Stat: z.string().min(1),
      Unit: z.string().nullish(),
    })
    .optional(),
  ReturnData: z.boolean(),
});
export type SnsAlarmTriggerMetric = z.infer<typeof SnsAlarmTriggerMetricSchema>;

/**
 * `Trigger` of an SNS alarm message: the single-metric fields or `Metrics[]`. Anomaly detection
 * alarms carry `ThresholdMetricId` instead of `Threshold`.
 */
export const SnsAlarmTriggerSchema = z
  .object({
    Period: z.number().int().positive(),
    EvaluationPeriods: z.number().int().positive(),
    DatapointsToAlarm: z.number().int().positive().optional(),
    ComparisonOperator: z.string().min(1),
    Threshold: z.number().optional(),
    ThresholdMetricId: z.string().optional(),
    // Seen as "missing", "" and "- TreatMissingData:                    missing".
    TreatMissingData: z.string(),
    EvaluateLowSampleCountPercentile: z.string(),
    MetricName: z.string().min(1).optional(),
    Namespace: z.string().min(1).optional(),
    StatisticType: z.string().optional(),
    Statistic: z.string().optional(),
    ExtendedStatistic: z.string().optional(),
    Unit: z.string().nullish(),
    Dimensions: z.array(SnsAlarmDimensionSchema).optional(),
    Metrics: z.array(SnsAlarmTriggerMetricSchema).min(1).optional(),
  })
  .superRefine((trigger, ctx) => {
    if (trigger.Metrics === undefined) {
      for (const field of ["MetricName", "Namespace"] as const) {
        if (trigger[field] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `${field} is required when Trigger has no Metrics`,
          });
        }
      }
    }
    if (trigger.Threshold === undefined && trigger.ThresholdMetricId === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["Threshold"],
        message: "Trigger needs Threshold or ThresholdMetricId",
      });
    }
  });
export type SnsAlarmTrigger = z.infer<typeof SnsAlarmTriggerSchema>;

/**
 * The JSON document inside an SNS `Message` sent by a CloudWatch alarm. `Region` is a display
 * name ("US East (N. Virginia)"), see {@link regionCodeFromDisplayName}; `AlarmArn` is missing
 * in old payloads. Follows aws-lambda-go `events/testdata/cloudwatch-alarm-sns-payload-*.json`.
 */
export const SnsAlarmMessageSchema = z.object({
  AlarmName: z.string().min(1),
  AlarmDescription: z.string().nullish(),
  AWSAccountId: AccountIdSchema,
  AlarmConfigurationUpdatedTimestamp: CloudWatchTimestampSchema.optional(),
  NewStateValue: AlarmStateValueSchema,
  NewStateReason: z.string(),
  StateChangeTime: CloudWatchTimestampSchema,
  Region: z.string().min(1),
  AlarmArn: AlarmArnSchema.optional(),
  OldStateValue: AlarmStateValueSchema,
  Trigger: SnsAlarmTriggerSchema,
});
export type SnsAlarmMessage = z.infer<typeof SnsAlarmMessageSchema>;

/** An SNS `Message` string holding a {@link SnsAlarmMessageSchema} document. */
export const SnsAlarmMessageJsonSchema = jsonString(SnsAlarmMessageSchema);

/**
 * Parses the SNS `Message` string of a CloudWatch alarm notification. Text that is not JSON
 * yields an "Expected a JSON string" issue rather than a thrown `SyntaxError`.
 *
 * @example
 * ```ts
 * const result = parseSnsAlarmMessage(record.Sns.Message);
 * if (!result.success) return reject(result.error);
 * result.data.NewStateValue; // "ALARM"
 * ```
 */
export function parseSnsAlarmMessage(message: string) {
  return SnsAlarmMessageJsonSchema.safeParse(message);
}

/**
 * The Lambda SNS event (`Records[].Sns`, spelled `SigningCertUrl` / `UnsubscribeUrl`): Powertools'
 * `SnsSchema`. `Message` stays a string; parse it with {@link parseSnsAlarmMessage}.
 */
export const SnsLambdaEventSchema = SnsSchema;
export type SnsLambdaEvent = z.infer<typeof SnsLambdaEventSchema>;

/**
 * Only SNS itself may be named in URLs that Firebreak fetches (signing certificate) or visits
 * (subscription confirmation): anything else in a forged body would be a request forgery.
 */
const SnsUrlSchema = z.url({
  protocol: /^https$/,
  hostname: /^sns\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/,
  error: "Expected an https URL on sns.<region>.amazonaws.com",
});

const SnsHttpsNotificationSchema = SnsSqsNotificationSchema.extend({
  SigningCertURL: SnsUrlSchema.optional(),
});

const SnsSubscriptionConfirmationSchema = z.object({
  Type: z.literal("SubscriptionConfirmation"),
  MessageId: z.string().min(1),
  Token: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  SubscribeURL: SnsUrlSchema,
  Timestamp: z.iso.datetime(),
  SignatureVersion: z.string(),
  Signature: z.string(),
  SigningCertURL: SnsUrlSchema,
});

const SnsUnsubscribeConfirmationSchema = SnsSubscriptionConfirmationSchema.extend({
  Type: z.literal("UnsubscribeConfirmation"),
});

/**
 * The bare SNS envelope of an HTTPS (or non-raw SQS) delivery, spelled `SigningCertURL` /
 * `UnsubscribeURL`, told apart by `Type`. Follows the SNS developer guide, "HTTP/HTTPS
 * notification / subscription confirmation / unsubscribe confirmation JSON format".
 */
export const SnsHttpsEnvelopeSchema = z.discriminatedUnion("Type", [
  SnsHttpsNotificationSchema,
  SnsSubscriptionConfirmationSchema,
  SnsUnsubscribeConfirmationSchema,
]);
export type SnsHttpsEnvelope = z.infer<typeof SnsHttpsEnvelopeSchema>;
