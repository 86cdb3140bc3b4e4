import type {
  DescribeAlarmsCommandInput,
  GetMetricDataCommandInput,
  StandardUnit,
} from "@aws-sdk/client-cloudwatch";
import {
  type AlarmState,
  type CloudWatchReader,
  FirebreakError,
  type MetricSeries,
} from "@firebreak/core";
import * as z from "zod";
import type { AccountAccess, CredentialsProvider } from "./accounts";
import { awsErrorCode, awsErrorMessage, isRetryableAwsError } from "./remediation-gateway";

/** A CloudWatch read that failed; `retryable` as for remediation calls (throttling, 5xx). */
export class CloudWatchReadError extends FirebreakError {
  readonly code = "cloudwatch_read_failed";
  constructor(
    readonly operation: string,
    readonly errorCode: string,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`cloudwatch:${operation} failed: ${errorCode}: ${message}`, options);
  }
}

/** CloudWatch's own unit, sent back as it came: the reader need not know the SDK's list. */
const UnitSchema = z.custom<StandardUnit>((unit) => typeof unit === "string");

/** One `MetricDataQuery`, as alarms carry them and `GetMetricData` takes them. */
const MetricDataQuerySchema = z.object({
  Id: z.string(),
  MetricStat: z
    .object({
      Metric: z.object({
        Namespace: z.string().optional(),
        MetricName: z.string().optional(),
        Dimensions: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
      }),
      Period: z.number().int().positive(),
      Stat: z.string(),
      Unit: UnitSchema.optional(),
    })
    .optional(),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean().optional(),
  Period: z.number().int().positive().optional(),
  AccountId: z.string().optional(),
});
type MetricDataQuery = z.infer<typeof MetricDataQuerySchema>;

/** The CloudWatch calls the reader makes, in one account ({@link sdkCloudWatch} on AWS). */
export interface CloudWatchApi {
  describeAlarms(input: DescribeAlarmsCommandInput): Promise<unknown>;
  getMetricData(input: GetMetricDataCommandInput): Promise<unknown>;
}

const StateSchema = z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]);
const Timestamp = z.coerce.date();

const MetricAlarmSchema = z.object({
  AlarmName: z.string(),
  StateValue: StateSchema,
  StateReason: z.string().optional(),
  StateUpdatedTimestamp: Timestamp.optional(),
  StateTransitionedTimestamp: Timestamp.optional(),
  Namespace: z.string().optional(),
  MetricName: z.string().optional(),
  Dimensions: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
  Statistic: z.string().optional(),
  ExtendedStatistic: z.string().optional(),
  Period: z.number().int().positive().optional(),
  Unit: UnitSchema.optional(),
  Threshold: z.number().optional(),
  ComparisonOperator: z.string().optional(),
  Metrics: z.array(MetricDataQuerySchema).optional(),
  ThresholdMetricId: z.string().optional(),
});
type MetricAlarm = z.infer<typeof MetricAlarmSchema>;

const CompositeAlarmSchema = MetricAlarmSchema.pick({
  AlarmName: true,
  StateValue: true,
  StateReason: true,
  StateUpdatedTimestamp: true,
  StateTransitionedTimestamp: true,
});

const DescribeAlarmsOutputSchema = z.object({
  MetricAlarms: z.array(MetricAlarmSchema).optional(),
  CompositeAlarms: z.array(CompositeAlarmSchema).optional(),
  NextToken: z.string().optional(),
});

const GetMetricDataOutputSchema = z.object({
  MetricDataResults: z
    .array(
      z.object({
        Id: z.string(),
        Timestamps: z.array(Timestamp).optional(),
        Values: z.array(z.number()).optional(),
      }),
    )
    .optional(),
  NextToken: z.string().optional(),
});

/** `DescribeAlarms` takes at most 100 names per call. */
const NAMES_PER_CALL = 100;
/** Pages per range: at the alarm's period a day is a few pages; more means something loops. */
const MAX_PAGES = 50;

export interface AwsCloudWatchReaderOptions {
  /** The CloudWatch API in an account: Firebreak's own for none, else through its role. */
  api(account: string | undefined): Promise<CloudWatchApi>;
}

/**
 * The CloudWatch reader on AWS: `DescribeAlarms` for states (metric and composite alarms) and
 * `GetMetricData` for an alarm's metric at its own period and statistic, or its metric-math
 * queries, oldest first and paged by `NextToken`. SDK errors become `CloudWatchReadError`s.
 *
 * @example
 * const reader = cloudWatchInAccounts("eu-west-1", new AccountAccess({ accounts, sts }));
 * const [state] = await reader.alarmStates(["checkout-5xx"]);
 */
export class AwsCloudWatchReader implements CloudWatchReader {
  constructor(private readonly options: AwsCloudWatchReaderOptions) {}

  async alarmStates(alarmNames: ReadonlyArray<string>, account?: string): Promise<AlarmState[]> {
    const names = [...new Set(alarmNames)];
    if (names.length === 0) return [];
    const api = await this.options.api(account);
    const states: AlarmState[] = [];
    for (let start = 0; start < names.length; start += NAMES_PER_CALL) {
      const { metric, composite } = await this.describe(
        api,
        names.slice(start, start + NAMES_PER_CALL),
      );
      for (const alarm of [...metric, ...composite]) {
        const since = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
        states.push({
          alarmName: alarm.AlarmName,
          state: alarm.StateValue,
          since: (since ?? new Date(0)).toISOString(),
          reason: alarm.StateReason ?? null,
        });
      }
    }
    return states;
  }

  async metricSeries(
    alarmName: string,
    from: number,
    to: number,
    account?: string,
  ): Promise<MetricSeries | null> {
    const api = await this.options.api(account);
    const { metric } = await this.describe(api, [alarmName]);
    const alarm = metric.find((found) => found.AlarmName === alarmName);
    const query = alarm && seriesQuery(alarm);
    if (!alarm || !query) return null;
    const points: MetricSeries["points"] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = GetMetricDataOutputSchema.parse(
        await call("GetMetricData", () =>
          api.getMetricData({
            MetricDataQueries: query.queries,
            StartTime: new Date(from),
            EndTime: new Date(to),
            ScanBy: "TimestampAscending",
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      const result = page.MetricDataResults?.find((found) => found.Id === query.resultId);
      const timestamps = result?.Timestamps ?? [];
      const values = result?.Values ?? [];
      timestamps.forEach((at, index) => {
        const value = values[index];
        if (value !== undefined) points.push({ at: at.toISOString(), value });
      });
      nextToken = page.NextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
    // Pages of several queries may interleave; the series is oldest first whatever they did.
    points.sort((a, b) => a.at.localeCompare(b.at));
    return {
      alarmName,
      label: query.label,
      periodSeconds: query.periodSeconds,
      statistic: query.statistic,
      threshold: alarm.Threshold ?? null,
      comparison: alarm.ComparisonOperator ?? null,
      unit: alarm.Unit ?? query.unit ?? null,
      points,
    };
  }

  private async describe(api: CloudWatchApi, names: string[]) {
    const metric: MetricAlarm[] = [];
    const composite: Array<z.infer<typeof CompositeAlarmSchema>> = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = DescribeAlarmsOutputSchema.parse(
        await call("DescribeAlarms", () =>
          api.describeAlarms({
            AlarmNames: names,
            AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
            MaxRecords: NAMES_PER_CALL,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      metric.push(...(page.MetricAlarms ?? []));
      composite.push(...(page.CompositeAlarms ?? []));
      nextToken = page.NextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
    return { metric, composite };
  }
}

interface SeriesQuery {
  queries: MetricDataQuery[];
  resultId: string;
  label: string;
  periodSeconds: number;
  statistic: string;
  unit: string | undefined;
}

/**
 * What to ask `GetMetricData` for an alarm: its one metric at its period and statistic (or
 * extended statistic, a percentile), or its own queries for metric math, reading the one
 * returned series that is not an anomaly band. Composite alarms have no metric.
 */
export function seriesQuery(alarm: MetricAlarm): SeriesQuery | null {
  const statistic = alarm.ExtendedStatistic ?? alarm.Statistic;
  if (alarm.MetricName && alarm.Namespace && alarm.Period && statistic) {
    return {
      queries: [
        {
          Id: "m1",
          MetricStat: {
            Metric: {
              Namespace: alarm.Namespace,
              MetricName: alarm.MetricName,
              Dimensions: alarm.Dimensions ?? [],
            },
            Period: alarm.Period,
            Stat: statistic,
            ...(alarm.Unit ? { Unit: alarm.Unit } : {}),
          },
          ReturnData: true,
        },
      ],
      resultId: "m1",
      label: `${alarm.Namespace} ${alarm.MetricName} (${statistic}, ${alarm.Period}s)`,
      periodSeconds: alarm.Period,
      statistic,
      unit: alarm.Unit,
    };
  }
  const queries = alarm.Metrics ?? [];
  const shown = queries.find(
    (query) => query.ReturnData !== false && query.Id !== alarm.ThresholdMetricId,
  );
  if (!shown) return null;
  const stat = shown.MetricStat;
  const periodSeconds =
    stat?.Period ?? shown.Period ?? queries.find((query) => query.MetricStat)?.MetricStat?.Period;
  if (!periodSeconds) return null;
  return {
    // Only the shown series comes back: the others are inputs of its expression.
    queries: queries.map((query) => ({ ...query, ReturnData: query.Id === shown.Id })),
    resultId: shown.Id,
    label:
      shown.Label ??
      (stat
        ? `${stat.Metric.Namespace} ${stat.Metric.MetricName} (${stat.Stat}, ${periodSeconds}s)`
        : (shown.Expression ?? shown.Id)),
    periodSeconds,
    statistic: stat?.Stat ?? "expression",
    unit: stat?.Unit,
  };
}

async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof FirebreakError) throw error;
    throw new CloudWatchReadError(
      operation,
      awsErrorCode(error),
      awsErrorMessage(error),
      isRetryableAwsError(error),
      { cause: error },
    );
  }
}

/**
 * CloudWatch on SDK v3 in `region`, with the given credentials for a member account. The client
 * package is imported here, on first use, so that a cold start that reads no alarm never loads it
 * (as the remediation gateway does with its clients).
 */
export async function sdkCloudWatch(
  region: string,
  credentials?: CredentialsProvider,
): Promise<CloudWatchApi> {
  const { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } = await import(
    "./sdk/cloudwatch"
  );
  const client = new CloudWatchClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
    ...(credentials ? { credentials } : {}),
  });
  return {
    describeAlarms: (input) => client.send(new DescribeAlarmsCommand(input)),
    getMetricData: (input) => client.send(new GetMetricDataCommand(input)),
  };
}

/**
 * The reader on SDK v3 in every account `access` reaches: Firebreak's own with its
 * own credentials, a member account through its role. One client per account, kept.
 */
export function cloudWatchInAccounts(
  region: string,
  access: AccountAccess,
  build: typeof sdkCloudWatch = sdkCloudWatch,
): AwsCloudWatchReader {
  const apis = new Map<string, Promise<CloudWatchApi>>();
  return new AwsCloudWatchReader({
    api: async (account) => {
      const route = await access.route(account);
      if (route.kind === "unknown") {
        throw new CloudWatchReadError(
          "DescribeAlarms",
          "AccountNotConfigured",
          `account ${route.account} has no role in accounts`,
          false,
        );
      }
      const key = route.kind === "role" ? route.account : "own";
      let api = apis.get(key);
      if (!api) {
        api = build(region, route.kind === "role" ? route.credentials : undefined);
        api.catch(() => apis.delete(key));
        apis.set(key, api);
      }
      return api;
    },
  });
}
