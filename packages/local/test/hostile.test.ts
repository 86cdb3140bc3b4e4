import type { ConfigInput } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { API_ROUTES as DEPLOYED_API_ROUTES } from "@firebreak/stacks/topology";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { client, startTestStack, TOKEN } from "./helpers";
import {
  headerSafe,
  INGEST_FIXTURES,
  LOCAL_FIXTURES,
  localEventBody,
  logsEvent,
  mutatedFixture,
  SENTRY_FIXTURES,
  SLACK_FIELDS,
  SLACK_FORM,
  shapedEvent,
  slackText,
} from "./hostile/cases";
import {
  type Answer,
  bearer,
  expectAlive,
  expectClearAnswer,
  expectErrorShape,
  expectGatewayRefusal,
  fromGateway,
  JSON_TYPE,
  type Send,
  type State,
  send,
  sentrySignature,
  sentryTimestampHeader,
  settled,
  slackHeaders,
  stateOf,
  stateTracker,
} from "./hostile/harness";
import { type Json, mutationsOf, oddString, oddValue, toBody } from "./hostile/mutate";
import testPolicy from "./policy";

/**
 * Generated and mutated payloads per ingress: a quick look in `npm test`, at least 10,000 each in
 * the soak run (`SOAK=1 npx vitest run packages/local/test/hostile.test.ts`).
 */
const RUNS = process.env.SOAK ? 10_000 : Number(process.env.HOSTILE_RUNS ?? 12);
const TIMEOUT = process.env.SOAK ? 4 * 3_600_000 : 60_000;

// The shipped policy (remediation, approval, pages), with the breaker out of the way so that
// accepted payloads keep exercising the responses; schedules are left to the tests. The Slack
// fixture's user is a responder: signed commands get as far as they can (who may act is the
// Slack suite's subject, not this one's).
const CONFIG: ConfigInput = {
  ...testPolicy,
  responders: [new URLSearchParams(SLACK_FORM).get("user_id") as string],
  safety: { dryRun: false, cooldown: "1s", maxActionsPerHour: 1000 },
};

let stack: LocalStack;
/** Incidents opened before the hostile traffic starts, for ids that exist. */
const known: { alarm: string; approval: string; sentry: string; logs: string } = {
  alarm: "",
  approval: "",
  sentry: "",
  logs: "",
};

// Handlers stay silent (vitest.config.ts): hostile input makes them log errors on purpose.
beforeAll(async () => {
  stack = await startTestStack({
    configInput: CONFIG,
    // An escalation sweep between a request and its check would change incidents the request
    // did not touch: the schedule stays off (hourly). Dispatch runs by itself from the table's
    // stream, and every state check waits for it first (`settled`).
    intervals: { escalationsMs: 3_600_000 },
  });
  const api = client(stack);
  known.alarm = (await api.deliver("cloudwatch/eventbridge-alarm.json")).incidents[0] as string;
  known.approval = (await api.deliver(writerDown("hostile-setup"))).incidents[0] as string;
  known.logs = (await api.deliver("logs/lambda-timeout.json")).incidents[0] as string;
  expect((await api.sentry("event-alert-triggered.json")).status).toBe(202);
  await settled(stack);
  const page = JSON.parse(
    (await send(stack, { path: "/incidents?source=sentry", headers: [bearer()] })).text,
  ) as { items: Array<{ id: string }> };
  known.sentry = page.items[0]?.id as string;
  for (const id of Object.values(known)) expect(id).toMatch(/^[0-9A-Z]{7}$/);
  // A stack, four deliveries and their dispatch: longer than the default hook time when the
  // machine's cores are busy with other suites.
}, TIMEOUT);
afterAll(async () => {
  await stack?.stop();
});

/** An RDS writer alarm: the shipped policy fails over, after someone approves. */
function writerDown(name: string) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: {
      alarmName: string;
      configuration: { metrics: Array<{ metricStat: { metric: { namespace: string } } }> };
    };
  };
  event.id = `${name}-${Math.random()}`;
  event.detail.alarmName = `${name}-writer-down`;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}-writer-down`];
  const metric = event.detail.configuration.metrics[0];
  if (metric) metric.metricStat.metric.namespace = "AWS/RDS";
  return event;
}

const ids = () => Object.values(known);

let tracker = stateTracker(() => stack);

/** Runs `request`, and checks that a refusal left everything as it was. */
async function expectRefusalChangesNothing(
  request: () => Promise<Answer>,
  refused: (answer: Answer) => boolean,
  context: string,
): Promise<{ answer: Answer; before: State; after: State }> {
  const before = await tracker.before();
  const answer = await request();
  const after = await tracker.after();
  if (refused(answer)) {
    expect(after, `${context}: a refused request changed state`).toEqual(before);
  }
  return { answer, before, after };
}

const fourXX = (answer: Answer) => answer.status >= 400;

/**
 * Checks `check` on RUNS generated values, then that the stack still answers. Silences the
 * generated commands made are ended, so that the next test's incidents are not held by them.
 */
async function property<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) {
  tracker = stateTracker(() => stack);
  try {
    await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: RUNS });
    await expectAlive(stack);
  } finally {
    const active = await send(stack, { path: "/silences", headers: [bearer()] });
    for (const { id } of (JSON.parse(active.text) as { items: Array<{ id: string }> }).items) {
      await send(stack, { method: "DELETE", path: `/silences/${id}`, headers: [bearer()] });
    }
  }
}

describe("property: POST /local/events takes mutated fixtures and generated JSON", () => {
  it(
    "answers 200 (processed, nothing dead-lettered) or a clear 4xx that changes nothing",
    async () => {
      await property(localEventBody, async (body) => {
        const { answer } = await expectRefusalChangesNothing(
          () => send(stack, { path: "/local/events?wait=true", headers: [JSON_TYPE], body }),
          fourXX,
          "/local/events",
        );
        expectClearAnswer(answer, `/local/events ${body.slice(0, 200)}`);
        if (answer.status === 200) {
          const result = JSON.parse(answer.text) as { accepted: number; deadLettered?: number };
          expect(result.accepted).toBeGreaterThan(0);
          // Accepted means processed: nothing that passed validation may fail later.
          expect(result.deadLettered, body.slice(0, 300)).toBeUndefined();
        }
      });
    },
    TIMEOUT,
  );
});

/** Errors a function raises on purpose for a bad event; anything else is a crash. */
const DELIBERATE = ["InvalidEventError", "ParseError", "InvalidInputError", "UnauthorizedError"];
const FUNCTIONS = ["ingest", "process", "dispatch", "api", "slack", "sentry-webhook"];
const HTTP_FUNCTIONS = new Set(["api", "slack", "sentry-webhook"]);

/** An API Gateway (HTTP API, payload 2.0) event, to be broken. */
const apiGatewayEvent = (path: string, method: string, body?: string): Json => ({
  version: "2.0",
  routeKey: "$default",
  rawPath: path,
  rawQueryString: "",
  headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  requestContext: {
    accountId: "000000000000",
    apiId: "local",
    http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "x" },
    requestId: "r",
    routeKey: "$default",
    stage: "$default",
    time: "x",
    timeEpoch: 0,
  },
  ...(body === undefined ? {} : { body }),
  isBase64Encoded: false,
});

/** The API Gateway fixture for a slash command (body base64-encoded), signed now. */
function signedSlackEvent(): Json {
  const event = loadEvent("slack/apigateway-command.json") as Record<string, Json> & {
    headers: Record<string, string>;
  };
  const [, [, timestamp], [, signature]] = slackHeaders(SLACK_FORM) as [
    [string, string],
    [string, string],
    [string, string],
  ];
  event.headers["x-slack-request-timestamp"] = timestamp;
  event.headers["x-slack-signature"] = signature;
  event.body = Buffer.from(SLACK_FORM, "utf8").toString("base64");
  event.isBase64Encoded = true;
  return event;
}

const sqsEvent = (body: string): Json => ({
  Records: [
    {
      messageId: "m-1",
      receiptHandle: "m-1",
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1",
        SenderId: "x",
        ApproximateFirstReceiveTimestamp: "1",
      },
      messageAttributes: {},
      md5OfBody: "x",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q",
      awsRegion: "us-east-1",
    },
  ],
});

const invocation: fc.Arbitrary<{ name: string; body: string }> = fc.oneof(
  {
    weight: 5,
    arbitrary: mutatedFixture(INGEST_FIXTURES).map((event) => ({
      name: "ingest",
      body: toBody(event),
    })),
  },
  {
    weight: 2,
    arbitrary: mutatedFixture(LOCAL_FIXTURES).chain((event) =>
      mutationsOf(sqsEvent(toBody(event))).map((wrapped) => ({
        name: "process",
        body: toBody(wrapped),
      })),
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        ["api", apiGatewayEvent("/incidents", "GET")],
        ["api", apiGatewayEvent("/silences", "POST", '{"matcher":"source=logs","duration":"1h"}')],
        ["slack", apiGatewayEvent("/slack/commands", "POST", SLACK_FORM)],
        ["sentry-webhook", apiGatewayEvent("/webhooks/sentry", "POST", "{}")],
      )
      .chain(([name, event]) =>
        mutationsOf(event as Json).map((broken) => ({
          name: name as string,
          body: toBody(broken),
        })),
      ),
  },
  {
    weight: 1,
    // Signed when generated (the soak outlasts Slack's 5 minutes), then broken.
    arbitrary: fc
      .constant(null)
      .map(signedSlackEvent)
      .chain((event) => mutationsOf(event))
      .map((broken) => ({ name: "slack", body: toBody(broken) })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      name: fc.constantFrom(...FUNCTIONS),
      body: fc.oneof(
        shapedEvent.map(toBody),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        oddValue.map(toBody),
      ),
    }),
  },
);

describe("property: the Lambda invoke API", () => {
  it(
    "answers as Lambda does, with only deliberate function errors, and refusals change nothing",
    async () => {
      await property(invocation, async ({ name, body }) => {
        let result: { statusCode?: number } | null = null;
        const { answer } = await expectRefusalChangesNothing(
          () =>
            send(stack, {
              path: `/2015-03-31/functions/${name}/invocations`,
              headers: [JSON_TYPE],
              body,
            }),
          (answer) => {
            if (answer.status !== 200) return true;
            if (answer.headers["x-amz-function-error"]) return true;
            result = JSON.parse(answer.text) as { statusCode?: number } | null;
            return HTTP_FUNCTIONS.has(name) && (result?.statusCode ?? 0) >= 400;
          },
          `invoke ${name}`,
        );
        const context = `invoke ${name} ${body.slice(0, 300)}: ${answer.text.slice(0, 300)}`;
        expect([200, 400, 413], context).toContain(answer.status);
        if (answer.status === 200 && answer.headers["x-amz-function-error"]) {
          const failure = JSON.parse(answer.text) as { errorType: string };
          expect(DELIBERATE, context).toContain(failure.errorType);
        } else if (answer.status === 200 && HTTP_FUNCTIONS.has(name)) {
          expect((result as { statusCode?: number } | null)?.statusCode, context).toBeLessThan(500);
        }
      });
    },
    TIMEOUT,
  );
});

type Signing = "signed" | "unsigned" | "wrong-secret" | "other-body" | "garbage";

const sentryCase = fc.record({
  fixture: fc.constantFrom(...SENTRY_FIXTURES),
  mutate: fc.boolean(),
  mutations: fc.nat(),
  signing: fc.constantFrom<Signing>(
    "signed",
    "signed",
    "signed",
    "signed",
    "unsigned",
    "wrong-secret",
    "other-body",
    "garbage",
  ),
  resource: fc.option(
    fc.oneof(
      fc.constantFrom("installation", "event_alert", "issue", "metric_alert", "error", "comment"),
      oddString,
    ),
    { freq: 3 },
  ),
  timestamp: fc.option(oddString, { freq: 3 }),
  requestId: fc.option(oddString, { freq: 3 }),
});

describe("property: POST /webhooks/sentry", () => {
  it(
    "takes signed mutated webhooks (202 or a clear 4xx), refuses unsigned ones (401), changes nothing when refusing",
    async () => {
      await property(
        sentryCase.chain((value) =>
          (value.mutate
            ? mutationsOf(JSON.parse(value.fixture.raw) as Json)
            : fc.constant(null)
          ).map((broken) => ({
            ...value,
            body: broken === null ? value.fixture.raw : toBody(broken),
          })),
        ),
        async ({ fixture, body, signing, resource, timestamp, requestId }) => {
          const signature =
            signing === "signed"
              ? sentrySignature(body)
              : signing === "wrong-secret"
                ? sentrySignature(body, "not-the-secret")
                : signing === "other-body"
                  ? sentrySignature(fixture.raw === body ? `${body} ` : fixture.raw)
                  : signing === "garbage"
                    ? "zz".repeat(32)
                    : undefined;
          const headers: Array<[string, string]> = [
            JSON_TYPE,
            ["sentry-hook-resource", headerSafe(resource ?? fixture.resource)],
            ["request-id", headerSafe(requestId ?? fixture.requestId)],
            [
              "sentry-hook-timestamp",
              headerSafe(timestamp ?? String(Math.floor(Date.now() / 1000))),
            ],
            ...(signature ? [["sentry-hook-signature", signature] as [string, string]] : []),
          ];
          const { answer, before, after } = await expectRefusalChangesNothing(
            () => send(stack, { path: "/webhooks/sentry", headers, body }),
            fourXX,
            "sentry",
          );
          const context = `sentry ${signing} ${fixture.file} ${body.slice(0, 200)}`;
          expectClearAnswer(answer, context);
          if (signing !== "signed" && Buffer.byteLength(body) <= 256 * 1024) {
            expect(answer.status, context).toBe(401);
          }
          // Accepted means it will be counted: nothing a 202 took may end in the dead letters.
          expect(after.queue.deadLettered, context).toBe(before.queue.deadLettered);
        },
      );
    },
    TIMEOUT,
  );
});

type SlackSigning = "signed" | "unsigned" | "wrong-secret" | "stale" | "future";

/**
 * How far ahead a "future" Slack timestamp is signed. Time passes between signing and the
 * check, which makes a stale timestamp staler but brings a future one back into the 300 s
 * window: one second past it (the current second floored) would be taken whenever the request
 * lands in the next second. A minute past it holds on a loaded machine; the exact boundary is
 * core's test of verifySlackRequest, on an injected clock.
 */
const AHEAD = 360;

describe("property: POST /slack/commands", () => {
  it(
    "answers signed commands with a helpful 200 (or a clear 400), unsigned ones with 401, and never posts to a response_url that is not Slack's",
    async () => {
      const slackCase = fc.record({
        text: slackText(ids()),
        fields: fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...SLACK_FIELDS, "ssl_check"), oddString),
            fc.option(
              fc.oneof(
                oddString,
                fc.constantFrom(
                  "https://hooks.slack.com.evil.example/x",
                  "http://hooks.slack.com/commands/1",
                  "https://evil.example/?https://hooks.slack.com/",
                  "https://hooks.slack.com@evil.example/",
                ),
              ),
              { freq: 4 },
            ),
          ),
          { maxLength: 3 },
        ),
        raw: fc.option(fc.string({ unit: "binary", maxLength: 300 }), { freq: 8 }),
        signing: fc.constantFrom<SlackSigning>(
          "signed",
          "signed",
          "signed",
          "signed",
          "signed",
          "unsigned",
          "wrong-secret",
          "stale",
          "future",
        ),
      });
      await property(slackCase, async ({ text, fields, raw, signing }) => {
        const form = new URLSearchParams(SLACK_FORM);
        form.set("text", text);
        for (const [name, value] of fields) {
          if (value === null) form.delete(name);
          else form.append(name, value);
        }
        const body = raw ?? form.toString();
        const now = Math.floor(Date.now() / 1000);
        const headers =
          signing === "unsigned"
            ? [["content-type", "application/x-www-form-urlencoded"] as [string, string]]
            : slackHeaders(body, {
                secret: signing === "wrong-secret" ? "not-the-signing-secret" : undefined,
                timestamp:
                  signing === "stale" ? now - 301 : signing === "future" ? now + AHEAD : now,
              });
        const { answer } = await expectRefusalChangesNothing(
          () => send(stack, { path: "/slack/commands", headers, body }),
          fourXX,
          "slack",
        );
        const context = `slack ${signing} ${body.slice(0, 300)}: ${answer.text.slice(0, 300)}`;
        expectClearAnswer(answer, context);
        if (signing !== "signed") {
          expect(answer.status, context).toBe(Buffer.byteLength(body) > 256 * 1024 ? 413 : 401);
        } else if (answer.status === 200) {
          const message = JSON.parse(answer.text) as { text?: unknown };
          if (!new URLSearchParams(body).has("ssl_check")) {
            expect(typeof message.text, context).toBe("string");
            expect((message.text as string).length, context).toBeGreaterThan(0);
          }
        } else expect([400, 413], context).toContain(answer.status);
        for (const reply of stack.outbox.slackResponses) {
          expect(reply.responseUrl, context).toMatch(/^https:\/\/hooks\.slack\.com\//);
        }
      });
    },
    TIMEOUT,
  );
});

/** The API's routes as API Gateway routes them: every route the topology deploys. */
const API_ROUTES = DEPLOYED_API_ROUTES.map((key) => key.split(" ") as [string, string]);

/** Good bodies to break, by route. */
const API_BODIES: Record<string, Json[]> = {
  "/incidents/{id}/resolve": [{ note: "fixed" }, {}],
  "/incidents/{id}/notes": [{ text: "looking" }],
  "/silences": [
    { matcher: "alarmName=hostile-*", duration: "1h", reason: "test" },
    { match: { source: "logs", logGroup: "/aws/lambda/hostile-*" }, duration: "2h" },
  ],
};

const QUERY_KEYS = ["status", "severity", "source", "since", "until", "limit", "cursor"];

/** Every byte of the UTF-8 form as %XX (encodeURIComponent throws on a lone surrogate). */
const percentEncoded = (text: string) =>
  [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");

/** An id that fits a path variable anywhere: letters and digits only. */
const plain = (segment: string) => /^[0-9A-Za-z]+$/.test(segment);

/** A path segment: a real id, a plausible one, or something odd (encoded or raw). */
const segment = (real: () => string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((index) => real()[index % real().length] as string) },
    { weight: 2, arbitrary: fc.stringMatching(/^[0-9A-Za-z]{1,8}$/) },
    // Short: past 16 KB of request line and headers Node answers 431 before any route.
    { weight: 2, arbitrary: oddString.map((odd) => percentEncoded(odd.slice(0, 60))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "..",
        ".",
        "%",
        "%E0%A4%A",
        "%2F",
        "%00",
        "a1",
        "S4K2PX",
        "%2e%2e",
      ),
    },
  );

describe("property: the incidents API", () => {
  it(
    "answers every route, whatever the path, query, body and headers, with a 2xx or a clear 4xx that changes nothing",
    async () => {
      const apiCase = fc.record({
        route: fc.constantFrom(...API_ROUTES),
        otherMethod: fc.option(
          fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
          {
            freq: 6,
          },
        ),
        id: segment(ids),
        actionId: segment(() => ["a1", "a2", "A1"]),
        query: fc.dictionary(
          fc.oneof(
            fc.constantFrom(...QUERY_KEYS),
            oddString.map((key) => key.slice(0, 40)),
          ),
          fc.oneof(
            // Short enough for the request line: past 16 KB of headers Node answers 431 itself.
            oddString.map((value) => value.slice(0, 300)),
            fc.constantFrom("open", "critical", "logs", "2024-01-01T00:00:00Z", "1", "200"),
          ),
          { maxKeys: 3 },
        ),
        body: fc.option(
          fc.oneof(
            fc
              .constantFrom(...Object.values(API_BODIES).flat())
              .chain((good) => mutationsOf(good))
              .map(toBody),
            fc.jsonValue().map((value) => JSON.stringify(value)),
            fc.string({ unit: "binary", maxLength: 200 }),
          ),
          { freq: 5 },
        ),
        auth: fc.constantFrom<Array<[string, string]>>(
          [bearer()],
          [bearer()],
          [bearer()],
          [bearer()],
          [],
          [["authorization", "Bearer wrong-token-0123456789"]],
          [["authorization", TOKEN]],
        ),
        contentType: fc.constantFrom(
          "application/json",
          "application/json",
          "application/json; charset=utf-16",
          "text/plain",
          "application/x-www-form-urlencoded",
          "",
        ),
        accept: fc.constantFrom("application/json", "text/markdown", "*/*", "application/jsonx"),
        extra: fc.array(
          fc.tuple(fc.constantFrom("x-forwarded-for", "cookie", "x-odd", "origin"), oddString),
          {
            maxLength: 2,
          },
        ),
      });
      await property(apiCase, async (value) => {
        const [method, template] = value.route;
        const path = template.replace("{id}", value.id).replace("{actionId}", value.actionId);
        const query = new URLSearchParams(value.query).toString();
        const headers: Array<[string, string]> = [
          ...value.auth,
          ...(value.contentType ? [["content-type", value.contentType] as [string, string]] : []),
          ["accept", value.accept],
          ...value.extra.map(([name, odd]) => [name, headerSafe(odd)] as [string, string]),
        ];
        const request: Send = {
          method: value.otherMethod ?? method,
          path: `${path}${query ? `?${query}` : ""}`,
          headers,
          ...(value.body === null ? {} : { body: value.body }),
        };
        const { answer } = await expectRefusalChangesNothing(
          () => send(stack, request),
          fourXX,
          `${request.method} ${request.path}`,
        );
        const context = `${request.method} ${request.path} ${value.body?.slice(0, 200)}: ${answer.text.slice(0, 300)}`;
        if (request.method === "HEAD") expect(answer.status, context).toBeLessThan(500);
        else expectClearAnswer(answer, context);
        // A method or path no route names is API Gateway's own 404 (its fixed body, checked
        // above), which invokes nothing. The route's own method with plain ids is never one:
        // it reaches the api function, which answers for itself.
        if (request.method === method && [value.id, value.actionId].every(plain)) {
          expect(fromGateway(answer) && answer.status === 404, context).toBe(false);
        }
      });
    },
    TIMEOUT,
  );
});

/** Whether refusals are being checked in bulk, by {@link refusingAll}. */
let inBulk = false;

/** Runs `request` and checks that it was refused with `status`, the JSON error shape, and no change. */
async function expectRefused(
  status: number | number[],
  request: () => Promise<Answer>,
  context: string,
): Promise<Answer> {
  const before = inBulk ? undefined : await stateOf(stack);
  const answer = await request();
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses, `${context}: ${answer.status} ${answer.text.slice(0, 300)}`).toContain(
    answer.status,
  );
  if (answer.headers["content-length"] !== "0") expectErrorShape(answer, context);
  if (before) {
    expect(await stateOf(stack), `${context}: a refused request changed state`).toEqual(before);
  }
  return answer;
}

/**
 * Many refusals, with the state compared once around all of them: none may change anything, so
 * the sum of their changes is none as well.
 */
async function refusingAll(context: string, refusals: () => Promise<void>): Promise<void> {
  const before = await stateOf(stack);
  inBulk = true;
  try {
    await refusals();
  } finally {
    inBulk = false;
  }
  expect(await stateOf(stack), `${context}: a refused request changed state`).toEqual(before);
}

const slackForm = (text: string, fields: Record<string, string> = {}) => {
  const form = new URLSearchParams(SLACK_FORM);
  form.set("text", text);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return form.toString();
};

describe("hostile: forged, stale and replayed Slack requests", () => {
  it("refuses them all with 401, and the incident they name stays as it was", async () => {
    const body = slackForm(`ack ${known.alarm}`);
    const now = Math.floor(Date.now() / 1000);
    const signed = slackHeaders(body);
    const signature = signed[2]?.[1] as string;
    const replaced = (name: string, value: string | null) =>
      signed.flatMap(
        ([header, old]): Array<[string, string]> =>
          header === name ? (value === null ? [] : [[header, value]]) : [[header, old]],
      );
    const forged: Array<[string, Array<[string, string]>, string]> = [
      ["wrong secret", slackHeaders(body, { secret: "an-attackers-guess-at-the-secret" }), body],
      ["another body's signature", slackHeaders(slackForm("list")), body],
      ["a signature for the body with another text", signed, slackForm(`resolve ${known.alarm}`)],
      // A request captured six minutes ago and sent again, byte for byte.
      ["replayed after 5 minutes", slackHeaders(body, { timestamp: now - 360 }), body],
      ["stale by one second past the window", slackHeaders(body, { timestamp: now - 301 }), body],
      ["from the future", slackHeaders(body, { timestamp: now + AHEAD }), body],
      ["no signature", replaced("x-slack-signature", null), body],
      ["no timestamp", replaced("x-slack-request-timestamp", null), body],
      ["an empty signature", replaced("x-slack-signature", ""), body],
      ["v1 scheme", replaced("x-slack-signature", signature.replace("v0=", "v1=")), body],
      [
        "upper-case hex",
        replaced("x-slack-signature", `v0=${signature.slice(3).toUpperCase()}`),
        body,
      ],
      ["truncated", replaced("x-slack-signature", signature.slice(0, -2)), body],
      ["trailing junk", replaced("x-slack-signature", `${signature}00`), body],
      ["timestamp in ms", replaced("x-slack-request-timestamp", String(Date.now())), body],
      ["timestamp as a float", replaced("x-slack-request-timestamp", `${now}.5`), body],
      ["timestamp in hex", replaced("x-slack-request-timestamp", `0x${now.toString(16)}`), body],
      ["negative timestamp", replaced("x-slack-request-timestamp", "-1"), body],
    ];
    await refusingAll("forged Slack requests", async () => {
      for (const [name, headers, sent] of forged) {
        await expectRefused(
          401,
          () => send(stack, { path: "/slack/commands", headers, body: sent }),
          `slack: ${name}`,
        );
      }
    });
    // The same request, correctly signed now, is taken: the refusals above were the signature's.
    const taken = await send(stack, { path: "/slack/commands", headers: slackHeaders(body), body });
    expect(taken.status).toBe(200);
    expect(JSON.parse(taken.text).text).toContain(known.alarm);
  });
});

describe("hostile: forged and missing Sentry signatures", () => {
  it("refuses them with 401 and queues nothing", async () => {
    const fixture = SENTRY_FIXTURES.find((candidate) => candidate.file === "issue-resolved.json");
    const body = fixture?.raw as string;
    const headers = (signature: string | null): Array<[string, string]> => [
      JSON_TYPE,
      ["sentry-hook-resource", "issue"],
      ["request-id", fixture?.requestId as string],
      ["sentry-hook-timestamp", String(Math.floor(Date.now() / 1000))],
      ...(signature === null ? [] : [["sentry-hook-signature", signature] as [string, string]]),
    ];
    const good = sentrySignature(body);
    const forged: Array<[string, string | null, string]> = [
      ["missing", null, body],
      ["empty", "", body],
      ["wrong secret", sentrySignature(body, "an-attackers-guess"), body],
      ["another body's", sentrySignature(SENTRY_FIXTURES[0]?.raw as string), body],
      ["the body re-serialised", good, JSON.stringify(JSON.parse(body), null, 2)],
      ["the body tampered", good, body.replace('"resolved"', '"unresolved"')],
      ["truncated", good.slice(0, 63), body],
      ["sha256= prefixed", `sha256=${good}`, body],
      ["not hex", "z".repeat(64), body],
      ["doubled", `${good}${good}`, body],
    ];
    await refusingAll("forged Sentry webhooks", async () => {
      for (const [name, signature, sent] of forged) {
        await expectRefused(
          401,
          () => send(stack, { path: "/webhooks/sentry", headers: headers(signature), body: sent }),
          `sentry: ${name}`,
        );
      }
    });
  });
});

describe("hostile: bearer tokens", () => {
  // The calendar feeds take their own token in the query (see the on-call suite).
  const routes = API_ROUTES.filter(
    ([, path]) => path !== "/openapi.json" && !path.endsWith(".ics"),
  );
  const pathOf = (template: string) =>
    template.replace("{id}", known.approval).replace("{actionId}", "a1");

  it("refuses missing, wrong and malformed tokens on every route with 401", async () => {
    const wrong: Array<[string, Array<[string, string]>]> = [
      ["none", []],
      ["empty", [["authorization", ""]]],
      ["the scheme alone", [["authorization", "Bearer"]]],
      ["the scheme and spaces", [["authorization", "Bearer     "]]],
      ["the token alone", [["authorization", TOKEN]]],
      ["a wrong token", [["authorization", "Bearer wrong-token-0123456789abcdef"]]],
      ["lower-case scheme, wrong token", [["authorization", "bearer wrong-token-0123456789ab"]]],
      ["one character short", [["authorization", `Bearer ${TOKEN.slice(0, -1)}`]]],
      ["one character more", [["authorization", `Bearer ${TOKEN}x`]]],
      ["upper-cased", [["authorization", `Bearer ${TOKEN.toUpperCase()}`]]],
      ["with a space inside", [["authorization", `Bearer ${TOKEN.slice(0, 8)} ${TOKEN.slice(8)}`]]],
      ["followed by a word", [["authorization", `Bearer ${TOKEN} admin`]]],
      ["quoted", [["authorization", `Bearer "${TOKEN}"`]]],
      ["another scheme", [["authorization", `Token ${TOKEN}`]]],
      ["basic", [["authorization", `Basic ${Buffer.from(`tests:${TOKEN}`).toString("base64")}`]]],
      ["two tokens in one header", [["authorization", `Bearer ${TOKEN}, Bearer ${TOKEN}`]]],
      [
        "two headers, the wrong one first",
        [
          ["authorization", "Bearer wrong-token-0123456789abcdef"],
          ["authorization", `Bearer ${TOKEN}`],
        ],
      ],
    ];
    await refusingAll("bearer tokens", async () => {
      for (const [method, template] of routes) {
        for (const [name, headers] of wrong) {
          const body =
            method === "POST" ? '{"text":"x","duration":"1h","matcher":"source=logs"}' : undefined;
          await expectRefused(
            401,
            () =>
              send(stack, {
                method,
                path: pathOf(template),
                headers: [...headers, JSON_TYPE],
                ...(body ? { body } : {}),
              }),
            `${method} ${template}: ${name}`,
          );
        }
      }
    });
  });

  it("takes a lower-case scheme and extra spaces, as RFC 7235 and RFC 6750 allow", async () => {
    for (const value of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer    ${TOKEN}`]) {
      const answer = await send(stack, { path: "/incidents", headers: [["authorization", value]] });
      expect(answer.status, value).toBe(200);
    }
  });
});

/** Every route that takes a body, and how to get past its signature. */
function postRoutes(body: string): Array<[string, Send]> {
  const id = known.approval;
  const api = (path: string): Send => ({ path, headers: [bearer(), JSON_TYPE], body });
  return [
    ["/local/events", { path: "/local/events?wait=true", headers: [JSON_TYPE], body }],
    [
      "/webhooks/sentry",
      {
        path: "/webhooks/sentry",
        headers: [
          JSON_TYPE,
          ["sentry-hook-resource", "issue"],
          sentryTimestampHeader(),
          ["sentry-hook-signature", sentrySignature(body)],
        ],
        body,
      },
    ],
    ["/slack/commands", { path: "/slack/commands", headers: slackHeaders(body), body }],
    ["acknowledge", api(`/incidents/${id}/acknowledge`)],
    ["resolve", api(`/incidents/${id}/resolve`)],
    ["notes", api(`/incidents/${id}/notes`)],
    ["approve", api(`/incidents/${id}/actions/a1/approve`)],
    ["silences", api("/silences")],
    ...FUNCTIONS.map((name): [string, Send] => [
      `invoke ${name}`,
      { path: `/2015-03-31/functions/${name}/invocations`, headers: [JSON_TYPE], body },
    ]),
  ];
}

describe("hostile: bodies over 256 KB", () => {
  it("are refused with 413 on every POST route, declared or streamed", async () => {
    const big = JSON.stringify({ padding: "x".repeat(256 * 1024) });
    await refusingAll("bodies over 256 KB", async () => {
      for (const [name, request] of postRoutes(big)) {
        await expectRefused(413, () => send(stack, request), `${name}, with Content-Length`);
        await expectRefused(
          413,
          () => send(stack, { ...request, chunked: true }),
          `${name}, chunked`,
        );
      }
    });
    // 256 KB exactly is still taken (and refused for what it is, not for its size).
    const limit = JSON.stringify({ padding: "x".repeat(256 * 1024 - 14) });
    expect(Buffer.byteLength(limit)).toBe(256 * 1024);
    const answer = await send(stack, { path: "/local/events", headers: [JSON_TYPE], body: limit });
    expect(answer.status).toBe(400);
  });
});

describe("hostile: JSON nested 10,000 levels deep", () => {
  const deep = [
    ["arrays", `${"[".repeat(10_000)}${"]".repeat(10_000)}`],
    ["objects", `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`],
  ] as const;

  it("is a 4xx on every JSON route, never a stack overflow", async () => {
    await refusingAll("deep JSON", async () => {
      for (const [kind, body] of deep) {
        for (const [name, request] of postRoutes(body)) {
          // Acknowledge and approve take no body and read none; the invoke API is the next test.
          if (/^(invoke|acknowledge|approve)/.test(name)) continue;
          await expectRefused([400, 401, 404, 415], () => send(stack, request), `${name}, ${kind}`);
        }
      }
    });
    await expectAlive(stack);
  });

  it("is refused inside an otherwise valid event or webhook, too", async () => {
    const nested = (raw: string, levels: number) =>
      raw.replace(/}\s*$/, `,"extra":${"[".repeat(levels)}${"]".repeat(levels)}}`);
    for (const name of [
      "cloudwatch/eventbridge-alarm.json",
      "cloudwatch/sns-https-notification.json",
      "cloudwatch/alarm-action.json",
      "logs/lambda-timeout.json",
    ]) {
      const body = nested(JSON.stringify(loadEvent(name)), 10_000);
      await expectRefused(
        400,
        () => send(stack, { path: "/local/events?wait=true", headers: [JSON_TYPE], body }),
        `/local/events ${name}`,
      );
    }
    const sentry = SENTRY_FIXTURES.find((candidate) => candidate.file === "error-created.json");
    const body = nested(sentry?.raw as string, 10_000);
    await expectRefused(
      400,
      () =>
        send(stack, {
          path: "/webhooks/sentry",
          headers: [
            JSON_TYPE,
            ["sentry-hook-resource", "error"],
            sentryTimestampHeader(),
            ["sentry-hook-signature", sentrySignature(body)],
          ],
          body,
        }),
      "sentry",
    );
  });

  it("makes every function fail as Lambda reports it (a deliberate error), or answer 4xx", async () => {
    const before = await stateOf(stack);
    for (const [kind, body] of deep) {
      for (const name of FUNCTIONS) {
        const answer = await send(stack, {
          path: `/2015-03-31/functions/${name}/invocations`,
          headers: [JSON_TYPE],
          body,
        });
        const context = `invoke ${name} ${kind}: ${answer.text.slice(0, 200)}`;
        expect(answer.status, context).toBe(200);
        if (answer.headers["x-amz-function-error"]) {
          expect(DELIBERATE, context).toContain(JSON.parse(answer.text).errorType);
        } else {
          expect(HTTP_FUNCTIONS.has(name), context).toBe(true);
          expect([400, 401], context).toContain(JSON.parse(answer.text).statusCode);
        }
      }
    }
    expect(await stateOf(stack)).toEqual(before);
  });
});

describe("hostile: a response_url that is not Slack's", () => {
  it("is never posted to, whatever the approval does", async () => {
    const elsewhere = [
      "https://evil.example/commands/1",
      "http://hooks.slack.com/commands/1",
      "https://hooks.slack.com.evil.example/commands/1",
      "https://hooks.slack.com@evil.example/commands/1",
      "https://evil.example/?u=https://hooks.slack.com/",
      "https://evil.example/#https://hooks.slack.com/",
      "https://hooks.slack.com:8443/commands/1",
      "https://xn--hooks-slck-xyz.com/commands/1",
      "https://127.0.0.1/commands/1",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "//hooks.slack.com/commands/1",
      "hooks.slack.com/commands/1",
      " https://hooks.slack.com/commands/1",
      "https://hooks%2eslack%2ecom/commands/1",
    ];
    // One incident waiting for approval per URL, all opened at once, all approved, then settled.
    const { incidents } = await client(stack).deliver(
      elsewhere.map((_, index) => writerDown(`url-${index}`)),
    );
    expect(incidents).toHaveLength(elsewhere.length);
    for (const [index, responseUrl] of elsewhere.entries()) {
      const body = slackForm(`approve ${incidents[index]} a1`, { response_url: responseUrl });
      const answer = await send(stack, {
        path: "/slack/commands",
        headers: slackHeaders(body),
        body,
      });
      expect(answer.status, responseUrl).toBe(200);
      expect(JSON.parse(answer.text).text, responseUrl).toContain("approved");
    }
    await settled(stack);
    const posted = stack.outbox.slackResponses.map((reply) => reply.responseUrl);
    for (const url of posted) expect(url).toMatch(/^https:\/\/hooks\.slack\.com\//);
    for (const url of elsewhere) expect(posted).not.toContain(url);
    // Slack's own URL is followed: the refusals above are the URL check's doing.
    const id = (await client(stack).deliver(writerDown("url-slack"))).incidents[0] as string;
    const good = "https://hooks.slack.com/commands/T0001/1/hostile-test";
    const body = slackForm(`approve ${id} a1`, { response_url: good });
    expect(
      (await send(stack, { path: "/slack/commands", headers: slackHeaders(body), body })).status,
    ).toBe(200);
    await settled(stack);
    expect(stack.outbox.slackResponses.map((reply) => reply.responseUrl)).toContain(good);
  });
});

describe("hostile: paths outside the console's files", () => {
  it("are not found, and never serve a file from elsewhere", async () => {
    const paths = [
      "/../package.json",
      "/assets/../../package.json",
      "/assets/../../../package.json",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/assets/..\\..\\package.json",
      "/assets/....//....//package.json",
      "/assets/%00../../package.json",
      "/assets/../../../../../../etc/passwd",
      "/assets/%252e%252e/%252e%252e/package.json",
      "/favicon.svg/../../package.json",
      "//etc/passwd",
      "/assets/",
      "/assets/..",
      "/assets/../..",
    ];
    const index = await send(stack, { path: "/" });
    expect(index.status).toBe(200);
    await refusingAll("path traversal", async () => {
      for (const path of paths) {
        const answer = await send(stack, { path });
        expect(answer.text, path).not.toMatch(/"workspaces"|"devDependencies"|root:x:0:0/);
        // Either the console's own page (`/assets/..` is `/`), or, for a path that is not one
        // of its files, the deployed HTTP API's answer: no route names it, so API Gateway's
        // own 404, whose fixed body echoes none of the path.
        if (answer.status === 200) {
          expect(answer.headers["content-type"], path).toMatch(/^text\/html/);
          expect(answer.text, path).toBe(index.text);
        } else expectGatewayRefusal(answer, path, 404);
      }
    });
  });
});

describe("hostile: absurd query values", () => {
  it("are a 400 naming the parameter", async () => {
    const cases: Array<[string, string]> = [
      ["/incidents?limit=1e309", "limit"],
      ["/incidents?limit=-1", "limit"],
      ["/incidents?limit=1.5", "limit"],
      ["/incidents?limit=NaN", "limit"],
      ["/incidents?limit=%00", "limit"],
      ["/incidents?limit=99999999999999999999999", "limit"],
      ["/incidents?limit=1&limit=2", "limit"],
      ["/incidents?since=9999999-01-01T00:00:00Z", "since"],
      ["/incidents?since=2024-02-30T00:00:00Z", "since"],
      ["/incidents?since=2024-01-01T25:00:00Z", "since"],
      ["/incidents?since=1700000000", "since"],
      ["/incidents?until=-271821-04-20T00:00:00Z", "until"],
      ["/incidents?until=%E0%A4%A", "until"],
      ["/incidents?status=%0d%0aX-Injected:%20yes", "status"],
      ["/incidents?severity=__proto__", "severity"],
      ["/incidents?source=constructor", "source"],
      [`/incidents?cursor=${"A".repeat(3000)}`, "cursor"],
      ["/incidents?cursor=eyJwayI6eyJTIjoiSU5DIn19", "cursor"],
      [`/incidents?${"x".repeat(40)}=1`, "x"],
      ["/reports/summary?since=9999999-12-31T00:00:00Z", "since"],
      ["/reports/summary?until=not-a-date", "until"],
    ];
    await refusingAll("absurd queries", async () => {
      for (const [path, parameter] of cases) {
        const answer = await expectRefused(
          400,
          () => send(stack, { path, headers: [bearer()] }),
          path,
        );
        expect(JSON.parse(answer.text).error.message, path).toContain(parameter);
      }
    });
  });
});

describe("hostile: odd HTTP methods", () => {
  it("are refused (API Gateway's 404, the local routes' 405) on every route, never a 5xx, and change nothing", async () => {
    // The local stack's own POST routes answer any other method themselves, in Firebreak's
    // error shape.
    const localPost = ["/local/events", "/2015-03-31/functions/ingest/invocations"];
    // Everything else is the deployed HTTP API's (the local GET routes and the console included:
    // what the stack does not serve itself goes to it). API Gateway routes on method and path,
    // so a method no route names for the path is its own 404 with a fixed body, answered before
    // any function runs: no 405, and no 401 either (the token is the api function's check).
    // An OPTIONS without Origin is no CORS preflight, so CORS does not answer it either.
    const pathOf = (template: string) =>
      template.replace("{id}", known.alarm).replace("{actionId}", "a1");
    // A method a route names for the path (DELETE /silences/{id}, PATCH /incidents/{id}) is not odd.
    const routed = new Set(API_ROUTES.map(([method, template]) => `${method} ${pathOf(template)}`));
    const gateway = [
      "/health",
      "/",
      "/local/queue",
      "/local/outbox",
      "/local/aws",
      "/local/metrics",
      "/webhooks/sentry",
      "/slack/commands",
      "/openapi.json",
      ...API_ROUTES.map(([, template]) => pathOf(template)),
    ];
    const methods = [
      "PUT",
      "PATCH",
      "OPTIONS",
      "TRACE",
      "PROPFIND",
      "MKCOL",
      "LOCK",
      "PURGE",
      "DELETE",
      "HEAD",
    ];
    await refusingAll("odd methods", async () => {
      for (const path of [...localPost, ...gateway]) {
        for (const method of methods) {
          if (routed.has(`${method} ${path}`)) continue;
          const answer = await send(stack, { method, path, headers: [bearer()] });
          const context = `${method} ${path}: ${answer.text.slice(0, 200)}`;
          const local = localPost.includes(path);
          expect(answer.status, context).toBe(local ? 405 : 404);
          // A HEAD answer has no body to check.
          if (method === "HEAD") continue;
          if (local) expectErrorShape(answer, context);
          else expectGatewayRefusal(answer, context, 404);
        }
      }
    });
    // A method Node's parser does not know never reaches the stack: a bare 400, and it lives on.
    const unknown = await send(stack, {
      method: "FOO",
      path: "/incidents",
      headers: [bearer()],
    }).catch(() => ({ status: 400 }) as Answer);
    expect(unknown.status).toBe(400);
    await expectAlive(stack);
  });
});

describe("hostile: patterns that backtrack", () => {
  // Nested repetition takes a backtracking engine exponential time on a near miss; silences
  // match on a linear-time engine (RE2), so such patterns are taken (the API and Slack make
  // silences in one place), and a line that nearly matches all of them is processed like any
  // other. A stall would hold this test past its timeout (and, in AWS, every batch after it).
  it("are taken as silences and matched in linear time, and a glob with many stars stays fast", async () => {
    const list = async () =>
      (
        JSON.parse((await send(stack, { path: "/silences", headers: [bearer()] })).text) as {
          items: Array<{ id: string }>;
        }
      ).items.map(({ id }) => id);
    const existing = new Set(await list());
    for (const matcher of ["message=(a+)+$", "message=(\\w*\\s?)*x", "message=((ab)*)+c"]) {
      const created = await send(stack, {
        path: "/silences",
        headers: [bearer(), JSON_TYPE],
        body: JSON.stringify({ matcher, duration: "1h" }),
      });
      expect(created.status, `${matcher}: ${created.text.slice(0, 300)}`).toBe(201);
    }
    const nearMiss = `ERROR ${"a".repeat(40)}! ${"ab".repeat(20)}!`;
    const delivered = await send(stack, {
      path: "/local/events?wait=true",
      headers: [JSON_TYPE],
      body: JSON.stringify(logsEvent(nearMiss)),
    });
    expect(delivered.status, delivered.text).toBe(200);
    const { deadLettered } = JSON.parse(delivered.text) as { deadLettered?: number };
    expect(deadLettered, "the near miss was processed").toBeUndefined();
    // The silences made here go, for the next tests.
    const made = (await list()).filter((id) => !existing.has(id));
    expect(made).toHaveLength(3);
    for (const id of made) {
      const deleted = await send(stack, {
        method: "DELETE",
        path: `/silences/${id}`,
        headers: [bearer()],
      });
      expect(deleted.status).toBe(200);
    }

    // A star-heavy glob against a long alarm name: a RegExp would backtrack for minutes, far
    // past the test's timeout.
    const glob = `alarmName=${"*a".repeat(30)}b`;
    const created = await send(stack, {
      path: "/silences",
      headers: [bearer(), JSON_TYPE],
      body: JSON.stringify({ matcher: glob, duration: "1h", reason: "hostile test" }),
    });
    expect(created.status).toBe(201);
    const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
      id: string;
      resources: string[];
      detail: { alarmName: string };
    };
    event.id = "backtrack-1";
    event.detail.alarmName = "a".repeat(200);
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${event.detail.alarmName}`];
    expect((await client(stack).deliver(event)).incidents).toHaveLength(1);
    expect((await send(stack, { path: "/incidents?limit=200", headers: [bearer()] })).status).toBe(
      200,
    );
    const { id } = JSON.parse(created.text) as { id: string };
    expect(
      (await send(stack, { method: "DELETE", path: `/silences/${id}`, headers: [bearer()] }))
        .status,
    ).toBe(200);
  });
});

/** Where Node alone would differ from API Gateway and Lambda, the local stack does as AWS does. */
describe("hostile: the local stack answers as API Gateway and Lambda would", () => {
  // Node keeps the first of two Authorization headers; API Gateway joins them with a comma,
  // which no token matches.
  it("refuses two Authorization headers, even with the right token first", async () => {
    await expectRefused(
      401,
      () =>
        send(stack, {
          path: "/incidents",
          headers: [
            ["authorization", `Bearer ${TOKEN}`],
            ["authorization", "Bearer wrong-token-0123456789abcdef"],
          ],
        }),
      "two Authorization headers",
    );
  });

  // On a plain object `__proto__=1` would set a prototype, not a key, and the strict query
  // schema would never see it.
  it("refuses __proto__ as an unknown query parameter", async () => {
    const answer = await expectRefused(
      400,
      () => send(stack, { path: "/incidents?__proto__=1", headers: [bearer()] }),
      "__proto__ query",
    );
    expect(JSON.parse(answer.text).error.message).toContain("__proto__");
  });

  it("answers what Node refuses before routing in the JSON error shape", async () => {
    const unknownMethod = await send(stack, { method: "FOO", path: "/incidents" });
    expect(unknownMethod.status).toBe(400);
    expectErrorShape(unknownMethod, "unknown method");
    const hugeHeaders = await send(stack, {
      path: "/incidents",
      headers: [["x-padding", "x".repeat(20_000)]],
    });
    expect(hugeHeaders.status).toBe(431);
    expectErrorShape(hugeHeaders, "headers over 16 KB");
  });

  // A path no route names is API Gateway's 404, whose fixed body echoes none of it; a path that
  // reaches a function is answered in Firebreak's shape, with whatever it echoes clipped.
  it("keeps its 404s short, however long the path", async () => {
    const long = "x".repeat(5_000);
    for (const path of [`/nowhere/${long}`, `/local/${long}`, `/incidents/${long}/${long}`]) {
      expectGatewayRefusal(await send(stack, { path }), path.slice(0, 30), 404);
    }
    const unknown = await send(stack, { path: `/incidents/${long}`, headers: [bearer()] });
    expect([400, 404], unknown.text.slice(0, 300)).toContain(unknown.status);
    expectErrorShape(unknown, "long incident id");
    expect(unknown.text.length).toBeLessThan(long.length);
  });

  // Object.prototype's members are not functions to invoke, and a malformed escape in the name
  // is an unknown function, not a crash.
  it("answers 404 for function names that are not functions", async () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "%E0%A4%A"]) {
      const answer = await send(stack, {
        path: `/2015-03-31/functions/${name}/invocations`,
        headers: [JSON_TYPE],
        body: "{}",
      });
      expect(answer.status, `${name}: ${answer.text}`).toBe(404);
      expect(answer.headers["x-amzn-errortype"], name).toBe("ResourceNotFoundException");
    }
  });
});
