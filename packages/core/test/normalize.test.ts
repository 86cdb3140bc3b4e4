import {
  encodeLogsBatch,
  type LogsBatch,
  loadEvent,
  loadRawEvent,
  parseSentryWebhook,
} from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alarmTransitionId,
  decodeQueueMessage,
  encodeSignalBatches,
  errorSignature,
  hmacSha256Hex,
  InvalidEventError,
  MAX_JSON_DEPTH,
  type NormalizeOptions,
  nestsDeeperThan,
  normalizeEvent,
  Policy,
  parseLogLine,
  type Signal,
  shortHash,
  signalFromSentry,
  verifySentrySignature,
} from "../src";
import { aConfig, aSignal } from "../src/testing";

const options: NormalizeOptions = { policy: new Policy(aConfig()), region: "us-east-1" };
const normalize = (name: string) => normalizeEvent(loadEvent(name), options);
const only = (name: string): Signal => {
  const { signals } = normalize(name);
  expect(signals).toHaveLength(1);
  return signals[0] as Signal;
};

// biome-ignore lint/suspicious/noExplicitAny: negative cases reach into fixtures to break them.
type Editable = Record<string, any>;

/** A copy of a fixture with `change` applied, for negative cases. */
function broken(name: string, change: (event: Editable) => void): unknown {
  const event = structuredClone(loadEvent(name)) as Editable;
  change(event);
  return event;
}

describe("digests", () => {
  it("are SHA-256 prefixes, so fingerprints and delivery ids stay the same across releases", () => {
    expect(shortHash("abc")).toBe("ba7816bf8f01cfea");
    expect(
      alarmTransitionId(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api",
        "ALARM",
        "2024-11-05T14:03:40.536Z",
      ),
    ).toBe("cloudwatch-state:4bea7ba2194e72ae");
  });
});

describe("nesting", () => {
  it("counts levels of objects and arrays, not leaves, without recursing", () => {
    expect(nestsDeeperThan(JSON.parse("[[[1]]]"), 2)).toBe(true);
    expect(nestsDeeperThan(JSON.parse("[[[1]]]"), 3)).toBe(false);
    expect(nestsDeeperThan({ a: { b: "leaf" }, c: [1, { d: null }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: { b: "leaf" }, c: [1, { d: {} }] }, 3)).toBe(true);
    expect(nestsDeeperThan("leaf", 0)).toBe(false);
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
  });
});

describe("CloudWatch alarms", () => {
  const latency = "cloudwatch:123456789012:us-east-1:api-checkout-latency";

  it("reads an EventBridge state change", () => {
    const signal = only("cloudwatch/eventbridge-alarm.json");
    expect(signal).toMatchObject({
      source: "cloudwatch",
      kind: "trigger",
      deliveryId: "cloudwatch-state:79ba99e7d0573ac0",
      fingerprint: latency,
      title: "api-checkout-latency",
      at: "2024-11-05T14:03:40.536Z",
      attributes: {
        account: "123456789012",
        region: "us-east-1",
        alarmName: "api-checkout-latency",
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
      },
      link: { arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-checkout-latency" },
    });
    expect(signal.detail).toMatch(/^ALARM: Threshold Crossed/);
    expect(signal.link?.url).toContain("#alarmsV2:alarm/api-checkout-latency");
  });

  it("reads the recovery of the same alarm with the same fingerprint", () => {
    const signal = only("cloudwatch/eventbridge-alarm-ok.json");
    expect(signal).toMatchObject({ kind: "recovery", fingerprint: latency });
  });

  it("reads metric math, anomaly band and composite alarms", () => {
    expect(only("cloudwatch/eventbridge-metric-math.json").attributes).toMatchObject({
      alarmName: "orders-db-total-iops-high",
      namespace: "AWS/RDS",
    });
    expect(only("cloudwatch/eventbridge-anomaly-band.json").kind).toBe("trigger");
    const composite = only("cloudwatch/eventbridge-composite.json");
    expect(composite.attributes.namespace).toBeUndefined();
    expect(composite.fingerprint).toMatch(/^cloudwatch:123456789012:us-east-1:/);
  });

  it("accepts and ignores other aws.cloudwatch detail-types", () => {
    expect(normalize("cloudwatch/eventbridge-configuration-change.json")).toEqual({
      format: "eventbridge-other",
      signals: [],
      note: 'ignored "CloudWatch Alarm Configuration Change"',
    });
  });

  it("reads SNS notifications delivered to Lambda, single metric and Metrics[]", () => {
    const alarm = only("cloudwatch/sns-lambda-single-metric.json");
    const ok = only("cloudwatch/sns-lambda-ok.json");
    expect(alarm.kind).toBe("trigger");
    expect(ok).toMatchObject({ kind: "recovery", fingerprint: alarm.fingerprint });
    expect(alarm.attributes.namespace).toBeDefined();
    const math = only("cloudwatch/sns-lambda-metrics-array.json");
    expect(math.attributes.metricName).toBeDefined();
    expect(normalize("cloudwatch/sns-lambda-single-metric.json").format).toBe("sns-lambda");
  });

  it("reads the bare SNS envelope and acknowledges subscription confirmations", () => {
    expect(normalize("cloudwatch/sns-https-notification.json")).toMatchObject({
      format: "sns-notification",
      signals: [{ source: "cloudwatch", kind: "trigger" }],
    });
    expect(normalize("cloudwatch/sns-https-subscription-confirmation.json")).toMatchObject({
      format: "sns-confirmation",
      signals: [],
    });
  });

  it("reads legacy SNS payloads: display-name region, null description, no AlarmArn", () => {
    const signal = only("cloudwatch/sns-legacy-no-arn.json");
    expect(signal.attributes.region).toBe("eu-west-1");
    expect(signal.fingerprint).toMatch(/^cloudwatch:\d{12}:eu-west-1:/);
    expect(signal.link?.arn).toBe(
      `arn:aws:cloudwatch:eu-west-1:${signal.attributes.account}:alarm:${signal.attributes.alarmName}`,
    );
  });

  it("reads direct alarm actions with a delivery id stable across retries", () => {
    const alarm = only("cloudwatch/alarm-action.json");
    expect(alarm.kind).toBe("trigger");
    expect(only("cloudwatch/alarm-action.json").deliveryId).toBe(alarm.deliveryId);
    const ok = only("cloudwatch/alarm-action-ok.json");
    expect(ok).toMatchObject({ kind: "recovery", fingerprint: alarm.fingerprint });
    expect(ok.deliveryId).not.toBe(alarm.deliveryId);
  });

  it("ignores INSUFFICIENT_DATA unless the config asks for it", () => {
    const insufficient = broken("cloudwatch/eventbridge-alarm.json", (event) => {
      event.detail.state.value = "INSUFFICIENT_DATA";
    });
    expect(normalizeEvent(insufficient, options).signals).toEqual([]);
    const eager = new Policy(aConfig({ cloudwatch: { insufficientData: "trigger" } }));
    expect(normalizeEvent(insufficient, { ...options, policy: eager }).signals).toHaveLength(1);
  });
});

describe("CloudWatch Logs", () => {
  it("turns a Lambda timeout into one error signal and drops START/END/REPORT", () => {
    const signal = only("logs/lambda-timeout.json");
    expect(signal).toMatchObject({
      source: "logs",
      kind: "trigger",
      attributes: { logGroup: expect.stringMatching(/^\/aws\/lambda\//), level: "error" },
    });
    expect(signal.title).toMatch(/: Task timed out after 6\.01 seconds$/);
    expect(signal.link?.url).toContain("#logsV2:log-groups/log-group/$252Faws$252Flambda$252F");
  });

  it("keeps the ERROR of a Powertools JSON log and drops the INFO noise", () => {
    const signal = only("logs/lambda-errors-json.json");
    expect(signal.attributes).toMatchObject({
      level: "error",
      logGroup: "/aws/lambda/checkout-api",
    });
    expect(signal.title).toBe("checkout-api: TimeoutError: Payment authorisation failed");
  });

  it("reads plain-text errors: application ERROR, Invoke Error JSON, Runtime.ExitError", () => {
    const { signals } = normalize("logs/plain-text-errors.json");
    expect(signals.map((signal) => signal.title)).toEqual([
      expect.stringContaining("Reservation failed for order"),
      "inventory-sync: Error: Inventory service returned 503",
      expect.stringMatching(/^inventory-sync: Runtime\.ExitError: Error: Runtime exited/),
    ]);
    expect(new Set(signals.map((signal) => signal.fingerprint)).size).toBe(3);
  });

  it("accepts a CONTROL_MESSAGE and records nothing", () => {
    expect(normalize("logs/control-message.json")).toEqual({
      format: "logs",
      signals: [],
      note: "CloudWatch Logs health check",
    });
  });

  it("folds the same error from different requests into one fingerprint", () => {
    const batch = structuredClone(loadEvent("logs/plain-text-errors.decoded.json")) as LogsBatch;
    const first = batch.logEvents[0] as LogsBatch["logEvents"][number];
    batch.logEvents = [
      first,
      {
        ...first,
        id: `${first.id.slice(0, -1)}9`,
        message:
          "2024-11-06T09:12:44.871Z\t0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\tERROR\tReservation failed for order 0b9e8d7c6b5a49382716a5b4c3d2e1f0: ConditionalCheckFailedException: The conditional request failed\n",
      },
    ];
    const signals = normalizeEvent(encodeLogsBatch(batch), options).signals;
    expect(signals).toHaveLength(2);
    expect(signals[0]?.fingerprint).toBe(signals[1]?.fingerprint);
    expect(signals[0]?.deliveryId).not.toBe(signals[1]?.deliveryId);
  });

  it("lets a rule pick lines by content below the error level", () => {
    const picky = new Policy(
      aConfig({
        rules: [
          {
            name: "orders",
            match: { source: "logs", message: "Order accepted" },
            severity: "info",
          },
        ],
      }),
    );
    const { signals } = normalizeEvent(loadEvent("logs/lambda-errors-json.json"), {
      ...options,
      policy: picky,
    });
    expect(signals.map((signal) => signal.attributes.level)).toEqual(["info", "error"]);
  });

  it("reads levels from JSON and text lines", () => {
    expect(parseLogLine('{"levelname":"WARNING","msg":"disk 91%"}')).toMatchObject({
      level: "warning",
      text: "disk 91%",
    });
    expect(parseLogLine('{"errorType":"TypeError","errorMessage":"x is undefined"}')).toMatchObject(
      {
        level: "error",
        errorName: "TypeError",
      },
    );
    expect(parseLogLine("[ERROR]\t2024-11-05T16:00:12.015Z\tabc\tKeyError: 'sku'").level).toBe(
      "error",
    );
    expect(parseLogLine("Traceback (most recent call last):").level).toBe("error");
    expect(parseLogLine("GET /health 200 3ms").level).toBeUndefined();
    expect(parseLogLine("{not json").level).toBeUndefined();
  });

  it("property: the signature ignores ids, numbers and times", () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.nat(),
        fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        (uuid, n, date) => {
          const line = (id: string, count: number, at: Date) =>
            `${at.toISOString()} request ${id} failed after ${count} retries (order 0x${count.toString(16)})`;
          expect(errorSignature(line(uuid, n, date))).toBe(
            errorSignature(line("00000000-0000-4000-8000-000000000000", 1, new Date(0))),
          );
        },
      ),
    );
  });
});

describe("Sentry", () => {
  const headers = loadEvent("sentry/headers.json") as Record<
    string,
    { "Sentry-Hook-Resource": string; "Request-ID": string }
  >;
  const sentAt = "2024-11-05T16:30:00.000Z";
  const signalOf = (file: string) => {
    const header = headers[file] as { "Sentry-Hook-Resource": string; "Request-ID": string };
    const parsed = parseSentryWebhook(header["Sentry-Hook-Resource"], loadEvent(`sentry/${file}`));
    if (!parsed.success) throw parsed.error;
    return signalFromSentry({ webhook: parsed.data, sentAt });
  };

  it("keys issue alerts, errors and issue webhooks by issue id", () => {
    const alert = signalOf("event-alert-triggered.json");
    expect(alert).toMatchObject({
      source: "sentry",
      kind: "trigger",
      fingerprint: "sentry:issue:5873421906",
      deliveryId: "sentry:event:e52b9c0f7d6a4e81b3c2a1f09d8e7c6b",
      attributes: { project: "checkout" },
    });
    expect(alert?.link?.url).toMatch(/^https:\/\//);
    for (const file of ["error-created.json", "issue-created.json", "issue-unresolved.json"]) {
      expect(signalOf(file)).toMatchObject({ kind: "trigger", fingerprint: alert?.fingerprint });
    }
    for (const file of ["issue-resolved.json", "issue-archived.json"]) {
      expect(signalOf(file)).toMatchObject({
        kind: "recovery",
        fingerprint: alert?.fingerprint,
        at: sentAt,
      });
    }
    expect(signalOf("issue-ignored.json")?.kind).toBe("recovery");
  });

  it("keys metric alerts by alert rule, critical and warning trigger, resolved recovers", () => {
    const critical = signalOf("metric-alert-critical.json");
    expect(critical).toMatchObject({
      kind: "trigger",
      fingerprint: "sentry:metric-alert:84213",
      attributes: { level: "fatal" },
    });
    expect(signalOf("metric-alert-warning.json")).toMatchObject({
      kind: "trigger",
      fingerprint: critical?.fingerprint,
      attributes: { level: "warning" },
    });
    expect(signalOf("metric-alert-resolved.json")).toMatchObject({
      kind: "recovery",
      fingerprint: critical?.fingerprint,
    });
  });

  it("treats installation webhooks as no-ops", () => {
    expect(signalOf("installation-created.json")).toBeNull();
  });

  it("verifies Sentry-Hook-Signature over the exact bytes", () => {
    const raw = loadRawEvent("sentry/issue-created.json");
    const signature = hmacSha256Hex("client-secret", raw);
    expect(verifySentrySignature(raw, signature, "client-secret")).toBe(true);
    expect(verifySentrySignature(raw, signature.toUpperCase(), "client-secret")).toBe(true);
    expect(verifySentrySignature(raw, signature, "other-secret")).toBe(false);
    expect(verifySentrySignature(`${raw} `, signature, "client-secret")).toBe(false);
    expect(verifySentrySignature(raw, undefined, "client-secret")).toBe(false);
    expect(verifySentrySignature(raw, "abc", "client-secret")).toBe(false);
  });
});

describe("invalid events", () => {
  it.each([
    ["a string", "hello", "expected a JSON object"],
    ["an array", [1, 2], "expected a JSON object"],
    ["an unknown shape", { hello: "world" }, "unsupported event with keys [hello]"],
    [
      "another EventBridge source",
      broken("cloudwatch/eventbridge-alarm.json", (event) => {
        event.source = "aws.ec2";
      }),
      'unsupported EventBridge source "aws.ec2"',
    ],
    [
      "a state change without alarmName",
      broken("cloudwatch/eventbridge-alarm.json", (event) => {
        delete event.detail.alarmName;
      }),
      "detail.alarmName",
    ],
    [
      "an unknown state",
      broken("cloudwatch/eventbridge-alarm.json", (event) => {
        event.detail.state.value = "ON_FIRE";
      }),
      "detail.state.value",
    ],
    [
      "an SNS message that is not JSON",
      broken("cloudwatch/sns-lambda-single-metric.json", (event) => {
        event.Records[0].Sns.Message = "not json";
      }),
      "Records[0].Sns.Message",
    ],
    [
      "logs data that is not gzip",
      { awslogs: { data: Buffer.from("plain").toString("base64") } },
      "awslogs.data",
    ],
    [
      "an alarm action without alarmArn",
      broken("cloudwatch/alarm-action.json", (event) => {
        delete event.alarmArn;
      }),
      "alarmArn",
    ],
  ])("refuses %s with a message naming the problem", (_name, raw, message) => {
    expect(() => normalizeEvent(raw, options)).toThrowError(InvalidEventError);
    expect(() => normalizeEvent(raw, options)).toThrowError(message);
  });
});

describe("queue messages", () => {
  it("round-trips signal batches and splits them by size", () => {
    const signals = Array.from({ length: 50 }, () => aSignal({ detail: "x".repeat(1000) }));
    const bodies = encodeSignalBatches(signals, 20_000);
    expect(bodies.length).toBeGreaterThan(2);
    expect(bodies.every((body) => body.length <= 22_000)).toBe(true);
    const arrivedAt = Date.parse(signals[0]?.at as string);
    const decoded = bodies.flatMap(
      (body) => decodeQueueMessage(body, { ...options, arrivedAt }).signals,
    );
    expect(decoded).toEqual(signals);
  });

  it("orders a signal by its arrival when its own time is outside the trusted window", () => {
    const arrivedAt = Date.parse("2026-12-02T12:00:00.000Z");
    const at = (time: string) =>
      decodeQueueMessage(encodeSignalBatches([aSignal({ at: time })])[0] as string, {
        ...options,
        arrivedAt,
      }).signals[0];
    // Within 24 h before and 5 min after its arrival: its own time, untouched.
    expect(at("2026-12-01T12:00:00.000Z")).not.toHaveProperty("reportedAt");
    expect(at("2026-12-02T12:05:00.000Z")?.at).toBe("2026-12-02T12:05:00.000Z");
    // A forged OK "in 2099", or a sample dated 2024: ordered by arrival, the claim kept as data.
    for (const claimed of ["2099-01-01T00:00:00.000Z", "2024-11-05T14:03:40.536Z"]) {
      expect(at(claimed)).toMatchObject({ at: "2026-12-02T12:00:00.000Z", reportedAt: claimed });
    }
    expect(at("2026-12-02T12:05:00.001Z")?.reportedAt).toBe("2026-12-02T12:05:00.001Z");
  });

  it("decodes raw AWS events delivered straight to the queue", () => {
    const body = loadRawEvent("cloudwatch/sns-https-notification.json");
    expect(decodeQueueMessage(body, { ...options, arrivedAt: Date.now() }).signals).toHaveLength(1);
  });

  it("refuses broken bodies", () => {
    const queued = { ...options, arrivedAt: Date.now() };
    expect(() => decodeQueueMessage("{", queued)).toThrowError("queue message is not JSON");
    expect(() =>
      decodeQueueMessage('{"firebreak":"signals/v1","signals":[{"source":"x"}]}', queued),
    ).toThrowError("invalid signal batch: signals[0]");
  });
});
