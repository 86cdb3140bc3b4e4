import { gunzipSync, gzipSync } from "node:zlib";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import fc from "fast-check";
import { type Json, mutationsOf, ODD_STRINGS, oddString, oddValue, toBody } from "./mutate";

// What each ingress is fed: payloads made by breaking real fixtures, and payloads generated
// with just enough shape to get past the first check.

/** Raw AWS events `/local/events` takes (the decoded logs batches are helpers, not events). */
export const LOCAL_FIXTURES = [
  "cloudwatch/alarm-action-ok.json",
  "cloudwatch/alarm-action.json",
  "cloudwatch/eventbridge-alarm-ok.json",
  "cloudwatch/eventbridge-alarm.json",
  "cloudwatch/eventbridge-anomaly-band.json",
  "cloudwatch/eventbridge-composite.json",
  "cloudwatch/eventbridge-configuration-change.json",
  "cloudwatch/eventbridge-metric-math.json",
  "cloudwatch/sns-https-notification.json",
  "cloudwatch/sns-https-subscription-confirmation.json",
  "cloudwatch/sns-https-unsubscribe-confirmation.json",
  "cloudwatch/sns-lambda-metrics-array.json",
  "cloudwatch/sns-lambda-ok.json",
  "cloudwatch/sns-lambda-single-metric.json",
  "cloudwatch/sns-legacy-no-arn.json",
  "logs/control-message.json",
  "logs/lambda-errors-json.json",
  "logs/lambda-timeout.json",
  "logs/plain-text-errors.json",
];

/** A CloudWatch Logs subscription event (the Lambda timeout fixture's) carrying one `message`. */
export function logsEvent(message: string): Json {
  const { awslogs } = loadEvent("logs/lambda-timeout.json") as { awslogs: { data: string } };
  const batch = JSON.parse(gunzipSync(Buffer.from(awslogs.data, "base64")).toString("utf8")) as {
    logEvents: Json[];
  };
  // Ids are digit strings, unique per line: a repeat would be taken for a redelivery.
  const id = `${Date.now()}${String(Math.random()).slice(2, 12)}`;
  batch.logEvents = [{ id, timestamp: Date.now(), message }];
  return { awslogs: { data: gzipSync(JSON.stringify(batch)).toString("base64") } };
}

/** The events AWS hands the ingest function (SNS subscriptions, alarm actions, Logs). */
export const INGEST_FIXTURES = LOCAL_FIXTURES.filter((name) =>
  /sns-lambda|sns-legacy|alarm-action|logs\//.test(name),
);

const headerFile = loadEvent("sentry/headers.json") as Record<string, Record<string, string>>;

/** Sentry webhooks with the headers Sentry sent them with. */
export const SENTRY_FIXTURES = Object.keys(headerFile).map((file) => ({
  file,
  raw: loadRawEvent(`sentry/${file}`),
  resource: headerFile[file]?.["Sentry-Hook-Resource"] ?? "",
  requestId: headerFile[file]?.["Request-ID"] ?? "",
}));

/** The slash command form as Slack posts it. */
export const SLACK_FORM = loadRawEvent("slack/command.form.txt").trim();
export const SLACK_FIELDS = [...new URLSearchParams(SLACK_FORM).keys()];

const fixture = (name: string) => loadEvent(name) as Json;

/** A fixture broken in 1 to 4 places. */
export const mutatedFixture = (names: ReadonlyArray<string>): fc.Arbitrary<Json> =>
  fc.constantFrom(...names).chain((name) => mutationsOf(fixture(name)));

const jsonText = (value: fc.Arbitrary<Json>) => value.map((inner) => toBody(inner));

/** Objects with the keys that pick a format, and anything at all under them. */
export const shapedEvent: fc.Arbitrary<Json> = fc.oneof(
  fc.record({
    Records: fc.array(
      fc.record(
        {
          EventSource: fc.oneof(fc.constant("aws:sns"), oddString),
          Sns: fc.record(
            {
              Type: fc.constantFrom("Notification", "SubscriptionConfirmation"),
              MessageId: oddString,
              TopicArn: oddString,
              Message: fc.oneof(oddString, jsonText(oddValue)),
              Timestamp: oddString,
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  }),
  fc.record({ awslogs: fc.record({ data: fc.oneof(oddString, fc.base64String()) }) }),
  fc.record({
    source: fc.oneof(fc.constant("aws.cloudwatch"), oddString),
    alarmArn: oddString,
    accountId: oddString,
    time: oddString,
    region: oddString,
    alarmData: oddValue,
  }),
  fc.record({
    version: fc.constant("0"),
    id: oddString,
    "detail-type": fc.oneof(
      fc.constantFrom(
        "CloudWatch Alarm State Change",
        "CloudWatch Alarm Configuration Change",
        "EC2 Instance State-change Notification",
      ),
      oddString,
    ),
    source: fc.oneof(fc.constant("aws.cloudwatch"), oddString),
    account: oddString,
    time: oddString,
    region: oddString,
    resources: fc.array(oddString, { maxLength: 2 }),
    detail: oddValue,
  }),
  fc.record({
    Type: fc.oneof(
      fc.constantFrom("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"),
      oddString,
    ),
    TopicArn: oddString,
    MessageId: oddString,
    Message: fc.oneof(oddString, jsonText(oddValue)),
    Timestamp: oddString,
  }),
);

/** Bodies for `/local/events` (and the ingest function): mutated, shaped, generated, garbage. */
export const localEventBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: jsonText(mutatedFixture(LOCAL_FIXTURES)) },
  { weight: 3, arbitrary: jsonText(shapedEvent) },
  {
    weight: 1,
    arbitrary: jsonText(fc.array(mutatedFixture(LOCAL_FIXTURES), { maxLength: 4 })),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
);

/** What Node lets a header carry: visible Latin-1 and tabs (anything else is refused client-side). */
export const headerSafe = (text: string) =>
  text.replace(/[^\t\x20-\x7e\x80-\xff]/g, "?").slice(0, 4_000);

/** Subcommands, ids, matchers, durations and odd words for `/incident ...`. */
export function slackText(ids: ReadonlyArray<string>): fc.Arbitrary<string> {
  const word = fc.oneof(
    fc.constantFrom(
      "ack",
      "acknowledge",
      "resolve",
      "note",
      "show",
      "list",
      "approve",
      "silence",
      "unsilence",
      "help",
      "?",
      "LIST",
      "Ack",
    ),
    oddString,
  );
  const id = fc.oneof(
    fc.constantFrom(...ids, ...ids.map((known) => known.toLowerCase())),
    fc.stringMatching(/^[A-Z0-9]{7}$/),
    fc.constantFrom("a1", "A1", "a9999", "a0", "S4K2PX", "sXXXXX"),
  );
  const matcher = fc.oneof(
    fc.constantFrom(
      "alarmName=api-*",
      "source=cloudwatch",
      "level=error,fatal",
      "message=(a+)+$",
      "message=(",
      "alarmName=*a*a*a*a*a*a*a*a*b",
      "x=y",
      "=",
      "alarmName=",
      "source=nope",
    ),
    oddString.map((value) => `alarmName=${value}`),
  );
  const duration = fc.constantFrom(
    "30m",
    "2h",
    "1d",
    "0s",
    "59s",
    "31d",
    "1e309h",
    "-5m",
    "9".repeat(30),
  );
  const token = fc.oneof(id, matcher, duration, oddString, word);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(word, fc.array(token, { maxLength: 5 }))
        .map(([head, rest]) => [head, ...rest].join(" ")),
    },
    { weight: 1, arbitrary: oddString },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...ODD_STRINGS).map((odd) => `note ${ids[0] ?? "K7Q2XPD"} ${odd}`),
    },
  );
}
