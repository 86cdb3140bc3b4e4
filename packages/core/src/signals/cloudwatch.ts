import type {
  AlarmActionEvent,
  AlarmConfiguration,
  AlarmStateChangeEvent,
  AlarmStateValue,
  SnsAlarmMessage,
} from "@firebreak/events";
import { regionCodeFromDisplayName } from "@firebreak/events";
import type { MonitoringConfig } from "../config/schema";
import { clip, MAX_DETAIL, MAX_TITLE, type Signal, type SignalKind } from "../signal";
import { awsConsoleUrl } from "./aws-console";
import { alarmTransitionId, cloudwatchFingerprint } from "./fingerprint";
import { displayBlock, displaySafe } from "./text";
import { canonicalTime } from "./time";

export type CloudWatchOptions = Pick<MonitoringConfig, "cloudwatch">;

interface AlarmFacts {
  account: string;
  region: string;
  alarmName: string;
  alarmArn: string | undefined;
  state: AlarmStateValue;
  reason: string;
  at: string;
  namespace: string | undefined;
  metricName: string | undefined;
  dimensions: Record<string, string> | undefined;
  /** `AlarmDescription`: what the team wrote, often a runbook link. */
  description: string | null | undefined;
}

/** ALARM opens, OK recovers; INSUFFICIENT_DATA is ignored unless the config says otherwise. */
function kindOf(state: AlarmStateValue, options: CloudWatchOptions): SignalKind | null {
  if (state === "ALARM") return "trigger";
  if (state === "OK") return "recovery";
  return options.cloudwatch.insufficientData === "trigger" ? "trigger" : null;
}

function toSignal(facts: AlarmFacts, options: CloudWatchOptions): Signal | null {
  const kind = kindOf(facts.state, options);
  if (!kind) return null;
  const { account, region, alarmName } = facts;
  const dimensions = boundedDimensions(facts.dimensions);
  // People read it in pages and the console: made safe to show, as titles and details are.
  const description = facts.description
    ? clip(displayBlock(facts.description).trim(), MAX_DETAIL)
    : undefined;
  // Rebuilt from account, region and name when missing (old SNS payloads): in the aws partition
  // that is the ARN the other paths carry, so the transition id matches across paths.
  const arn = facts.alarmArn ?? `arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`;
  const url = awsConsoleUrl(
    region,
    "cloudwatch/home",
    `alarmsV2:alarm/${encodeURIComponent(alarmName)}`,
  );
  return displaySafe({
    source: "cloudwatch",
    kind,
    deliveryId: alarmTransitionId(arn, facts.state, facts.at),
    fingerprint: cloudwatchFingerprint(account, region, alarmName),
    title: clip(alarmName, MAX_TITLE),
    at: facts.at,
    attributes: {
      account,
      region,
      alarmName,
      ...(facts.namespace ? { namespace: facts.namespace } : {}),
      ...(facts.metricName ? { metricName: facts.metricName } : {}),
      ...(dimensions ? { dimensions } : {}),
      ...(description ? { description } : {}),
    },
    link: {
      label: clip(`CloudWatch alarm ${alarmName}`, MAX_TITLE),
      arn,
      ...(url ? { url } : {}),
    },
    detail: clip(`${facts.state}: ${facts.reason}`, MAX_DETAIL),
  });
}

/**
 * The dimensions as the signal keeps them: none when empty, and only names and values within
 * CloudWatch's own limits (255 and 1024 characters), so no payload can stretch the incident.
 */
function boundedDimensions(
  dimensions: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const kept = Object.entries(dimensions ?? {}).filter(
    ([name, value]) => name.length <= 255 && value.length <= 1024,
  );
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * The first metric an alarm reads, with its dimensions (metric math: the first metric the
 * expression reads; composite alarms read none), and the alarm's description.
 */
function firstMetric(configuration: AlarmConfiguration) {
  const description = configuration.description;
  for (const metric of configuration.metrics ?? []) {
    if ("metricStat" in metric) {
      return {
        namespace: metric.metricStat.metric.namespace,
        metricName: metric.metricStat.metric.name,
        dimensions: metric.metricStat.metric.dimensions,
        description,
      };
    }
  }
  return { namespace: undefined, metricName: undefined, dimensions: undefined, description };
}

/** SNS lists dimensions as `{ name, value }`; signals keep them as a record, as EventBridge does. */
const dimensionRecord = (list: ReadonlyArray<{ name: string; value: string }> | undefined) =>
  list ? Object.fromEntries(list.map(({ name, value }) => [name, value])) : undefined;

/**
 * EventBridge "CloudWatch Alarm State Change". Idempotent by the state change itself, not the
 * event id: the same change may also come through SNS or an alarm action.
 */
export function signalFromAlarmStateChange(
  event: AlarmStateChangeEvent,
  options: CloudWatchOptions,
): Signal | null {
  const { detail } = event;
  return toSignal(
    {
      account: event.account,
      region: event.region,
      alarmName: detail.alarmName,
      alarmArn: event.resources[0],
      state: detail.state.value,
      reason: detail.state.reason,
      at: canonicalTime(detail.state.timestamp),
      ...firstMetric(detail.configuration),
    },
    options,
  );
}

/** A direct alarm action: CloudWatch retries the same payload, the transition identifies it. */
export function signalFromAlarmAction(
  event: AlarmActionEvent,
  options: CloudWatchOptions,
): Signal | null {
  const { alarmData } = event;
  return toSignal(
    {
      account: event.accountId,
      region: event.region,
      alarmName: alarmData.alarmName,
      alarmArn: event.alarmArn,
      state: alarmData.state.value,
      reason: alarmData.state.reason,
      at: canonicalTime(alarmData.state.timestamp),
      ...firstMetric(alarmData.configuration),
    },
    options,
  );
}

/**
 * The alarm JSON inside an SNS notification. `Region` is a display name ("EU (Ireland)"),
 * mapped to its code so the fingerprint matches the same alarm seen through EventBridge;
 * `AlarmArn` is absent in old payloads and rebuilt. The SNS MessageId is not the delivery id:
 * the same state change also arrives through EventBridge (see `alarmTransitionId`).
 */
export function signalFromSnsAlarm(
  message: SnsAlarmMessage,
  options: CloudWatchOptions,
): Signal | null {
  const { Trigger } = message;
  const metricStat = Trigger.Metrics?.find((metric) => metric.MetricStat)?.MetricStat?.Metric;
  const single = Trigger.MetricName !== undefined;
  return toSignal(
    {
      account: message.AWSAccountId,
      region: regionCodeFromDisplayName(message.Region) ?? message.Region,
      alarmName: message.AlarmName,
      alarmArn: message.AlarmArn,
      state: message.NewStateValue,
      reason: message.NewStateReason,
      at: canonicalTime(message.StateChangeTime),
      namespace: Trigger.Namespace ?? metricStat?.Namespace,
      metricName: Trigger.MetricName ?? metricStat?.MetricName,
      dimensions: dimensionRecord(single ? Trigger.Dimensions : metricStat?.Dimensions),
      description: message.AlarmDescription,
    },
    options,
  );
}
