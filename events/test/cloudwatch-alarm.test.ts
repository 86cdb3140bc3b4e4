import { describe, expect, it } from "vitest";
import * as z from "zod";
import { listEvents, loadEvent, loadRawEvent } from "../fixtures";
import {
  AlarmActionEventSchema,
  AlarmStateChangeEventSchema,
  CloudWatchOtherEventSchema,
  CloudWatchTimestampSchema,
  parseSnsAlarmMessage,
  regionCodeFromDisplayName,
  type SnsAlarmMessage,
  SnsHttpsEnvelopeSchema,
  SnsLambdaEventSchema,
} from "../schemas/cloudwatch-alarm";
import { breakFixture, issuePaths, REMOVE } from "./helpers";

const STATE_CHANGES = [
  "cloudwatch/eventbridge-alarm.json",
  "cloudwatch/eventbridge-alarm-ok.json",
  "cloudwatch/eventbridge-metric-math.json",
  "cloudwatch/eventbridge-anomaly-band.json",
  "cloudwatch/eventbridge-composite.json",
];
const SNS_LAMBDA = [
  "cloudwatch/sns-lambda-single-metric.json",
  "cloudwatch/sns-lambda-metrics-array.json",
  "cloudwatch/sns-lambda-ok.json",
  "cloudwatch/sns-legacy-no-arn.json",
];
const SNS_HTTPS = [
  "cloudwatch/sns-https-notification.json",
  "cloudwatch/sns-https-subscription-confirmation.json",
  "cloudwatch/sns-https-unsubscribe-confirmation.json",
];
const ALARM_ACTIONS = ["cloudwatch/alarm-action.json", "cloudwatch/alarm-action-ok.json"];
const OTHER = ["cloudwatch/eventbridge-configuration-change.json"];

/** The SNS notification of a Lambda SNS fixture's only record. */
function snsNotification(name: string) {
  const [record] = SnsLambdaEventSchema.parse(loadEvent(name)).Records;
  return record?.Sns ?? expect.unreachable(name);
}

/** The alarm message of a Lambda SNS fixture's only record. */
function snsAlarmMessage(name: string): SnsAlarmMessage {
  return parseSnsAlarmMessage(snsNotification(name).Message).data ?? expect.unreachable(name);
}

/** The alarm message of a Lambda SNS fixture, re-serialised after `edit` broke it. */
function withBrokenMessage(name: string, edit: (message: Record<string, unknown>) => void) {
  const message = z
    .record(z.string(), z.unknown())
    .parse(JSON.parse(snsNotification(name).Message));
  edit(message);
  return JSON.stringify(message);
}

describe("cloudwatch fixtures", () => {
  it("has a schema for every file in events/cloudwatch", () => {
    const covered = [...STATE_CHANGES, ...SNS_LAMBDA, ...SNS_HTTPS, ...ALARM_ACTIONS, ...OTHER];
    expect(listEvents("cloudwatch")).toEqual([...covered].sort());
  });

  it.each(STATE_CHANGES)("%s is an alarm state change, not an 'other' event", (name) => {
    const event = AlarmStateChangeEventSchema.parse(loadEvent(name));
    expect(event.resources[0]).toBe(
      `arn:aws:cloudwatch:${event.region}:${event.account}:alarm:${event.detail.alarmName}`,
    );
    expect(CloudWatchOtherEventSchema.safeParse(loadEvent(name)).success).toBe(false);
  });

  it.each(OTHER)("%s is accepted as an 'other' CloudWatch event only", (name) => {
    expect(CloudWatchOtherEventSchema.parse(loadEvent(name))["detail-type"]).toBe(
      "CloudWatch Alarm Configuration Change",
    );
    expect(AlarmStateChangeEventSchema.safeParse(loadEvent(name)).success).toBe(false);
  });

  it.each(SNS_LAMBDA)("%s carries an alarm message in every record", (name) => {
    const event = SnsLambdaEventSchema.parse(loadEvent(name));
    for (const record of event.Records) {
      expect(parseSnsAlarmMessage(record.Sns.Message).success).toBe(true);
    }
  });

  it.each(SNS_HTTPS)("%s is an SNS HTTPS envelope", (name) => {
    expect(SnsHttpsEnvelopeSchema.safeParse(loadEvent(name)).success).toBe(true);
  });

  it.each(ALARM_ACTIONS)("%s is a direct alarm action", (name) => {
    expect(AlarmActionEventSchema.safeParse(loadEvent(name)).success).toBe(true);
  });

  it("keeps reasonData as the JSON string CloudWatch sends", () => {
    const { detail } = AlarmStateChangeEventSchema.parse(
      loadEvent("cloudwatch/eventbridge-alarm.json"),
    );
    expect(JSON.parse(detail.state.reasonData ?? "")).toMatchObject({ threshold: 1.5 });
  });

  it("reads metric math, anomaly band and composite configurations", () => {
    const config = (name: string) =>
      AlarmStateChangeEventSchema.parse(loadEvent(name)).detail.configuration;
    expect(config("cloudwatch/eventbridge-metric-math.json").metrics?.[0]).toEqual({
      id: "e1",
      expression: "m1 + m2",
      label: "Total IOPS",
      returnData: true,
    });
    expect(config("cloudwatch/eventbridge-anomaly-band.json").metrics?.[1]).toMatchObject({
      expression: "ANOMALY_DETECTION_BAND(m1, 2)",
    });
    expect(config("cloudwatch/eventbridge-composite.json")).toMatchObject({
      alarmRule: 'ALARM("api-checkout-latency") OR ALARM("api-checkout-5xx-errors")',
      actionsSuppressor: "checkout-deploy-in-progress",
      actionsSuppressorWaitPeriod: 120,
      actionsSuppressorExtensionPeriod: 180,
    });
  });

  it("reads both SNS trigger shapes", () => {
    const single = snsAlarmMessage("cloudwatch/sns-lambda-single-metric.json").Trigger;
    expect(single).toMatchObject({ MetricName: "HTTPCode_Target_5XX_Count", Unit: null });
    expect(single.Dimensions).toEqual([
      { name: "LoadBalancer", value: "app/checkout-alb/5f2a9c1e3b7d4a60" },
    ]);
    const math = snsAlarmMessage("cloudwatch/sns-lambda-metrics-array.json").Trigger;
    expect(math.MetricName).toBeUndefined();
    expect(math.Metrics?.map((metric) => metric.Id)).toEqual(["e1", "m1", "m2"]);
  });

  it("accepts a legacy SNS message: no AlarmArn, null description, display-name region", () => {
    const message = snsAlarmMessage("cloudwatch/sns-legacy-no-arn.json");
    expect(message.AlarmArn).toBeUndefined();
    expect(message.AlarmDescription).toBeNull();
    expect(regionCodeFromDisplayName(message.Region)).toBe("eu-west-1");
    expect(message.Trigger.TreatMissingData).toMatch(/^- TreatMissingData: +missing$/);
    expect(message.Trigger.EvaluateLowSampleCountPercentile).toBe("");
  });

  it("tells the HTTPS envelope types apart", () => {
    const types = SNS_HTTPS.map((name) => SnsHttpsEnvelopeSchema.parse(loadEvent(name)).Type);
    expect(types).toEqual(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]);
    const envelope = SnsHttpsEnvelopeSchema.parse(
      loadEvent("cloudwatch/sns-https-notification.json"),
    );
    if (envelope.Type !== "Notification") expect.unreachable();
    expect(parseSnsAlarmMessage(envelope.Message).data?.AlarmName).toBe("payments-queue-backlog");
  });

  it("keeps SNS's own HTTPS formatting in the raw fixtures", () => {
    expect(loadRawEvent("cloudwatch/sns-https-notification.json")).toContain(
      '"SigningCertURL" : "https://sns.us-east-1.amazonaws.com/',
    );
  });
});

describe("ALARM and OK pairs fold into one incident", () => {
  it("EventBridge: same alarm name and ARN, different event ids", () => {
    const [alarm, ok] = ["eventbridge-alarm", "eventbridge-alarm-ok"].map((name) =>
      AlarmStateChangeEventSchema.parse(loadEvent(`cloudwatch/${name}.json`)),
    );
    expect([alarm?.detail.state.value, ok?.detail.state.value]).toEqual(["ALARM", "OK"]);
    expect(ok?.detail.alarmName).toBe(alarm?.detail.alarmName);
    expect(ok?.resources).toEqual(alarm?.resources);
    expect(ok?.id).not.toBe(alarm?.id);
  });

  it("SNS: same alarm name and ARN, different message ids", () => {
    const alarm = snsAlarmMessage("cloudwatch/sns-lambda-single-metric.json");
    const ok = snsAlarmMessage("cloudwatch/sns-lambda-ok.json");
    expect([alarm.NewStateValue, ok.NewStateValue]).toEqual(["ALARM", "OK"]);
    expect(ok.AlarmName).toBe(alarm.AlarmName);
    expect(ok.AlarmArn).toBe(alarm.AlarmArn);
    const ids = SNS_LAMBDA.slice(0, 3).map((name) => snsNotification(name).MessageId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("alarm action: same alarm name and ARN", () => {
    const [alarm, ok] = ALARM_ACTIONS.map((name) => AlarmActionEventSchema.parse(loadEvent(name)));
    expect([alarm?.alarmData.state.value, ok?.alarmData.state.value]).toEqual(["ALARM", "OK"]);
    expect(ok?.alarmData.alarmName).toBe(alarm?.alarmData.alarmName);
    expect(ok?.alarmArn).toBe(alarm?.alarmArn);
  });
});

describe("broken CloudWatch payloads name the broken field", () => {
  const STATE_CHANGE = "cloudwatch/eventbridge-alarm.json";

  it.each([
    ["missing alarm name", ["detail", "alarmName"], REMOVE, "detail.alarmName"],
    ["unknown state value", ["detail", "state", "value"], "FIRING", "detail.state.value"],
    ["reasonData as an object", ["detail", "state", "reasonData"], {}, "detail.state.reasonData"],
    ["ISO-less timestamp", ["detail", "state", "timestamp"], "yesterday", "detail.state.timestamp"],
    [
      "metric entry of neither shape",
      ["detail", "configuration", "metrics", 0],
      { id: "m1", returnData: true },
      "detail.configuration.metrics.0",
    ],
    ["resources without the ARN", ["resources"], [], "resources"],
    ["another source", ["source"], "aws.ec2", "source"],
  ] as const)("state change with %s", (_case, path, value, expected) => {
    const result = AlarmStateChangeEventSchema.safeParse(breakFixture(STATE_CHANGE, path, value));
    expect(issuePaths(result).some((issuePath) => issuePath.startsWith(expected))).toBe(true);
  });

  it("a state change with a broken detail is not accepted as 'other'", () => {
    const broken = breakFixture(STATE_CHANGE, ["detail", "alarmName"], REMOVE);
    expect(issuePaths(CloudWatchOtherEventSchema.safeParse(broken))).toEqual(["detail-type"]);
  });

  it("alarm action without alarmArn", () => {
    const broken = breakFixture("cloudwatch/alarm-action.json", ["alarmArn"], REMOVE);
    expect(issuePaths(AlarmActionEventSchema.safeParse(broken))).toEqual(["alarmArn"]);
  });

  it("alarm action with a numeric account id", () => {
    const broken = breakFixture("cloudwatch/alarm-action.json", ["accountId"], 123456789012);
    expect(issuePaths(AlarmActionEventSchema.safeParse(broken))).toEqual(["accountId"]);
  });

  it("SNS Message that is not JSON", () => {
    const result = parseSnsAlarmMessage("ALARM: api-checkout-5xx-errors");
    expect(issuePaths(result)).toEqual([""]);
    expect(result.error?.issues[0]?.message).toBe("Expected a JSON string");
  });

  it("SNS message without a metric or Metrics", () => {
    const message = withBrokenMessage("cloudwatch/sns-lambda-single-metric.json", (m) => {
      Reflect.deleteProperty(m.Trigger as object, "MetricName");
    });
    expect(issuePaths(parseSnsAlarmMessage(message))).toEqual(["Trigger.MetricName"]);
  });

  it("SNS message with a numeric NewStateValue", () => {
    const message = withBrokenMessage("cloudwatch/sns-lambda-ok.json", (m) => {
      m.NewStateValue = 0;
    });
    expect(issuePaths(parseSnsAlarmMessage(message))).toEqual(["NewStateValue"]);
  });

  it("SNS message with neither Threshold nor ThresholdMetricId", () => {
    const message = withBrokenMessage("cloudwatch/sns-lambda-metrics-array.json", (m) => {
      Reflect.deleteProperty(m.Trigger as object, "Threshold");
    });
    expect(issuePaths(parseSnsAlarmMessage(message))).toEqual(["Trigger.Threshold"]);
  });

  it("Lambda SNS event without Records", () => {
    const broken = breakFixture("cloudwatch/sns-lambda-ok.json", ["Records"], []);
    expect(issuePaths(SnsLambdaEventSchema.safeParse(broken))).toEqual(["Records"]);
  });

  it.each([
    ["SubscribeURL", "http://169.254.169.254/latest/meta-data/"],
    ["SigningCertURL", "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem"],
    ["Token", ""],
  ])("subscription confirmation with a bad %s", (field, value) => {
    const name = "cloudwatch/sns-https-subscription-confirmation.json";
    const result = SnsHttpsEnvelopeSchema.safeParse(breakFixture(name, [field], value));
    expect(new Set(issuePaths(result))).toEqual(new Set([field]));
  });

  it("HTTPS envelope of an unknown Type", () => {
    const name = "cloudwatch/sns-https-notification.json";
    const result = SnsHttpsEnvelopeSchema.safeParse(breakFixture(name, ["Type"], "Other"));
    expect(issuePaths(result)).toEqual(["Type"]);
  });
});

describe("CloudWatchTimestampSchema", () => {
  it.each([
    "2019-10-02T17:04:40.989+0000",
    "2019-10-02T17:04:40.989Z",
    "2019-10-02T17:04:40.989+00:00",
    "2019-10-02T17:04:40Z",
  ])("accepts %s", (timestamp) => {
    expect(CloudWatchTimestampSchema.safeParse(timestamp).success).toBe(true);
  });

  it.each(["2019-10-02 17:04:40", "2019-10-02T17:04:40", "1570035880989"])("rejects %s", (ts) => {
    expect(CloudWatchTimestampSchema.safeParse(ts).success).toBe(false);
  });
});

describe("regionCodeFromDisplayName", () => {
  it.each([
    ["US East (N. Virginia)", "us-east-1"],
    ["EU (Ireland)", "eu-west-1"],
    ["Europe (Ireland)", "eu-west-1"],
    ["EU (Frankfurt)", "eu-central-1"],
    ["Europe (Frankfurt)", "eu-central-1"],
    ["EU (Milan)", "eu-south-1"],
    ["Asia Pacific (Tokyo)", "ap-northeast-1"],
    ["Asia Pacific (Osaka-Local)", "ap-northeast-3"],
    ["South America (São Paulo)", "sa-east-1"],
    ["South America (Sao Paulo)", "sa-east-1"],
    ["Canada West (Calgary)", "ca-west-1"],
    ["  us east (n.  virginia) ", "us-east-1"],
  ])("maps %s to %s", (name, code) => {
    expect(regionCodeFromDisplayName(name)).toBe(code);
  });

  it.each(["us-east-1", "eu-west-1", "us-gov-west-1", "ap-southeast-9"])(
    "returns the code %s unchanged",
    (code) => {
      expect(regionCodeFromDisplayName(code)).toBe(code);
    },
  );

  it.each(["Atlantis (Central)", "", "EU"])("does not guess for %j", (name) => {
    expect(regionCodeFromDisplayName(name)).toBeUndefined();
  });
});
