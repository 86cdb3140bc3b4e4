import type { ConfigInput, Logger } from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LocalStack } from "../src/stack";
import { startTestStack } from "./helpers";
import {
  type Answer,
  JSON_TYPE,
  type Send,
  send,
  sentrySignature,
  settled,
  slackHeaders,
} from "./hostile/harness";

// Every secret carries the marker, so a scan for it also finds a secret cut short, or one
// echoed back with a character changed.
const MARKER = /s3cret/i;
const SECRETS = {
  apiToken: "tok3n-S3CRET-api-4f1d9e2b7c6a",
  sentryClientSecret: "sentry-S3CRET-8c1e5a9d0b",
  slackSigningSecret: "slack-S3CRET-2b7f0d4e1a",
  pagerDutyKey: "pdS3CRETrouting0key0000000000000",
  slackWebhook: "https://hooks.slack.com/services/T0S3CRET/B0S3CRET/webhookS3CRETpath",
  literalPagerDutyKey: "pdS3CRETliteral00key000000000000",
  literalWebhook: "https://hooks.slack.com/services/TLIT/BLIT/literalS3CRETpath",
} as const;
const ENV = {
  FIREBREAK_TEST_PD_KEY: SECRETS.pagerDutyKey,
  FIREBREAK_TEST_SLACK_HOOK: SECRETS.slackWebhook,
  // The most a deployer might turn on: every debug line, and Powertools logging each event.
  POWERTOOLS_LOG_LEVEL: "DEBUG",
  POWERTOOLS_LOGGER_LOG_EVENT: "true",
};

const RESPONDER = "U2147483697";
const CONFIG: ConfigInput = {
  rules: [
    {
      name: "writer-down",
      match: { source: "cloudwatch", alarmName: "*-writer-down" },
      severity: "critical",
      actions: [
        { type: "failover", target: { kind: "rds-cluster", clusterId: "orders-db" } },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "latency",
      match: { source: "cloudwatch" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "api" },
          by: 2,
          max: 10,
        },
        { type: "page", channel: "oncall" },
        { type: "page", channel: "literal" },
      ],
    },
    {
      name: "everything",
      match: {},
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: {
    oncall: {
      sns: "arn:aws:sns:us-east-1:123456789012:oncall",
      slackWebhook: "env:FIREBREAK_TEST_SLACK_HOOK",
      pagerduty: { routingKey: "env:FIREBREAK_TEST_PD_KEY" },
    },
    literal: {
      slackWebhook: SECRETS.literalWebhook,
      pagerduty: { routingKey: SECRETS.literalPagerDutyKey },
    },
  },
  responders: [RESPONDER],
  escalation: { repeatAfter: "1m", maxRepeats: 2, channels: ["oncall", "literal"] },
  safety: { cooldown: "1s", maxActionsPerHour: 1000 },
};

/** Everything the stack wrote or answered during the test, to be scanned. */
const seen: string[] = [];
const record = (where: string, text: unknown) => {
  seen.push(`${where}: ${typeof text === "string" ? text : JSON.stringify(text)}`);
};

const capturingLogger: Logger = {
  debug: (message, ...extra) => record("log.debug", `${message} ${JSON.stringify(extra)}`),
  info: (message, ...extra) => record("log.info", `${message} ${JSON.stringify(extra)}`),
  warn: (message, ...extra) => record("log.warn", `${message} ${JSON.stringify(extra)}`),
  error: (message, ...extra) => record("log.error", `${message} ${JSON.stringify(extra)}`),
};

let stack: LocalStack;
const saved: Record<string, string | undefined> = {};
const spies: Array<{ mockRestore(): void }> = [];

beforeAll(async () => {
  for (const [name, value] of Object.entries(ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  // The handlers' Powertools JSON lines go to the process's streams; the stack's own to `logger`.
  // Kept, not printed: at DEBUG with every event logged they would bury the test's report.
  for (const stream of [process.stdout, process.stderr]) {
    spies.push(
      vi.spyOn(stream, "write").mockImplementation(((chunk: unknown) => {
        record(stream === process.stdout ? "stdout" : "stderr", String(chunk));
        return true;
      }) as typeof stream.write),
    );
  }
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    spies.push(
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        record(
          `console.${method}`,
          args.map((arg) => (arg instanceof Error ? arg.stack : arg)),
        );
      }),
    );
  }
  stack = await startTestStack({
    configInput: CONFIG,
    secrets: {
      apiTokens: [{ name: "ops", token: SECRETS.apiToken }],
      sentryClientSecret: SECRETS.sentryClientSecret,
      slackSigningSecret: SECRETS.slackSigningSecret,
    },
    intervals: { escalationsMs: 100 },
    logger: capturingLogger,
  });
});

afterAll(async () => {
  await stack?.stop();
  for (const spy of spies) spy.mockRestore();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Sends, and keeps the whole answer (status, headers, body) for the scan. */
async function call(request: Send): Promise<Answer> {
  const answer = await send(stack, request);
  record(`${request.method ?? "GET"} ${request.path}`, {
    status: answer.status,
    headers: answer.headers,
    body: answer.text,
  });
  return answer;
}

const auth = (token: string = SECRETS.apiToken): [string, string] => [
  "authorization",
  `Bearer ${token}`,
];
const api = (path: string, method = "GET", body?: unknown, token?: string) =>
  call({
    method,
    path,
    headers: [auth(token), JSON_TYPE],
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

function alarm(name: string, namespace = "AWS/ApplicationELB") {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: {
      alarmName: string;
      configuration: { metrics: Array<{ metricStat: { metric: { namespace: string } } }> };
    };
  };
  event.id = `${name}-${Math.random()}`;
  event.detail.alarmName = name;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  const metric = event.detail.configuration.metrics[0];
  if (metric) metric.metricStat.metric.namespace = namespace;
  return event;
}

async function deliver(event: unknown): Promise<string[]> {
  const answer = await call({
    path: "/local/events?wait=true",
    headers: [JSON_TYPE],
    body: JSON.stringify(event),
  });
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.text) as { incidents: string[] }).incidents;
}

const slackForm = (text: string, fields: Record<string, string> = {}) => {
  const form = new URLSearchParams(loadRawEvent("slack/command.form.txt").trim());
  form.set("text", text);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return form.toString();
};

const slack = (body: string, options: { secret?: string; timestamp?: number } = {}) =>
  call({ path: "/slack/commands", headers: slackHeaders(body, options), body });

function sentry(file: string, signature?: string | null, body = loadRawEvent(`sentry/${file}`)) {
  const headers = loadEvent("sentry/headers.json") as Record<string, Record<string, string>>;
  return call({
    path: "/webhooks/sentry",
    headers: [
      JSON_TYPE,
      ["sentry-hook-resource", headers[file]?.["Sentry-Hook-Resource"] ?? "issue"],
      ["request-id", headers[file]?.["Request-ID"] ?? ""],
      ["sentry-hook-timestamp", String(Math.floor(Date.now() / 1000))],
      ...(signature === null
        ? []
        : [
            [
              "sentry-hook-signature",
              signature ?? sentrySignature(body, SECRETS.sentryClientSecret),
            ] as [string, string],
          ]),
    ],
    body,
  });
}

describe("secrets never appear in logs, errors or reports", () => {
  it("drives every ingress, failures included, and finds no secret anywhere", async () => {
    // Incidents with pages (SNS, Slack, PagerDuty on both channels), remediation, approvals.
    const [latency] = await deliver(alarm("api-latency"));
    const [writer] = await deliver(alarm("orders-writer-down", "AWS/RDS"));
    const [logs] = await deliver(loadEvent("logs/lambda-errors-json.json"));
    await deliver([
      loadEvent("cloudwatch/sns-https-notification.json"),
      loadEvent("logs/control-message.json"),
    ]);
    expect(
      (await call({ path: "/local/events", headers: [JSON_TYPE], body: "{nope" })).status,
    ).toBe(400);
    expect(
      (await call({ path: "/local/events", headers: [JSON_TYPE], body: '{"hello":1}' })).status,
    ).toBe(400);
    expect(
      (await call({ path: "/local/events", headers: [JSON_TYPE], body: "x".repeat(300_000) }))
        .status,
    ).toBe(413);

    // Sentry: accepted, unsigned, forged, signed but invalid.
    expect((await sentry("event-alert-triggered.json")).status).toBe(202);
    expect((await sentry("issue-created.json", null)).status).toBe(401);
    expect((await sentry("issue-created.json", sentrySignature("x", "guess"))).status).toBe(401);
    const invalid = '{"action":"created","data":{}}';
    expect(
      (
        await sentry(
          "issue-created.json",
          sentrySignature(invalid, SECRETS.sentryClientSecret),
          invalid,
        )
      ).status,
    ).toBe(400);

    // Slack: every subcommand, a stranger refused, forged and stale signatures, a bad form.
    const secret = SECRETS.slackSigningSecret;
    for (const text of [
      "help",
      "list",
      `show ${latency}`,
      `ack ${latency}`,
      `note ${latency} looking`,
      `approve ${writer} a1`,
      "silence alarmName=maint-* 1h upgrade",
      "unsilence S00000",
      `resolve ${logs} fixed`,
      "nonsense",
    ]) {
      expect((await slack(slackForm(text), { secret })).status, text).toBe(200);
    }
    expect(
      (await slack(slackForm(`ack ${writer}`, { user_id: "U0STRANGER" }), { secret })).status,
    ).toBe(200);
    expect((await slack(slackForm("list"), { secret: "slack-guess" })).status).toBe(401);
    expect((await slack(slackForm("list"), { secret, timestamp: 1 })).status).toBe(401);
    expect((await slack("team_id=T1", { secret })).status).toBe(400);

    // The API: every route, with the token, without, with a wrong one and a near miss.
    for (const path of [
      "/incidents",
      `/incidents/${latency}`,
      `/incidents/${writer}`,
      "/reports/summary",
      "/silences",
      "/openapi.json",
      "/incidents?limit=0",
      "/incidents/ZZZZZZZ",
      "/nowhere",
    ]) {
      await api(path);
    }
    for (const token of [
      "wrong-token-0123456789abcdef",
      SECRETS.apiToken.slice(0, -1),
      `${SECRETS.apiToken}x`,
    ]) {
      expect((await api("/incidents", "GET", undefined, token)).status).toBe(401);
      expect(
        (await api(`/incidents/${latency}/acknowledge`, "POST", undefined, token)).status,
      ).toBe(401);
    }
    expect(
      (await call({ path: "/incidents", headers: [["authorization", SECRETS.apiToken]] })).status,
    ).toBe(401);
    await api(`/incidents/${writer}/acknowledge`, "POST");
    await api(`/incidents/${writer}/notes`, "POST", { text: "note" });
    await api(`/incidents/${writer}/notes`, "POST", { colour: "red" });
    await api(`/incidents/${writer}/actions/a1/approve`, "POST");
    const created = await api("/silences", "POST", {
      matcher: "alarmName=quiet-*",
      duration: "1h",
    });
    await api(`/silences/${(JSON.parse(created.text) as { id: string }).id}`, "DELETE");
    await api("/incidents", "PUT");

    // The Lambda invoke API: results, function errors, an async invocation that fails.
    await call({
      path: "/2015-03-31/functions/ingest/invocations",
      headers: [JSON_TYPE],
      body: loadRawEvent("logs/lambda-timeout.json"),
    });
    for (const name of [
      "ingest",
      "process",
      "dispatch",
      "api",
      "slack",
      "sentry-webhook",
      "nope",
    ]) {
      await call({
        path: `/2015-03-31/functions/${name}/invocations`,
        headers: [JSON_TYPE],
        body: '{"hello":1}',
      });
    }
    await call({
      path: "/2015-03-31/functions/ingest/invocations",
      headers: [JSON_TYPE, ["x-amz-invocation-type", "Event"]],
      body: "[]",
    });

    // Let pages, remediation, follow-ups and an escalation pass or two run, then read it all.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await settled(stack);
    const ids = (
      JSON.parse((await api("/incidents?limit=200")).text) as { items: Array<{ id: string }> }
    ).items.map((incident) => incident.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) {
      await api(`/incidents/${id}`);
      await call({ path: `/incidents/${id}/postmortem`, headers: [auth()] });
      await call({
        path: `/incidents/${id}/postmortem`,
        headers: [auth(), ["accept", "application/json"]],
      });
    }
    for (const path of [
      "/local/outbox",
      "/local/aws",
      "/local/metrics",
      "/local/queue",
      "/health",
      "/",
    ]) {
      await call({ path, headers: [auth()] });
    }

    // The scan is only as good as what it saw: pages went out, handlers logged, errors happened.
    const everything = seen.join("\n");
    expect(stack.outbox.entries.length).toBeGreaterThan(0);
    expect(stack.outbox.slackResponses.length).toBeGreaterThan(0);
    expect(everything).toContain('"level":"WARN"');
    expect(everything).toContain("slack request refused");
    expect(everything).toContain("invalid bearer token");
    expect(everything).toContain("PAGE");

    for (const [name, value] of Object.entries(SECRETS)) {
      const leaks = seen.filter((line) => line.includes(value));
      expect(leaks, `${name} leaked`).toEqual([]);
    }
    expect(seen.filter((line) => MARKER.test(line)).map((line) => line.slice(0, 400))).toEqual([]);
  }, 120_000); // a whole tour of every ingress, each delivery waiting for its batch
});
