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
import { displaySafe } from "./text";
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
    },
    link: {
      label: clip(`CloudWatch alarm ${alarmName}`, MAX_TITLE),
      arn,
      ...(url ? { url } : {}),
    },
    detail: clip(`${facts.state}: ${facts.reason}`, MAX_DETAIL),
  });
}

/** The first metric an alarm reads (metric math and composite alarms may have none). */
function firstMetric(configuration: AlarmConfiguration) {
  for (const metric of configuration.metrics ?? []) {
    if ("metricStat" in metric) {
      return {
        namespace: metric.metricStat.metric.namespace,
        metricName: metric.metricStat.metric.name,
      };
    }
  }
  return { namespace: undefined, metricName: undefined };
}

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
    },
    options,
  );
}
