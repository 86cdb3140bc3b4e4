import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  AccountAccess,
  AwsCloudWatchReader,
  CloudWatchReadError,
  cloudWatchInAccounts,
  sdkCloudWatch,
  sdkSts,
} from "../src";

// The reader on the real SDK clients; only their `send` is mocked, so each test sees the exact
// commands CloudWatch and STS would get.
const cloudwatch = mockClient(CloudWatchClient);
const sts = mockClient(STSClient);

beforeEach(() => {
  cloudwatch.reset();
  sts.reset();
});

const reader = () => new AwsCloudWatchReader({ api: () => sdkCloudWatch("eu-west-1") });
const describeInputs = () =>
  cloudwatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input);
const metricInputs = () =>
  cloudwatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);

const latencyAlarm: MetricAlarm = {
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
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [latencyAlarm],
      CompositeAlarms: [
        {
          AlarmName: "checkout-health",
          StateValue: "OK",
          StateTransitionedTimestamp: new Date("2026-12-02T11:00:00Z"),
        },
      ],
    });

    const states = await reader().alarmStates(["checkout-latency", "checkout-health", "gone"]);

    expect(describeInputs()).toEqual([
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
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-0" }],
        NextToken: "page-2",
      })
      .resolvesOnce({
        MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-99", StateValue: "OK" }],
      })
      .resolvesOnce({ MetricAlarms: [{ ...latencyAlarm, AlarmName: "alarm-149" }] });

    const states = await reader().alarmStates(names);

    const batch = (from: number, to: number) => ({
      AlarmNames: names.slice(from, to),
      AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
      MaxRecords: 100,
    });
    expect(describeInputs()).toEqual([
      batch(0, 100),
      { ...batch(0, 100), NextToken: "page-2" },
      batch(100, 150),
    ]);
    expect(states.map((state) => `${state.alarmName} ${state.state}`)).toEqual([
      "alarm-0 ALARM",
      "alarm-99 OK",
      "alarm-149 ALARM",
    ]);
  });

  it("asks GetMetricData for the alarm's metric at its period and extended statistic, oldest first across pages", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [latencyAlarm] });
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: "m1", Timestamps: [minute(0), minute(1)], Values: [0.4, 2.3] }],
        NextToken: "more",
      })
      .resolvesOnce({ MetricDataResults: [{ Id: "m1", Timestamps: [minute(2)], Values: [0.6] }] });
    const from = minute(0).getTime();
    const to = minute(3).getTime();

    const series = await reader().metricSeries("checkout-latency", from, to);

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
    expect(describeInputs()).toEqual([
      {
        AlarmNames: ["checkout-latency"],
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
        MaxRecords: 100,
      },
    ]);
    expect(metricInputs()).toEqual([query, { ...query, NextToken: "more" }]);
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
    const errorRate: MetricAlarm = {
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
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [errorRate] });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: "rate", Timestamps: [minute(5)], Values: [7.5] }],
    });

    const series = await reader().metricSeries("checkout-error-rate", 0, minute(10).getTime());

    expect(metricInputs()).toEqual([
      {
        MetricDataQueries: errorRate.Metrics,
        StartTime: new Date(0),
        EndTime: minute(10),
        ScanBy: "TimestampAscending",
      },
    ]);
    expect(series).toMatchObject({
      label: "Error %",
      periodSeconds: 300,
      statistic: "expression",
      threshold: 5,
      points: [{ at: "2026-12-02T12:05:00.000Z", value: 7.5 }],
    });
  });

  it("shows an anomaly alarm's metric, not its band, and has no series for a composite alarm", async () => {
    const placed: MetricDataQuery = {
      Id: "m1",
      MetricStat: {
        Metric: { Namespace: "Orders", MetricName: "Placed", Dimensions: [] },
        Period: 60,
        Stat: "Average",
      },
      ReturnData: true,
    };
    const band: MetricDataQuery = {
      Id: "band",
      Expression: "ANOMALY_DETECTION_BAND(m1, 2)",
      ReturnData: true,
    };
    const anomaly: MetricAlarm = {
      AlarmName: "orders-anomaly",
      StateValue: "OK",
      ComparisonOperator: "GreaterThanUpperThreshold",
      ThresholdMetricId: "band",
      Metrics: [placed, band],
    };
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [anomaly] })
      .resolvesOnce({ CompositeAlarms: [{ AlarmName: "site-down", StateValue: "ALARM" }] });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    const read = reader();

    const series = await read.metricSeries("orders-anomaly", 0, 60_000);
    const composite = await read.metricSeries("site-down", 0, 60_000);

    expect(metricInputs()).toEqual([
      {
        MetricDataQueries: [placed, { ...band, ReturnData: false }],
        StartTime: new Date(0),
        EndTime: new Date(60_000),
        ScanBy: "TimestampAscending",
      },
    ]);
    expect(series).toMatchObject({ label: "Orders Placed (Average, 60s)", threshold: null });
    expect(composite).toBeNull();
  });

  it("turns SDK errors into CloudWatchReadErrors that say whether to retry", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "Throttling" });
    const denied = Object.assign(new Error("not authorized"), { name: "AccessDenied" });
    cloudwatch
      .on(DescribeAlarmsCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .rejectsOnce(denied);
    const read = reader();

    await expect(read.alarmStates(["a"])).rejects.toBeInstanceOf(CloudWatchReadError);
    await expect(read.alarmStates(["a"])).rejects.toMatchObject({
      name: "CloudWatchReadError",
      operation: "DescribeAlarms",
      errorCode: "Throttling",
      retryable: true,
      cause: throttled,
    });
    await expect(read.alarmStates(["a"])).rejects.toMatchObject({
      errorCode: "AccessDenied",
      retryable: false,
    });
  });
});

describe("cloudWatchInAccounts", () => {
  it("reads a member account's alarms through its role, Firebreak's own with its own credentials", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIA1",
        SecretAccessKey: "secret",
        SessionToken: "session-1",
        Expiration: new Date(now + 15 * 60_000),
      },
    });
    sts.on(GetCallerIdentityCommand).resolves({ Account: "999999999999" });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [latencyAlarm] });
    const access = new AccountAccess({
      accounts: {
        "111122223333": {
          roleArn: "arn:aws:iam::111122223333:role/firebreak-member",
          externalId: "firebreak-prod",
        },
      },
      sts: sdkSts("eu-west-1"),
      clock: () => now,
    });
    const read = cloudWatchInAccounts("eu-west-1", access);

    await read.alarmStates(["checkout-latency"], "111122223333");
    await read.alarmStates(["checkout-latency"], "111122223333");
    await read.alarmStates(["checkout-latency"]);

    // One client per account, kept: the member's for both of its reads, Firebreak's own apart.
    const clients: CloudWatchClient[] = cloudwatch
      .commandCalls(DescribeAlarmsCommand)
      .map((call) => call.thisValue);
    const [member, again, own] = clients;
    if (!member || !own) throw new Error("expected the member's client and Firebreak's own");
    expect(again).toBe(member);
    expect(own).not.toBe(member);
    expect(await own.config.region()).toBe("eu-west-1");
    expect(await member.config.region()).toBe("eu-west-1");
    // The mock skips signing, which is when a client asks for its credentials: ask as it would.
    expect(await member.config.credentials()).toMatchObject({
      accessKeyId: "ASIA1",
      sessionToken: "session-1",
    });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      {
        RoleArn: "arn:aws:iam::111122223333:role/firebreak-member",
        RoleSessionName: "firebreak",
        ExternalId: "firebreak-prod",
        DurationSeconds: 900,
      },
    ]);
    await expect(read.alarmStates(["x"], "444455556666")).rejects.toMatchObject({
      errorCode: "AccountNotConfigured",
      retryable: false,
    });
    expect(sts.commandCalls(GetCallerIdentityCommand).map((call) => call.args[0].input)).toEqual([
      {},
    ]);
  });
});
