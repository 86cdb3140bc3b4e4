import {
  AlarmActionEventSchema,
  AlarmStateChangeEventSchema,
  AWS_HEALTH_EVENT,
  CloudWatchOtherEventSchema,
  GUARDDUTY_FINDING,
  GuardDutyFindingEventSchema,
  HealthEventSchema,
  LogsSubscriptionEventSchema,
  parseSnsAlarmMessage,
  SECURITY_HUB_FINDINGS_IMPORTED,
  SecurityHubFindingsEventSchema,
  SnsHttpsEnvelopeSchema,
  SnsLambdaEventSchema,
} from "@firebreak/events";
import * as z from "zod";
import { changeFromEvent, isChangeEvent } from "../changes/events";
import { formatIssues, InvalidEventError } from "../errors";
import type { Policy } from "../policy/classify";
import { clip, type Signal, SignalSchema } from "../signal";
import {
  signalFromAlarmAction,
  signalFromAlarmStateChange,
  signalFromSnsAlarm,
} from "./cloudwatch";
import { signalFromHealth } from "./health";
import { signalsFromLogs } from "./logs";
import { signalFromGuardDuty, signalsFromSecurityHub } from "./security";
import { orderedByArrival } from "./time";

/** The raw formats Firebreak accepts from AWS, and how each reaches it there. */
export const EVENT_FORMATS = {
  "eventbridge-alarm": "queue",
  "eventbridge-other": "queue",
  /** A deploy (CodeDeploy, ECS, a Lambda alias update): the processor records a change. */
  "eventbridge-change": "queue",
  guardduty: "queue",
  securityhub: "queue",
  health: "queue",
  "sns-notification": "queue",
  "sns-confirmation": "queue",
  "sns-lambda": "ingest",
  "alarm-action": "ingest",
  logs: "ingest",
} as const;
export type EventFormat = keyof typeof EVENT_FORMATS;
/** `queue`: EventBridge and SNS deliver straight to SQS. `ingest`: AWS invokes a function. */
export type EventRoute = (typeof EVENT_FORMATS)[EventFormat];

export interface NormalizedEvent<TFormat = EventFormat> {
  format: TFormat;
  signals: Signal[];
  /** Why an accepted event produced no signal (a health check, another detail-type...). */
  note: string | null;
}

export interface NormalizeOptions {
  policy: Policy;
  /** The region of the receiving function, for links where the payload does not say. */
  region: string | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function parse<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new InvalidEventError(`invalid ${what}: ${formatIssues(result.error)}`);
  }
  return result.data;
}

/**
 * How deeply an accepted payload may nest. AWS and Sentry payloads stay under 10 levels; a
 * deeper value is refused at the edge, because whatever serialises it next (a queue, a log line)
 * recurses and overflows the stack long before JSON.parse, which does not, gives up.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether a parsed JSON value nests deeper than `limit` levels; walked without recursion, so
 * 100,000 levels cost a loop, not a stack overflow.
 *
 * @example
 * nestsDeeperThan(JSON.parse("[[[1]]]"), 2); // true
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  // Two parallel stacks of objects still to look into, and only objects are pushed: an event's
  // leaves cost a type check each, nothing allocated.
  const pending: object[] = [];
  const depths: number[] = [];
  if (typeof value === "object" && value !== null) {
    pending.push(value);
    depths.push(1);
  }
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === "object" && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

const compact = (signals: Array<Signal | null>): Signal[] =>
  signals.filter((signal): signal is Signal => signal !== null);

function alarmFromSnsMessage(
  message: string,
  path: string,
  options: NormalizeOptions,
): Signal | null {
  const parsed = parseSnsAlarmMessage(message);
  if (!parsed.success) {
    throw new InvalidEventError(
      `invalid CloudWatch alarm in ${path}: ${formatIssues(parsed.error)}`,
    );
  }
  return signalFromSnsAlarm(parsed.data, options.policy.config);
}

/**
 * Recognises any event AWS would deliver to Firebreak, validates it and turns it into signals.
 * @throws InvalidEventError naming what is wrong, for anything else
 */
export function normalizeEvent(raw: unknown, options: NormalizeOptions): NormalizedEvent {
  const normalized = recognise(raw, options);
  assertValidSignals(normalized.signals);
  return normalized;
}

/**
 * Refuses signals the processor would refuse: a payload that passes its own schema can still
 * carry an empty id or a 100 KB log group. Refused here, the sender hears why; let through, the
 * queue would retry it and dead-letter it after the sender was told it was accepted.
 * @throws InvalidEventError naming the first bad signal's fields
 */
export function assertValidSignals(signals: ReadonlyArray<Signal>): void {
  for (const signal of signals) {
    const result = SignalSchema.safeParse(signal);
    if (!result.success) {
      throw new InvalidEventError(
        `the event does not make a valid signal: ${formatIssues(result.error)}`,
      );
    }
  }
}

function recognise(raw: unknown, options: NormalizeOptions): NormalizedEvent {
  if (!isRecord(raw)) {
    throw new InvalidEventError(
      "expected a JSON object (an EventBridge, SNS, alarm action or CloudWatch Logs event)",
    );
  }
  if (nestsDeeperThan(raw, MAX_JSON_DEPTH)) {
    throw new InvalidEventError(`the event nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const { config } = options.policy;

  if ("Records" in raw) {
    const event = parse(SnsLambdaEventSchema, raw, "SNS event");
    const signals = event.Records.map((record, index) =>
      alarmFromSnsMessage(record.Sns.Message, `Records[${index}].Sns.Message`, options),
    );
    return { format: "sns-lambda", signals: compact(signals), note: null };
  }
  if ("awslogs" in raw) {
    const { awslogs } = parse(
      LogsSubscriptionEventSchema,
      raw,
      "CloudWatch Logs subscription event",
    );
    const signals = signalsFromLogs(awslogs.data, {
      region: options.region,
      keep: (signal) => options.policy.keepsLogLine(signal),
      maxSignals: options.policy.config.logs.maxSignalsPerDelivery,
    });
    const note =
      awslogs.data.messageType === "CONTROL_MESSAGE" ? "CloudWatch Logs health check" : null;
    return { format: "logs", signals, note };
  }
  if ("alarmData" in raw) {
    const event = parse(AlarmActionEventSchema, raw, "CloudWatch alarm action event");
    return {
      format: "alarm-action",
      signals: compact([signalFromAlarmAction(event, config)]),
      note: null,
    };
  }
  if ("detail-type" in raw) {
    const security = securityOrHealth(raw);
    if (security) return security;
    if (isChangeEvent(raw)) {
      const { draft, note } = changeFromEvent(raw);
      return {
        format: "eventbridge-change",
        signals: [],
        note: draft ? `change ${draft.id}` : note,
      };
    }
    if (raw.source !== "aws.cloudwatch") {
      throw new InvalidEventError(
        `unsupported EventBridge source ${JSON.stringify(String(raw.source)).slice(0, 80)} with detail-type ${JSON.stringify(String(raw["detail-type"])).slice(0, 80)}: accepted are aws.cloudwatch events, "${GUARDDUTY_FINDING}", "${SECURITY_HUB_FINDINGS_IMPORTED}" and "${AWS_HEALTH_EVENT}"`,
      );
    }
    if (raw["detail-type"] === "CloudWatch Alarm State Change") {
      const event = parse(AlarmStateChangeEventSchema, raw, "CloudWatch Alarm State Change event");
      return {
        format: "eventbridge-alarm",
        signals: compact([signalFromAlarmStateChange(event, config)]),
        note: null,
      };
    }
    const other = parse(CloudWatchOtherEventSchema, raw, "EventBridge event");
    return { format: "eventbridge-other", signals: [], note: `ignored "${other["detail-type"]}"` };
  }
  if ("Type" in raw && "TopicArn" in raw) {
    const envelope = parse(SnsHttpsEnvelopeSchema, raw, "SNS message");
    if (envelope.Type !== "Notification") {
      return {
        format: "sns-confirmation",
        signals: [],
        note: `SNS ${envelope.Type} for ${envelope.TopicArn}`,
      };
    }
    const signal = alarmFromSnsMessage(envelope.Message, "Message", options);
    return { format: "sns-notification", signals: compact([signal]), note: null };
  }
  const keys = Object.keys(raw)
    .slice(0, 8)
    .map((key) => clip(key, 40))
    .join(", ");
  throw new InvalidEventError(
    `unsupported event with keys [${keys}]: expected an EventBridge "CloudWatch Alarm State Change" (or a GuardDuty, Security Hub or AWS Health event), an SNS notification, a CloudWatch alarm action or a CloudWatch Logs subscription event`,
  );
}

/**
 * GuardDuty, Security Hub and AWS Health events, told apart by source and detail-type together
 * (as the EventBridge rule selects them); null for any other event.
 */
function securityOrHealth(raw: Record<string, unknown>): NormalizedEvent | null {
  const kind = `${String(raw.source)}\n${String(raw["detail-type"])}`;
  if (kind === `aws.guardduty\n${GUARDDUTY_FINDING}`) {
    const event = parse(GuardDutyFindingEventSchema, raw, `"${GUARDDUTY_FINDING}" event`);
    return { format: "guardduty", signals: [signalFromGuardDuty(event)], note: null };
  }
  if (kind === `aws.securityhub\n${SECURITY_HUB_FINDINGS_IMPORTED}`) {
    const event = parse(
      SecurityHubFindingsEventSchema,
      raw,
      `"${SECURITY_HUB_FINDINGS_IMPORTED}" event`,
    );
    return { format: "securityhub", signals: signalsFromSecurityHub(event), note: null };
  }
  if (kind === `aws.health\n${AWS_HEALTH_EVENT}`) {
    const event = parse(HealthEventSchema, raw, `"${AWS_HEALTH_EVENT}" event`);
    return { format: "health", signals: [signalFromHealth(event)], note: null };
  }
  return null;
}

const SIGNAL_BATCH = "signals/v1";
const SignalBatchSchema = z.object({
  firebreak: z.literal(SIGNAL_BATCH),
  signals: z.array(SignalSchema).min(1),
});

/**
 * Packs signals into queue message bodies no larger than `maxBytes` each (SQS takes 256 KiB;
 * the default leaves room for attributes).
 */
export function encodeSignalBatches(signals: ReadonlyArray<Signal>, maxBytes = 200_000): string[] {
  const bodies: string[] = [];
  let current: string[] = [];
  let size = 0;
  const flush = () => {
    if (current.length)
      bodies.push(`{"firebreak":"${SIGNAL_BATCH}","signals":[${current.join(",")}]}`);
    current = [];
    size = 0;
  };
  for (const signal of signals) {
    const json = JSON.stringify(signal);
    if (size + json.length > maxBytes) flush();
    current.push(json);
    size += json.length + 1;
  }
  flush();
  return bodies;
}

/**
 * A queue message body: either a raw AWS event (EventBridge and SNS deliver to SQS directly)
 * or a batch of signals from an edge function.
 */
export function decodeQueueMessage(
  body: string,
  options: NormalizeOptions & { arrivedAt: number },
): NormalizedEvent<EventFormat | "signal-batch"> {
  const decoded = decodeQueueBody(body, options);
  const window = options.policy.config.incidents.trustedTime;
  return {
    ...decoded,
    signals: decoded.signals.map((signal) => orderedByArrival(signal, options.arrivedAt, window)),
  };
}

function decodeQueueBody(
  body: string,
  options: NormalizeOptions,
): NormalizedEvent<EventFormat | "signal-batch"> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidEventError("queue message is not JSON");
  }
  if (isRecord(raw) && "firebreak" in raw) {
    const batch = parse(SignalBatchSchema, raw, "signal batch");
    return { format: "signal-batch", signals: batch.signals, note: null };
  }
  return normalizeEvent(raw, options);
}
