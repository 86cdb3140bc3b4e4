import { randomUUID } from "node:crypto";
import type { AlarmState, CloudWatchReader, MetricSeries } from "@firebreak/core";
import * as z from "zod";

type StateValue = AlarmState["state"];

/** The metric an alarm watches, as far as the events that named it told. */
export interface SimulatedMetric {
  label: string;
  periodSeconds: number;
  statistic: string;
  threshold: number | null;
  comparison: string | null;
  unit: string | null;
}

/** One simulated alarm: its state now and every transition the simulation saw. */
export interface SimulatedAlarm {
  alarmName: string;
  /** The account it lives in; null for alarms set without one (Firebreak's own). */
  account: string | null;
  state: StateValue;
  since: string;
  reason: string | null;
  /** The state before the first transition seen (an event's `previousState`, else OK). */
  initial: StateValue;
  /** Transitions, oldest first (ms). */
  history: Array<{ state: StateValue; at: number }>;
  metric: SimulatedMetric;
}

export interface SetAlarmState {
  state: StateValue;
  reason?: string | null;
  account?: string | null;
  /** When it changed (ms); default now. */
  at?: number;
  previous?: StateValue;
  metric?: Partial<SimulatedMetric>;
}

/** A state set through `POST /local/aws/alarms/{name}/state`. */
export const AlarmStateBodySchema = z.strictObject({
  state: z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]),
  reason: z.string().max(1024).optional(),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  /**
   * Also send Firebreak the EventBridge state change CloudWatch would (so an OK resolves the
   * incident, as in AWS); the simulation then follows that event like any other.
   */
  deliver: z.boolean().default(false),
});

/** The account the local stack plays when an alarm names none (as its queue's sender). */
const LOCAL_ACCOUNT = "000000000000";
/** How far from now an event's own time is believed (as `incidents.trustedTime` defaults). */
const TRUSTED_PAST_MS = 24 * 60 * 60 * 1000;
const TRUSTED_FUTURE_MS = 5 * 60 * 1000;
/** Points one series may hold: a day at one-minute periods. */
const MAX_POINTS = 1440;

const StateValueSchema = z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]);
const EventStateSchema = z.object({
  value: StateValueSchema,
  reason: z.string().optional(),
  reasonData: z.string().optional(),
  timestamp: z.string().optional(),
});
const EventMetricSchema = z.object({
  metricStat: z
    .object({
      metric: z.object({ namespace: z.string().optional(), name: z.string().optional() }),
      period: z.number().optional(),
      stat: z.string().optional(),
    })
    .optional(),
  expression: z.string().optional(),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
});
const AlarmDataSchema = z.object({
  alarmName: z.string().min(1),
  state: EventStateSchema,
  previousState: EventStateSchema.optional(),
  configuration: z.object({ metrics: z.array(EventMetricSchema).optional() }).optional(),
});
/** EventBridge's "CloudWatch Alarm State Change". */
const EventBridgeAlarmSchema = z.object({
  "detail-type": z.literal("CloudWatch Alarm State Change"),
  account: z.string().optional(),
  detail: AlarmDataSchema,
});
/** An alarm action invoking a function directly. */
const AlarmActionSchema = z.object({
  source: z.literal("aws.cloudwatch"),
  accountId: z.string().optional(),
  alarmData: AlarmDataSchema,
});
/** The JSON string inside an SNS alarm notification. */
const SnsAlarmMessageSchema = z.object({
  AlarmName: z.string().min(1),
  AWSAccountId: z.string().optional(),
  NewStateValue: StateValueSchema,
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  OldStateValue: StateValueSchema.optional(),
  Trigger: z
    .object({
      MetricName: z.string().optional(),
      Namespace: z.string().optional(),
      Statistic: z.string().optional(),
      ExtendedStatistic: z.string().optional(),
      Unit: z.string().nullable().optional(),
      Period: z.number().optional(),
      Threshold: z.number().optional(),
      ComparisonOperator: z.string().optional(),
    })
    .optional(),
});
const SnsEnvelopeSchema = z.object({ Type: z.literal("Notification"), Message: z.string() });
const SnsLambdaEventSchema = z.object({
  Records: z.array(z.object({ Sns: z.object({ Message: z.string() }) })),
});
const ReasonDataSchema = z.object({
  threshold: z.number().optional(),
  period: z.number().optional(),
  statistic: z.string().optional(),
});

/** CloudWatch's "was greater than the threshold" phrases, longest first. */
const REASON_COMPARISONS: Array<[string, string]> = [
  ["greater than or equal to the threshold", "GreaterThanOrEqualToThreshold"],
  ["greater than the threshold", "GreaterThanThreshold"],
  ["less than or equal to the threshold", "LessThanOrEqualToThreshold"],
  ["less than the threshold", "LessThanThreshold"],
];

/**
 * The local stack's CloudWatch: alarm states follow the alarm events the stack is sent
 * (EventBridge, SNS and alarm-action payloads) or what `POST /local/aws/alarms/{name}/state`
 * sets, and each alarm's metric is synthesised from its state history: beyond the threshold
 * (half as much again) while in ALARM, well inside it (half) while OK, no data while
 * INSUFFICIENT_DATA. Answers `CloudWatchReader` as `DescribeAlarms` and `GetMetricData` would.
 */
export class SimulatedCloudWatch implements CloudWatchReader {
  private readonly alarms = new Map<string, SimulatedAlarm>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Sets an alarm's state, as CloudWatch's own evaluation (or `SetAlarmState`) would. */
  setState(alarmName: string, change: SetAlarmState): SimulatedAlarm {
    const account = change.account ?? null;
    const key = keyOf(alarmName, account);
    const at = change.at ?? this.clock();
    let alarm = this.alarms.get(key);
    if (!alarm) {
      alarm = {
        alarmName,
        account,
        state: change.previous ?? "OK",
        since: new Date(0).toISOString(),
        reason: null,
        initial: change.previous ?? "OK",
        history: [],
        metric: {
          label: `${alarmName} (simulated)`,
          periodSeconds: 60,
          statistic: "Average",
          threshold: null,
          comparison: null,
          unit: null,
        },
      };
      this.alarms.set(key, alarm);
    }
    if (change.metric) assignDefined(alarm.metric, change.metric);
    // Events arrive out of order: a transition older than the latest one is history only.
    // Kept in order by inserting after the last transition not later than this one (as a
    // stable sort would place it): a storm appends, and a late event moves only what follows it.
    const { history } = alarm;
    const latest = history.at(-1);
    let index = history.length;
    while (index > 0 && (history[index - 1] as { at: number }).at > at) index--;
    if (index === history.length) history.push({ state: change.state, at });
    else history.splice(index, 0, { state: change.state, at });
    if (!latest || at >= latest.at) {
      if (change.state !== alarm.state || !latest) alarm.since = new Date(at).toISOString();
      alarm.state = change.state;
      alarm.reason = change.reason ?? null;
    }
    return alarm;
  }

  /**
   * Follows an alarm state change in a raw event the stack was sent; true when it was one.
   * Anything else (logs, Sentry, deploy events) is not CloudWatch's and is left alone.
   */
  observe(raw: unknown): boolean {
    // Each payload is parsed only by the schema its keys say it could match (each schema
    // requires those keys): a storm of one kind costs one parse per event, not four.
    if (typeof raw !== "object" || raw === null) return false;
    if ("detail-type" in raw && raw["detail-type"] === "CloudWatch Alarm State Change") {
      const eventBridge = EventBridgeAlarmSchema.safeParse(raw);
      if (eventBridge.success) {
        this.followAlarmData(eventBridge.data.detail, eventBridge.data.account);
        return true;
      }
    }
    if ("alarmData" in raw) {
      const action = AlarmActionSchema.safeParse(raw);
      if (action.success) {
        this.followAlarmData(action.data.alarmData, action.data.accountId);
        return true;
      }
    }
    const envelope = "Message" in raw ? SnsEnvelopeSchema.safeParse(raw) : null;
    const lambdaSns =
      !envelope?.success && "Records" in raw ? SnsLambdaEventSchema.safeParse(raw) : null;
    const messages = envelope?.success
      ? [envelope.data.Message]
      : lambdaSns?.success
        ? lambdaSns.data.Records.map((record) => record.Sns.Message)
        : [];
    let followed = false;
    for (const message of messages) {
      const parsed = SnsAlarmMessageSchema.safeParse(parseJson(message));
      if (!parsed.success) continue;
      this.followSns(parsed.data);
      followed = true;
    }
    return followed;
  }

  async alarmStates(alarmNames: ReadonlyArray<string>, account?: string): Promise<AlarmState[]> {
    return [...new Set(alarmNames)].flatMap((name) => {
      const alarm = this.find(name, account);
      return alarm
        ? [{ alarmName: name, state: alarm.state, since: alarm.since, reason: alarm.reason }]
        : [];
    });
  }

  async metricSeries(
    alarmName: string,
    from: number,
    to: number,
    account?: string,
  ): Promise<MetricSeries | null> {
    const alarm = this.find(alarmName, account);
    if (!alarm) return null;
    const { metric } = alarm;
    const periodMs = metric.periodSeconds * 1000;
    // Periods start on their boundaries, as GetMetricData's do.
    const last = Math.floor(to / periodMs) * periodMs;
    const first = Math.max(
      Math.ceil(from / periodMs) * periodMs,
      last - (MAX_POINTS - 1) * periodMs,
    );
    const points: MetricSeries["points"] = [];
    for (let at = first; at <= last; at += periodMs) {
      // A datapoint covers its period; the state at the period's end is what it led to.
      const value = this.valueAt(alarm, at + periodMs);
      if (value !== null) points.push({ at: new Date(at).toISOString(), value });
    }
    return {
      alarmName,
      label: metric.label,
      periodSeconds: metric.periodSeconds,
      statistic: metric.statistic,
      threshold: metric.threshold,
      comparison: metric.comparison,
      unit: metric.unit,
      points,
    };
  }

  /**
   * The EventBridge "CloudWatch Alarm State Change" CloudWatch would send for this alarm moving
   * to `state` now: in `account`, else the alarm's own, else the local stack's.
   */
  stateChangeEvent(
    alarmName: string,
    change: { state: StateValue; reason: string; account?: string },
    region: string,
  ): Record<string, unknown> {
    const alarm = this.find(alarmName, change.account);
    const account = change.account ?? alarm?.account ?? LOCAL_ACCOUNT;
    const now = new Date(this.clock()).toISOString();
    // CloudWatch writes offsets as "+0000".
    const cloudWatchTime = (iso: string) => iso.replace("Z", "+0000");
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account,
      time: now.replace(/\.\d{3}Z$/, "Z"),
      region,
      resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`],
      detail: {
        alarmName,
        state: { value: change.state, reason: change.reason, timestamp: cloudWatchTime(now) },
        ...(alarm
          ? {
              previousState: {
                value: alarm.state,
                reason: alarm.reason ?? "",
                timestamp: cloudWatchTime(alarm.since),
              },
            }
          : {}),
        configuration: {},
      },
    };
  }

  /** Every alarm the simulation knows, for `GET /local/aws`. */
  snapshot(): SimulatedAlarm[] {
    return [...this.alarms.values()];
  }

  /** The alarm in that account, or (no account asked) the only one of that name. */
  private find(alarmName: string, account: string | undefined): SimulatedAlarm | undefined {
    const exact = this.alarms.get(keyOf(alarmName, account ?? null));
    if (exact || account !== undefined) return exact;
    const named = [...this.alarms.values()].filter((alarm) => alarm.alarmName === alarmName);
    return named.length === 1 ? named[0] : undefined;
  }

  private valueAt(alarm: SimulatedAlarm, at: number): number | null {
    const state =
      alarm.history.findLast((transition) => transition.at <= at)?.state ?? alarm.initial;
    if (state === "INSUFFICIENT_DATA") return null;
    const { threshold, comparison } = alarm.metric;
    const base = threshold ?? 1;
    const breach = state === "ALARM";
    const low = comparison?.startsWith("Less") === true;
    // A zero threshold has no "half as much": step a whole unit instead.
    const beyond = base === 0 ? (low ? -1 : 1) : base * (low ? 0.5 : 1.5);
    const inside = base === 0 ? (low ? 1 : -1) : base * (low ? 1.5 : 0.5);
    return breach ? beyond : inside;
  }

  private followAlarmData(data: z.infer<typeof AlarmDataSchema>, account: string | undefined) {
    const reasonData = ReasonDataSchema.safeParse(
      data.state.reasonData ? parseJson(data.state.reasonData) : undefined,
    );
    const shown =
      data.configuration?.metrics?.find((metric) => metric.returnData !== false) ??
      data.configuration?.metrics?.[0];
    const stat = shown?.metricStat;
    const period = stat?.period ?? (reasonData.success ? reasonData.data.period : undefined);
    const statistic =
      stat?.stat ?? (reasonData.success ? reasonData.data.statistic : undefined) ?? undefined;
    this.setState(data.alarmName, {
      state: data.state.value,
      reason: data.state.reason ?? null,
      account: account ?? null,
      at: this.trusted(data.state.timestamp),
      previous: data.previousState?.value,
      metric: {
        ...(stat?.metric.namespace && stat.metric.name
          ? {
              label: `${stat.metric.namespace} ${stat.metric.name} (${statistic ?? "Average"}, ${period ?? 60}s)`,
            }
          : shown?.expression
            ? { label: shown.label ?? shown.expression }
            : {}),
        ...(period ? { periodSeconds: period } : {}),
        ...(statistic ? { statistic } : {}),
        ...(reasonData.success && reasonData.data.threshold !== undefined
          ? { threshold: reasonData.data.threshold }
          : {}),
        ...comparisonIn(data.state.reason),
      },
    });
  }

  private followSns(message: z.infer<typeof SnsAlarmMessageSchema>) {
    const trigger = message.Trigger;
    const statistic = trigger?.ExtendedStatistic ?? trigger?.Statistic;
    this.setState(message.AlarmName, {
      state: message.NewStateValue,
      reason: message.NewStateReason ?? null,
      account: message.AWSAccountId ?? null,
      at: this.trusted(message.StateChangeTime),
      previous: message.OldStateValue,
      metric: {
        ...(trigger?.Namespace && trigger.MetricName
          ? {
              label: `${trigger.Namespace} ${trigger.MetricName} (${statistic ?? "Average"}, ${trigger.Period ?? 60}s)`,
            }
          : {}),
        ...(trigger?.Period ? { periodSeconds: trigger.Period } : {}),
        ...(statistic ? { statistic } : {}),
        ...(trigger?.Threshold !== undefined ? { threshold: trigger.Threshold } : {}),
        ...(trigger?.ComparisonOperator ? { comparison: trigger.ComparisonOperator } : {}),
        ...(trigger?.Unit ? { unit: trigger.Unit } : {}),
      },
    });
  }

  /**
   * The event's own time when it is believable, else now: sample payloads from another year
   * must not put a state change where no incident's window will ever look.
   */
  private trusted(timestamp: string | undefined): number {
    const now = this.clock();
    // CloudWatch writes "+0000" offsets, which Date.parse reads only with a colon.
    const at = timestamp ? Date.parse(timestamp.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")) : NaN;
    return Number.isFinite(at) && at >= now - TRUSTED_PAST_MS && at <= now + TRUSTED_FUTURE_MS
      ? at
      : now;
  }
}

const keyOf = (alarmName: string, account: string | null) => `${account ?? ""}/${alarmName}`;

function comparisonIn(reason: string | undefined): Partial<SimulatedMetric> {
  const found = REASON_COMPARISONS.find(([phrase]) => reason?.includes(phrase));
  return found ? { comparison: found[1] } : {};
}

/** Sets the fields `source` defines, leaving the others as they are. */
function assignDefined<T extends object>(target: T, source: Partial<T>): void {
  for (const key in source) {
    const value = source[key];
    if (value !== undefined) target[key] = value;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
