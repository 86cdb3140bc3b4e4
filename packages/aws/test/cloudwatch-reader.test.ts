import { describe, expect, it } from "vitest";
import {
  AccountAccess,
  type AssumeRoleInput,
  AwsCloudWatchReader,
  type CloudWatchApi,
  CloudWatchReadError,
  cloudWatchInAccounts,
  type DescribeAlarmsInput,
  type GetMetricDataInput,
  type StsApi,
} from "../src";

/**
 * A CloudWatch API that records each call's input exactly as the SDK command would get it, and
 * answers from scripted pages. `@aws-sdk/client-cloudwatch` is not installed in this repository
 * (the Lambda runtime provides it), so the SDK's commands are one step away: the binding in
 * `sdkCloudWatch` hands these same inputs to `DescribeAlarmsCommand` and `GetMetricDataCommand`.
 */
class RecordingCloudWatch implements CloudWatchApi {
  readonly describeCalls: DescribeAlarmsInput[] = [];
  readonly metricCalls: GetMetricDataInput[] = [];
  constructor(
    private readonly describePages: unknown[],
    private readonly metricPages: unknown[] = [],
  ) {}
  async describeAlarms(input: DescribeAlarmsInput) {
    this.describeCalls.push(structuredClone(input));
    return this.describePages[this.describeCalls.length - 1] ?? {};
  }
  async getMetricData(input: GetMetricDataInput) {
    this.metricCalls.push(structuredClone(input));
    return this.metricPages[this.metricCalls.length - 1] ?? {};
  }
}

const latencyAlarm = {
  AlarmName: "checkout-latency",
  StateValue: "ALARM",
  StateReason:
    "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (1.5)",
  StateUpdatedTimestamp: new Date("2026-12-02T12:05:00Z"),
  StateTransitionedTimestamp: new Date("2026-12-02T12:03:00Z"),
  Namespace: "AWS/ApplicationELB",
  MetricName: "TargetResponseTime",
  Dimensions: [{ Name: "LoadBalancer", Value: "app/checkout/5f2a" }],
  ExtendedStatistic: "p99",
  Period: 60,
  Unit: "Seconds",
  Threshold: 1.5,
  ComparisonOperator: "GreaterThanThreshold",
};

const minute = (m: number) => new Date(Date.UTC(2026, 11, 2, 12, m));

describe("AwsCloudWatchReader", () => {
  it("reads metric and composite alarm states with one DescribeAlarms naming both types", async () => {
    const api = new RecordingCloudWatch([
      {
        MetricAlarms: [latencyAlarm],
        CompositeAlarms: [
          {
            AlarmName: "checkout-health",
            StateValue: "OK",
            StateTransitionedTimestamp: new Date("2026-12-02T11:00:00Z"),
          },
        ],
      },
    ]);
    const reader = new AwsCloudWatchReader({ api: async () => api });

    const states = await reader.alarmStates(["checkout-latency", "checkout-health", "gone"]);

    expect(api.describeCalls).toEqual([
      {
        AlarmNames: ["checkout-latency", "checkout-health", "gone"],
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
        MaxRecords: 100,
      },
    ]);
    // "since" is when the state changed, not when its reason was last rewritten.
    expect(states).toEqual([
      {
        alarmName: "checkout-latency",
        state: "ALARM",
        since: "2026-12-02T12:03:00.000Z",
        reason: latencyAlarm.StateReason,
      },
      {
        alarmName: "checkout-health",
        state: "OK",
        since: "2026-12-02T11:00:00.000Z",
        reason: null,
      },
    ]);
  });

  it("follows NextToken and asks at most 100 names per call", async () => {
    const names = Array.from({ length: 150 }, (_, index) => `alarm-${index}`);
    const api = new RecordingCloudWatch([
      { MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-0" }], NextToken: "page-2" },
      { MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-99", StateValue: "OK" }] },
      { MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-149" }] },
    ]);
    const reader = new AwsCloudWatchReader({ api: async () => api });

    const states = await reader.alarmStates(names);

    expect(api.describeCalls.map((call) => [call.AlarmNames.length, call.NextToken])).toEqual([
      [100, undefined],
      [100, "page-2"],
      [50, undefined],
    ]);
    expect(states.map((state) => `${state.alarmName} ${state.state}`)).toEqual([
      "alarm-0 ALARM",
      "alarm-99 OK",
      "alarm-149 ALARM",
    ]);
  });

  it("asks GetMetricData for the alarm's metric at its period and extended statistic, oldest first across pages", async () => {
    const api = new RecordingCloudWatch(
      [{ MetricAlarms: [latencyAlarm] }],
      [
        {
          MetricDataResults: [{ Id: "m1", Timestamps: [minute(0), minute(1)], Values: [0.4, 2.3] }],
          NextToken: "more",
        },
        { MetricDataResults: [{ Id: "m1", Timestamps: [minute(2)], Values: [0.6] }] },
      ],
    );
    const reader = new AwsCloudWatchReader({ api: async () => api });
    const from = minute(0).getTime();
    const to = minute(3).getTime();

    const series = await reader.metricSeries("checkout-latency", from, to);

    const query = {
      MetricDataQueries: [
        {
          Id: "m1",
          MetricStat: {
            Metric: {
              Namespace: "AWS/ApplicationELB",
              MetricName: "TargetResponseTime",
              Dimensions: [{ Name: "LoadBalancer", Value: "app/checkout/5f2a" }],
            },
            Period: 60,
            Stat: "p99",
            Unit: "Seconds",
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(from),
      EndTime: new Date(to),
      ScanBy: "TimestampAscending",
    };
    expect(api.metricCalls).toEqual([query, { ...query, NextToken: "more" }]);
    expect(series).toEqual({
      alarmName: "checkout-latency",
      label: "AWS/ApplicationELB TargetResponseTime (p99, 60s)",
      periodSeconds: 60,
      statistic: "p99",
      threshold: 1.5,
      comparison: "GreaterThanThreshold",
      unit: "Seconds",
      points: [
        { at: "2026-12-02T12:00:00.000Z", value: 0.4 },
        { at: "2026-12-02T12:01:00.000Z", value: 2.3 },
        { at: "2026-12-02T12:02:00.000Z", value: 0.6 },
      ],
    });
  });

  it("sends a metric-math alarm's own queries and reads the expression, not its inputs", async () => {
    const errorRate = {
      AlarmName: "checkout-error-rate",
      StateValue: "ALARM",
      Threshold: 5,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Metrics: [
        {
          Id: "errors",
          MetricStat: {
            Metric: { Namespace: "AWS/Lambda", MetricName: "Errors", Dimensions: [] },
            Period: 300,
            Stat: "Sum",
          },
          ReturnData: false,
        },
        {
          Id: "invocations",
          MetricStat: {
            Metric: { Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [] },
            Period: 300,
            Stat: "Sum",
          },
          ReturnData: false,
        },
        {
          Id: "rate",
          Expression: "100 * errors / invocations",
          Label: "Error %",
          ReturnData: true,
        },
      ],
    };
    const api = new RecordingCloudWatch(
      [{ MetricAlarms: [errorRate] }],
      [{ MetricDataResults: [{ Id: "rate", Timestamps: [minute(5)], Values: [7.5] }] }],
    );
    const reader = new AwsCloudWatchReader({ api: async () => api });

    const series = await reader.metricSeries("checkout-error-rate", 0, minute(10).getTime());

    expect(api.metricCalls[0]?.MetricDataQueries).toEqual(errorRate.Metrics);
    expect(series).toMatchObject({
      label: "Error %",
      periodSeconds: 300,
      statistic: "expression",
      threshold: 5,
      points: [{ at: "2026-12-02T12:05:00.000Z", value: 7.5 }],
    });
  });

  it("shows an anomaly alarm's metric, not its band, and has no series for a composite alarm", async () => {
    const anomaly = {
      AlarmName: "orders-anomaly",
      StateValue: "OK",
      ComparisonOperator: "GreaterThanUpperThreshold",
      ThresholdMetricId: "band",
      Metrics: [
        {
          Id: "m1",
          MetricStat: {
            Metric: { Namespace: "Orders", MetricName: "Placed", Dimensions: [] },
            Period: 60,
            Stat: "Average",
          },
          ReturnData: true,
        },
        { Id: "band", Expression: "ANOMALY_DETECTION_BAND(m1, 2)", ReturnData: true },
      ],
    };
    const api = new RecordingCloudWatch([
      { MetricAlarms: [anomaly] },
      { CompositeAlarms: [{ AlarmName: "site-down", StateValue: "ALARM" }] },
    ]);
    const reader = new AwsCloudWatchReader({ api: async () => api });

    const series = await reader.metricSeries("orders-anomaly", 0, 60_000);
    const composite = await reader.metricSeries("site-down", 0, 60_000);

    expect(
      api.metricCalls[0]?.MetricDataQueries.map((query) => [query.Id, query.ReturnData]),
    ).toEqual([
      ["m1", true],
      ["band", false],
    ]);
    expect(series).toMatchObject({ label: "Orders Placed (Average, 60s)", threshold: null });
    expect(composite).toBeNull();
    expect(api.metricCalls).toHaveLength(1);
  });

  it("turns SDK errors into CloudWatchReadErrors that say whether to retry", async () => {
    const failing = (error: Error): CloudWatchApi => ({
      describeAlarms: async () => {
        throw error;
      },
      getMetricData: async () => ({}),
    });
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "Throttling" });
    const denied = Object.assign(new Error("not authorized"), { name: "AccessDenied" });

    const retry = new AwsCloudWatchReader({ api: async () => failing(throttled) });
    const refuse = new AwsCloudWatchReader({ api: async () => failing(denied) });

    await expect(retry.alarmStates(["a"])).rejects.toBeInstanceOf(CloudWatchReadError);
    await expect(retry.alarmStates(["a"])).rejects.toMatchObject({
      name: "CloudWatchReadError",
      operation: "DescribeAlarms",
      errorCode: "Throttling",
      retryable: true,
      cause: throttled,
    });
    await expect(refuse.alarmStates(["a"])).rejects.toMatchObject({
      errorCode: "AccessDenied",
      retryable: false,
    });
  });
});

/** STS that records AssumeRole inputs and hands out numbered sessions. */
class RecordingSts implements StsApi {
  readonly assumed: AssumeRoleInput[] = [];
  callerCalls = 0;
  constructor(
    private readonly now: () => number,
    private readonly own = "999999999999",
  ) {}
  async assumeRole(input: AssumeRoleInput) {
    this.assumed.push(structuredClone(input));
    return {
      Credentials: {
        AccessKeyId: `ASIA${this.assumed.length}`,
        SecretAccessKey: "secret",
        SessionToken: `session-${this.assumed.length}`,
        Expiration: new Date(this.now() + 15 * 60_000),
      },
    };
  }
  async callerAccount() {
    this.callerCalls += 1;
    return this.own;
  }
}

describe("cloudWatchInAccounts", () => {
  it("reads a member account's alarms through its role, Firebreak's own with its own credentials", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const sts = new RecordingSts(() => now);
    const access = new AccountAccess({
      accounts: {
        "111122223333": {
          roleArn: "arn:aws:iam::111122223333:role/firebreak-member",
          externalId: "firebreak-prod",
        },
      },
      sts,
      clock: () => now,
    });
    const built: Array<{ region: string; credentials: string | null }> = [];
    const reader = cloudWatchInAccounts("eu-west-1", access, async (region, credentials) => {
      const session = credentials ? (await credentials()).sessionToken : null;
      built.push({ region, credentials: session });
      return new RecordingCloudWatch([
        { MetricAlarms: [latencyAlarm] },
        { MetricAlarms: [latencyAlarm] },
      ]);
    });

    await reader.alarmStates(["checkout-latency"], "111122223333");
    await reader.alarmStates(["checkout-latency"], "111122223333");
    await reader.alarmStates(["checkout-latency"]);

    expect(sts.assumed[0]).toEqual({
      RoleArn: "arn:aws:iam::111122223333:role/firebreak-member",
      RoleSessionName: "firebreak",
      ExternalId: "firebreak-prod",
      DurationSeconds: 900,
    });
    // One client per account, kept: the member's once, Firebreak's own once.
    expect(built).toEqual([
      { region: "eu-west-1", credentials: "session-1" },
      { region: "eu-west-1", credentials: null },
    ]);
    await expect(reader.alarmStates(["x"], "444455556666")).rejects.toMatchObject({
      errorCode: "AccountNotConfigured",
      retryable: false,
    });
  });
});
