import { createHmac } from "node:crypto";
import {
  type ConfigInput,
  type Incident,
  parseConfig,
  silentLogger,
  type TimelineEntry,
} from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../src/stack";
import testPolicy from "./policy";

export const TOKEN = "test-token-0123456789abcdef";
export const SENTRY_SECRET = "sentry-client-secret-for-tests";
export const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

/**
 * A signed Sentry `error` webhook for a new issue, happening now: its event id, request id and
 * title follow from `issue`, so each number is an issue of its own.
 */
export function sentryIssueWebhook(issue: number): {
  body: string;
  headers: Record<string, string>;
} {
  const fixture = JSON.parse(loadRawEvent("sentry/error-created.json")) as {
    data: { error: Record<string, unknown> };
  };
  const now = Date.now();
  const id = issue.toString(16).padStart(32, "0");
  Object.assign(fixture.data.error, {
    issue_id: String(issue),
    event_id: id,
    title: `PaymentError: card declined for order ${issue}`,
    datetime: new Date(now).toISOString(),
    timestamp: now / 1000,
    received: now / 1000,
  });
  const body = JSON.stringify(fixture);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "sentry-hook-resource": "error",
      "request-id": id,
      "sentry-hook-timestamp": String(Math.floor(now / 1000)),
      "sentry-hook-signature": createHmac("sha256", SENTRY_SECRET).update(body).digest("hex"),
    },
  };
}

/** A local stack in memory on a free port, with known secrets and the tests' policy. */
export async function startTestStack(
  overrides: Partial<LocalStackOptions> & { configInput?: ConfigInput } = {},
): Promise<LocalStack> {
  const { configInput, ...rest } = overrides;
  return startLocalStack({
    port: 0,
    dataDir: null,
    config: parseConfig(configInput ?? testPolicy),
    secrets: {
      apiTokens: [{ name: "tests", token: TOKEN }],
      sentryClientSecret: SENTRY_SECRET,
      slackSigningSecret: SLACK_SECRET,
    },
    dynamodbProcess: "same",
    // The deployed batching window and visibility timeout, a hundred times faster.
    queue: { timeScale: 0.01 },
    silenceCacheMs: 0,
    logger: silentLogger,
    ...rest,
  });
}

export type IncidentView = Incident & { timeline: TimelineEntry[] };

export interface Client {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Delivers a fixture (or any payload) to /local/events and waits for processing. */
  deliver(event: unknown): Promise<{ accepted: number; incidents: string[] }>;
  incident(id: string): Promise<IncidentView>;
  sentry(file: string, overrides?: { signature?: string; body?: string }): Promise<Response>;
}

export function client(stack: LocalStack): Client {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const get = (path: string, headers: Record<string, string> = auth) =>
    fetch(`${stack.url}${path}`, { headers });
  const headerFile = loadEvent("sentry/headers.json") as Record<string, Record<string, string>>;
  return {
    post,
    get,
    async deliver(event) {
      const body =
        typeof event === "string" && event.endsWith(".json") ? loadRawEvent(event) : event;
      const response = await post("/local/events?wait=true", body);
      if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
      return response.json() as Promise<{ accepted: number; incidents: string[] }>;
    },
    async incident(id) {
      const response = await get(`/incidents/${id}`);
      if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
      return response.json() as Promise<IncidentView>;
    },
    sentry(file, overrides = {}) {
      const body = overrides.body ?? loadRawEvent(`sentry/${file}`);
      const headers = headerFile[file] ?? {};
      return post("/webhooks/sentry", body, {
        "sentry-hook-resource": headers["Sentry-Hook-Resource"] ?? "",
        "request-id": headers["Request-ID"] ?? "",
        "sentry-hook-timestamp": String(Math.floor(Date.now() / 1000)),
        "sentry-hook-signature":
          overrides.signature ?? createHmac("sha256", SENTRY_SECRET).update(body).digest("hex"),
      });
    },
  };
}

/**
 * Waits for a condition, polling every 25 ms: a busy machine takes longer, never forever (the
 * timeout only ends a test that would otherwise hang).
 */
export async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the queue has nothing left to do. */
export async function drained(stack: LocalStack, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stack.queue.idle()) {
    if (Date.now() > deadline) throw new Error("queue did not drain");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
