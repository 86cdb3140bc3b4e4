import { createHmac, randomUUID } from "node:crypto";
import { DynamoDbReplayGuard } from "@firebreak/aws";
import type { SlackMessage } from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";
import type { LocalStack } from "../src/stack";
import {
  type Client,
  client,
  drained,
  SENTRY_SECRET,
  SLACK_SECRET,
  startTestStack,
} from "./helpers";

// Replays of signed requests: a captured request sent again, as it was (Slack) or with the
// headers its signature does not cover changed (Sentry's Request-ID and hook timestamp).

let stack: LocalStack;
let api: Client;

beforeAll(async () => {
  stack = await startTestStack();
  api = client(stack);
});
afterAll(() => stack.stop());

/** One of the shipped policy's responders, who may change incidents and silences. */
const RESPONDER = "U0000000001";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A signed slash command: the exact bytes an attacker who captured it can send again. */
function slackRequest(text: string, timestamp = nowSeconds()) {
  const form = new URLSearchParams(loadRawEvent("slack/command.form.txt"));
  form.set("text", text);
  form.set("user_id", RESPONDER);
  const body = form.toString();
  const signature = `v0=${createHmac("sha256", SLACK_SECRET).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return {
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": signature,
    },
    body,
  };
}

async function sendSlack(request: ReturnType<typeof slackRequest>): Promise<SlackMessage> {
  const response = await fetch(`${stack.url}/slack/commands`, { method: "POST", ...request });
  expect(response.status).toBe(200);
  return (await response.json()) as SlackMessage;
}

const ALREADY_HANDLED = ":information_source: This request was already handled. Nothing changed.";

/** Opens an incident from the EventBridge alarm fixture under another alarm name. */
async function openIncident(alarmName: string): Promise<string> {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    resources: string[];
    detail: { alarmName: string };
  };
  event.id = randomUUID();
  event.detail.alarmName = alarmName;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  const { incidents } = await api.deliver(event);
  expect(incidents).toHaveLength(1);
  return incidents[0] as string;
}

describe("Slack: a signed request replayed within its 5-minute window", () => {
  it("adds one note for a note sent three times, one after the other", async () => {
    const id = await openIncident("replay-note-latency");
    const request = slackRequest(`note ${id} restarted the writer`);
    const first = await sendSlack(request);
    expect(first.response_type).toBe("in_channel");
    for (const copy of [1, 2]) {
      const replay = await sendSlack(request);
      expect(replay, `copy ${copy}`).toMatchObject({
        response_type: "ephemeral",
        text: ALREADY_HANDLED,
      });
    }
    const notes = (await api.incident(id)).timeline.filter((entry) => entry.type === "note");
    expect(notes).toHaveLength(1);
  });

  it("adds one note for three copies sent at once", async () => {
    const id = await openIncident("replay-note-concurrent");
    const request = slackRequest(`note ${id} failing over by hand`);
    const answers = await Promise.all([1, 2, 3].map(() => sendSlack(request)));
    expect(answers.filter((answer) => answer.text === ALREADY_HANDLED)).toHaveLength(2);
    const notes = (await api.incident(id)).timeline.filter((entry) => entry.type === "note");
    expect(notes).toHaveLength(1);
  });

  it("makes one silence for a silence sent twice", async () => {
    const matcher = `alarmName=replay-silence-${randomUUID().slice(0, 8)}-*`;
    const request = slackRequest(`silence ${matcher} 1h maintenance`);
    expect((await sendSlack(request)).response_type).toBe("in_channel");
    expect(await sendSlack(request)).toMatchObject({ text: ALREADY_HANDLED });
    const silences = (await (await api.get("/silences")).json()) as {
      items: Array<{ id: string; matcher: string }>;
    };
    expect(silences.items.filter((silence) => silence.matcher === matcher)).toHaveLength(1);
  });

  it("answers a list once, and its copies, one after the other or at once, already handled", async () => {
    // A command that changes nothing is answered while its claim is written: the claim still
    // decides which copy gets the answer.
    const id = await openIncident("replay-list");
    const request = slackRequest("list", nowSeconds() - 1);
    const first = await sendSlack(request);
    expect(first.response_type).toBe("ephemeral");
    expect(JSON.stringify(first.blocks)).toContain(id);
    expect(await sendSlack(request)).toMatchObject({ text: ALREADY_HANDLED });

    const sentTwice = slackRequest("list", nowSeconds());
    const answers = await Promise.all([1, 2].map(() => sendSlack(sentTwice)));
    expect(answers.filter((answer) => answer.text === ALREADY_HANDLED)).toHaveLength(1);
    const answered = answers.find((answer) => answer.text !== ALREADY_HANDLED);
    expect(JSON.stringify(answered?.blocks)).toContain(id);
  });

  it("still applies the same command typed again: a new timestamp is a new request", async () => {
    const id = await openIncident("replay-note-retyped");
    const text = `note ${id} still degraded`;
    expect((await sendSlack(slackRequest(text, nowSeconds() - 1))).response_type).toBe(
      "in_channel",
    );
    expect((await sendSlack(slackRequest(text, nowSeconds()))).response_type).toBe("in_channel");
    const notes = (await api.incident(id)).timeline.filter((entry) => entry.type === "note");
    expect(notes).toHaveLength(2);
  });
});

/** A Sentry fixture as another issue (or alert rule), so each test has its own incident. */
function sentryBody(file: string): { body: string; resource: string; fingerprint: string } {
  const headers = loadEvent("sentry/headers.json") as Record<string, Record<string, string>>;
  const resource = headers[file]?.["Sentry-Hook-Resource"] as string;
  const payload = JSON.parse(loadRawEvent(`sentry/${file}`)) as {
    data: {
      event?: { event_id: string; issue_id: string };
      issue?: { id: string };
      metric_alert?: { id: string; alert_rule: { id: string } };
    };
  };
  const unique = String(Date.now() * 1000 + Math.floor(Math.random() * 1000));
  const { event, issue, metric_alert } = payload.data;
  if (event) {
    event.event_id = randomUUID().replaceAll("-", "");
    event.issue_id = unique;
  }
  if (issue) issue.id = unique;
  if (metric_alert) metric_alert.alert_rule.id = unique;
  const fingerprint = metric_alert ? `sentry:metric-alert:${unique}` : `sentry:issue:${unique}`;
  return { body: JSON.stringify(payload), resource, fingerprint };
}

async function sendSentry(
  webhook: { body: string; resource: string },
  headers: { requestId?: string; timestamp?: number } = {},
) {
  return fetch(`${stack.url}/webhooks/sentry`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "sentry-hook-resource": webhook.resource,
      "request-id": headers.requestId ?? randomUUID().replaceAll("-", ""),
      "sentry-hook-timestamp": String(headers.timestamp ?? nowSeconds()),
      "sentry-hook-signature": createHmac("sha256", SENTRY_SECRET)
        .update(webhook.body)
        .digest("hex"),
    },
    body: webhook.body,
  });
}

async function incidentOf(fingerprint: string) {
  await drained(stack);
  const page = (await (await api.get("/incidents?source=sentry&limit=100")).json()) as {
    items: Array<{ id: string; fingerprint: string; count: number; status: string }>;
  };
  return page.items.filter((item) => item.fingerprint === fingerprint);
}

describe("Sentry: Request-ID and Sentry-Hook-Timestamp are not signed", () => {
  it.each(["event-alert-triggered.json", "issue-created.json", "metric-alert-critical.json"])(
    "counts %s once when replayed with a new Request-ID and a fresh timestamp",
    async (file) => {
      const webhook = sentryBody(file);
      expect((await sendSentry(webhook, { timestamp: nowSeconds() - 120 })).status).toBe(202);
      expect(await incidentOf(webhook.fingerprint)).toMatchObject([{ count: 1 }]);
      // What a replay can change: the unsigned headers. Still accepted (it is signed), not counted.
      const replay = await sendSentry(webhook, {
        requestId: randomUUID().replaceAll("-", ""),
        timestamp: nowSeconds(),
      });
      expect(replay.status).toBe(202);
      expect(await incidentOf(webhook.fingerprint)).toMatchObject([{ count: 1 }]);
    },
  );

  it.each([
    ["24 h ahead", 86_400],
    ["25 h old", -90_000],
  ])("refuses a hook timestamp %s with 401 and changes nothing", async (_, offset) => {
    const webhook = sentryBody("event-alert-triggered.json");
    const sentBefore = stack.queue.stats().sent;
    const response = await sendSentry(webhook, { timestamp: nowSeconds() + offset });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        code: "unauthorized",
        message: "stale or future Sentry-Hook-Timestamp (trusted: 1d past to 5m ahead)",
      },
    });
    expect(stack.queue.stats().sent).toBe(sentBefore);
    expect(await incidentOf(webhook.fingerprint)).toEqual([]);
  });

  it("refuses a missing hook timestamp with 401", async () => {
    const webhook = sentryBody("issue-created.json");
    const response = await fetch(`${stack.url}/webhooks/sentry`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "sentry-hook-resource": webhook.resource,
        "sentry-hook-signature": createHmac("sha256", SENTRY_SECRET)
          .update(webhook.body)
          .digest("hex"),
      },
      body: webhook.body,
    });
    expect(response.status).toBe(401);
    expect(await incidentOf(webhook.fingerprint)).toEqual([]);
  });

  it("takes an honest redelivery (202, counted once) and counts the issue's next event", async () => {
    const webhook = sentryBody("event-alert-triggered.json");
    const requestId = randomUUID().replaceAll("-", "");
    expect((await sendSentry(webhook, { requestId, timestamp: nowSeconds() - 30 })).status).toBe(
      202,
    );
    // Sentry sending the same notification again: same body, same Request-ID, a later time.
    expect((await sendSentry(webhook, { requestId })).status).toBe(202);
    expect(await incidentOf(webhook.fingerprint)).toMatchObject([{ count: 1 }]);

    const next = JSON.parse(webhook.body) as { data: { event: { event_id: string } } };
    next.data.event.event_id = randomUUID().replaceAll("-", "");
    const nextEvent = { ...webhook, body: JSON.stringify(next) };
    expect((await sendSentry(nextEvent)).status).toBe(202);
    expect(await incidentOf(webhook.fingerprint)).toMatchObject([{ count: 2 }]);
  });

  it("resolves on an issue's resolved webhook, and a replay of its created webhook stays a duplicate", async () => {
    const created = sentryBody("issue-created.json");
    const id = (JSON.parse(created.body) as { data: { issue: { id: string } } }).data.issue.id;
    const resolved = JSON.parse(loadRawEvent("sentry/issue-resolved.json")) as {
      data: { issue: { id: string } };
    };
    resolved.data.issue.id = id;
    expect((await sendSentry(created)).status).toBe(202);
    await drained(stack);
    expect((await sendSentry({ ...created, body: JSON.stringify(resolved) })).status).toBe(202);
    expect(await incidentOf(created.fingerprint)).toMatchObject([{ status: "resolved" }]);
    // The captured "created" sent again does not reopen what was resolved.
    expect((await sendSentry(created)).status).toBe(202);
    expect(await incidentOf(created.fingerprint)).toMatchObject([{ status: "resolved", count: 1 }]);
  });
});

describe("DynamoDbReplayGuard on the embedded DynamoDB", () => {
  let dynamo: EmbeddedDynamoDb;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb();
  });
  afterAll(() => dynamo.stop());

  it("lets exactly one of many concurrent claims through, until the mark expires", async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    await ensureTable(client, "replays");
    let now = Date.parse("2025-01-01T00:00:00Z");
    const guard = new DynamoDbReplayGuard(client, "replays", { now: () => now });
    const until = now + 360_000;
    const claims = await Promise.all(
      Array.from({ length: 16 }, () => guard.firstTime("slack-request#v0=abc", until)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await guard.firstTime("slack-request#v0=other", until)).toBe(true);
    now = until - 1000;
    expect(await guard.firstTime("slack-request#v0=abc", until)).toBe(false);
    // The embedded DynamoDB never runs TTL: an expired mark must count as absent by itself.
    now = until + 1000;
    expect(await guard.firstTime("slack-request#v0=abc", now + 360_000)).toBe(true);
  });
});
