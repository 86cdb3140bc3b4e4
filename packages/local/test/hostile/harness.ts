import { createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import { expect } from "vitest";
import type { LocalStack } from "../../src/stack";
import { drained, SENTRY_SECRET, SLACK_SECRET, TOKEN } from "../helpers";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Send {
  method?: string;
  /** Sent as is: not normalised, not encoded. */
  path: string;
  /** Name/value pairs, repeats allowed (two `authorization` headers, say). */
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  /** Stream the body in 16 KB chunks without a Content-Length, so only the bytes can tell. */
  chunked?: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One request exactly as written: `fetch` would normalise the path, merge repeated headers and
 * refuse methods such as TRACE, which is what the hostile cases need to send.
 */
export function send(stack: LocalStack, options: Send): Promise<Answer> {
  const url = new URL(stack.url);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? Buffer.from(options.body, "utf8")
        : options.body;
  const headers: string[] = ["host", url.host];
  for (const [name, value] of options.headers ?? []) headers.push(name, value);
  if (body && !options.chunked) headers.push("content-length", String(body.length));
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: options.method ?? (body ? "POST" : "GET"),
        path: options.path,
        // The raw form keeps repeated headers and the order given.
        headers: headers as unknown as Record<string, string>,
        timeout: 15_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`${options.path}: no answer`)));
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      // A server that has answered (a 413) may close before a streamed body is all sent.
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    if (body && options.chunked) {
      for (let at = 0; at < body.length; at += 16_384)
        outgoing.write(body.subarray(at, at + 16_384));
      outgoing.end();
    } else outgoing.end(body);
  });
}

export const JSON_TYPE: [string, string] = ["content-type", "application/json"];
export const bearer = (token = TOKEN): [string, string] => ["authorization", `Bearer ${token}`];

/** Error messages are for people; a hostile payload must not be able to make one huge. */
export const MAX_ERROR_MESSAGE = 2_000;

/**
 * What API Gateway's HTTP API answers itself, before any function runs: 404 when no route names
 * the method and path, 429 when the route's throttle is out of tokens. Fixed bodies in its own
 * shape (not Firebreak's), so they echo nothing a request sent.
 */
export const GATEWAY_REFUSALS: Readonly<Record<number, string>> = {
  404: "Not Found",
  429: "Too Many Requests",
};

/** Whether API Gateway answered itself (its `{"message"}` shape) rather than a function. */
export function fromGateway(answer: Answer): boolean {
  try {
    const body = JSON.parse(answer.text) as unknown;
    return typeof body === "object" && body !== null && !Array.isArray(body) && "message" in body;
  } catch {
    return false;
  }
}

/** API Gateway's own refusal with `status` (default either of them), its fixed body exactly. */
export function expectGatewayRefusal(answer: Answer, context: string, status?: 404 | 429): void {
  const statuses = status === undefined ? [404, 429] : [status];
  expect(statuses, `${context}: ${answer.status} ${answer.text.slice(0, 300)}`).toContain(
    answer.status,
  );
  expect(answer.headers["content-type"], context).toMatch(/^application\/json/);
  expect(JSON.parse(answer.text), context).toEqual({ message: GATEWAY_REFUSALS[answer.status] });
}

/**
 * The invariant of every HTTP ingress: never a 5xx; a refusal is a 4xx with the JSON error shape
 * `{"error":{"code","message"}}`, a short message and nothing else, or one of API Gateway's own
 * fixed refusals (no route, throttled): a 429 is as clear a 4xx as any, and changes nothing.
 */
export function expectClearAnswer(answer: Answer, context: string): void {
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status < 400) return;
  if (fromGateway(answer)) expectGatewayRefusal(answer, context);
  else expectErrorShape(answer, context);
}

export function expectErrorShape(answer: Answer, context: string): void {
  expect(answer.headers["content-type"], context).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(body), context).toEqual(["error"]);
  expect(Object.keys(body.error ?? {}).sort(), context).toEqual(["code", "message"]);
  expect(body.error?.code, context).toMatch(/^[a-z_]+$/);
  expect(typeof body.error?.message, context).toBe("string");
  const message = body.error?.message as string;
  expect(message.length, `${context}: ${message.slice(0, 200)}`).toBeGreaterThan(0);
  expect(message.length, `${context}: ${message.slice(0, 200)}`).toBeLessThanOrEqual(
    MAX_ERROR_MESSAGE,
  );
}

// DeleteItem is left out: only silences are deleted, and a delete of one that does not exist
// (a 404) is a request that changes nothing. The silences list below shows real deletions.
const WRITES = ["PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"];

/**
 * What a refused request must leave as it was: the incidents and silences as the API lists them,
 * every DynamoDB write, the queue's counters, pages, Slack replies and calls to (simulated) AWS.
 */
export async function stateOf(stack: LocalStack) {
  await settled(stack);
  const list = await send(stack, { path: "/incidents?limit=25", headers: [bearer()] });
  expect(list.status).toBe(200);
  const silences = await send(stack, { path: "/silences", headers: [bearer()] });
  expect(silences.status).toBe(200);
  const { sent, deadLettered } = stack.queue.stats();
  return {
    incidents: list.text,
    silences: silences.text,
    writes: WRITES.reduce((sum, name) => sum + (stack.dynamodbRequests[name] ?? 0), 0),
    queue: { sent, deadLettered },
    pages: stack.outbox.entries.length,
    slackResponses: stack.outbox.slackResponses.length,
    awsCalls: stack.simulation.calls.length,
  };
}
export type State = Awaited<ReturnType<typeof stateOf>>;

/**
 * Invocations that follow from work: the schedule's own runs are left out, as the sweep runs on
 * a timer whether or not anything is left to do (work it makes shows up as dispatches).
 */
const invoked = (stack: LocalStack) =>
  Object.entries(stack.invocations)
    .filter(([name]) => name !== "escalations")
    .reduce((sum, [, count]) => sum + count, 0);

/**
 * Nothing queued, nothing being dispatched: what happens next is the next request's doing.
 * Dispatch runs by itself from the table's stream, and work makes work (a processed signal
 * writes the record the dispatcher reads; the dispatcher's own writes are read again), while
 * `settle()` only covers records written before it was called: so settle again until a whole
 * round invoked no function.
 */
export async function settled(stack: LocalStack): Promise<void> {
  for (;;) {
    const before = invoked(stack);
    await drained(stack, 30_000);
    await stack.settle();
    if (stack.queue.idle() && invoked(stack) === before) return;
  }
}

/** The stack still answers: whatever came before did not take it down. */
export async function expectAlive(stack: LocalStack): Promise<void> {
  const health = await send(stack, { path: "/health" });
  expect(health.status).toBe(200);
  expect(JSON.parse(health.text)).toEqual({ status: "ok" });
}

/** Sentry's signature over the raw bytes, computed here independently of the code under test. */
export const sentrySignature = (body: string | Buffer, secret = SENTRY_SECRET) =>
  createHmac("sha256", secret).update(body).digest("hex");

/** The `Sentry-Hook-Timestamp` Sentry sends with every webhook: now, in seconds. */
export const sentryTimestampHeader = (): [string, string] => [
  "sentry-hook-timestamp",
  String(Math.floor(Date.now() / 1000)),
];

/** Slack's headers for a body: a timestamp (default now) and `v0=` HMAC over `v0:{ts}:{body}`. */
export function slackHeaders(
  body: string,
  options: { secret?: string; timestamp?: number } = {},
): Array<[string, string]> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", options.secret ?? SLACK_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest("hex");
  return [
    ["content-type", "application/x-www-form-urlencoded"],
    ["x-slack-request-timestamp", timestamp],
    ["x-slack-signature", `v0=${signature}`],
  ];
}

/**
 * States before and after each request of a property. Between two runs nothing else happens
 * (the escalation schedule is off, the queue and the stream have settled), so one run's "after"
 * is the next run's "before": one snapshot per request instead of two.
 */
export function stateTracker(stack: () => LocalStack) {
  let last: State | undefined;
  return {
    async before(): Promise<State> {
      last ??= await stateOf(stack());
      return last;
    },
    async after(): Promise<State> {
      last = await stateOf(stack());
      return last;
    },
  };
}
