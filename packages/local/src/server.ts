import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import {
  type ApiToken,
  authenticateBearer,
  ClientError,
  type Clock,
  clip,
  EVENT_FORMATS,
  ForbiddenError,
  InvalidEventError,
  InvalidInputError,
  type Logger,
  normalizeEvent,
  PayloadTooLargeError,
  type Policy,
  UnsupportedMediaTypeError,
} from "@firebreak/core";
import type { RouteSpec } from "@firebreak/stacks/topology";
import * as z from "zod";
import { serveConsole } from "./console";
import { HttpApi } from "./http-api";
import { lambdaContext } from "./lambda";
import { AlarmStateBodySchema } from "./simulated-cloudwatch";
import type { LambdaFunction, LocalStack } from "./stack";
import { LOCAL_REGION } from "./stack";

/** Same bound as API Gateway routes get in the stacks: bigger bodies are refused with 413. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Events one `POST /local/events` may carry. */
const MAX_EVENTS_PER_REQUEST = 1000;

/** What the server reads of the stack. */
type Stack = Pick<
  LocalStack,
  | "deliver"
  | "queue"
  | "store"
  | "outbox"
  | "simulation"
  | "dynamodbRequests"
  | "dynamodbUnits"
  | "invocations"
  | "invocationMs"
  | "capturingQueued"
  | "incidentsOf"
  | "settle"
>;

interface ServerOptions {
  port: number;
  host: string;
  functions: Record<string, LambdaFunction>;
  /** The deployed HTTP API's routes (the topology's): API Gateway's semantics on each. */
  routes: ReadonlyArray<RouteSpec>;
  /** Time for the routes' throttles (tests advance it); default the system clock. */
  clock?: Clock;
  /** Validates `/local/events` before anything is delivered. */
  policy: Policy;
  logger: Logger;
  /** The HTTP API's tokens: the local routes that show payloads want one too. */
  apiTokens: ReadonlyArray<ApiToken>;
  /**
   * Remediation calls AWS with the developer's credentials (`REMEDIATION_MODE=live`): then
   * invoking a function through the Invoke API wants the API token as well.
   */
  live: boolean;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const ALARM_STATE_PATH = /^\/local\/aws\/alarms\/([^/]+)\/state$/;

function decodedOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The headers every JSON answer carries, besides its length. */
const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...JSON_HEADERS,
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/**
 * `{"accepted":n}` for each count, encoded once with its header list: a storm's answers are all
 * alike, and nothing is built per request.
 */
const acceptedAnswers: { body: Buffer; headers: string[] }[] = [];
function sendAccepted(response: ServerResponse, count: number) {
  let answer = acceptedAnswers[count];
  if (!answer) {
    const body = Buffer.from(JSON.stringify({ accepted: count }));
    const headers = { ...JSON_HEADERS, "content-length": String(body.length) };
    answer = { body, headers: Object.entries(headers).flat() };
    acceptedAnswers[count] = answer;
  }
  response.writeHead(202, answer.headers);
  response.end(answer.body);
}

const sendError = (response: ServerResponse, status: number, code: string, message: string) =>
  sendJson(response, status, { error: { code, message } });

/** Reads the body, refusing (413) as soon as it passes the limit rather than buffering it all. */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new PayloadTooLargeError(`request body is over ${MAX_BODY_BYTES / 1024} KB`));
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PayloadTooLargeError(`request body is over ${MAX_BODY_BYTES / 1024} KB`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/**
 * The names a browser may use for this server, each with its port: loopback by every spelling,
 * and the configured HOST. Anything else in `Host` is a DNS-rebinding page (its own name resolved
 * to 127.0.0.1) or a request meant for another server.
 */
function ownHosts(host: string, port: number): Set<string> {
  const names = ["127.0.0.1", "localhost", "[::1]", host.includes(":") ? `[${host}]` : host];
  return new Set(
    names.flatMap((name) => {
      const lower = name.toLowerCase();
      return port === 80 ? [lower, `${lower}:80`] : [`${lower}:${port}`];
    }),
  );
}

/** `application/json`, with parameters (charset) or a `+json` suffix. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
/**
 * What the AWS SDK for JavaScript v3 sends to Lambda's Invoke API, whose payload is a blob (the
 * AWS CLI sends no type at all). A page cannot send it without a CORS preflight, which this
 * server never grants.
 */
const OCTET_STREAM = /^application\/octet-stream\s*(?:;|$)/i;

/** Node's flat `rawHeaders` ([name, value, name, value...]) as pairs, in order. */
function pairs(rawHeaders: ReadonlyArray<string>): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    headers.push([rawHeaders[index] as string, rawHeaders[index + 1] as string]);
  }
  return headers;
}

export async function startServer(stack: Stack, options: ServerOptions) {
  // How long work on this thread holds up requests: the benchmarks report it.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const { logger, policy } = options;
  // Known once listening: the port is the one the OS chose when asked for 0.
  let hosts = new Set<string>();
  let origins = new Set<string>();

  /** Refuses a request, draining its body so the connection can serve the next one. */
  function refuse(request: IncomingMessage, error: ClientError): never {
    request.resume();
    throw error;
  }

  /**
   * The local routes answer this machine's own tools and console only. Any web page the
   * developer visits can POST to 127.0.0.1 (a text/plain POST needs no preflight; the answer is
   * unreadable but the request is made), or rebind its own name to 127.0.0.1, and both would
   * reach functions that remediate with the developer's AWS credentials.
   */
  function refuseForeign(request: IncomingMessage) {
    const host = (request.headers.host ?? "").toLowerCase();
    if (!hosts.has(host)) {
      refuse(
        request,
        new ForbiddenError(
          `Host "${clip(host, 100)}" is not this stack's address (${[...hosts].join(", ")})`,
        ),
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      refuse(
        request,
        new ForbiddenError(
          `cross-origin requests are refused: Origin "${clip(origin, 100)}" is not this stack`,
        ),
      );
    }
  }

  /** JSON routes take JSON only: the types a form or a plain-text POST sends are refused. */
  function requireJson(request: IncomingMessage, { blob }: { blob: boolean }) {
    const type = request.headers["content-type"];
    const accepted =
      type === undefined ? blob : JSON_MEDIA_TYPE.test(type) || (blob && OCTET_STREAM.test(type));
    if (!accepted) {
      refuse(
        request,
        new UnsupportedMediaTypeError(
          `send Content-Type: application/json, not ${type === undefined ? "none" : clip(type, 100)}`,
        ),
      );
    }
  }

  /** The bearer token the HTTP API takes (401 without it). */
  function requireToken(request: IncomingMessage) {
    try {
      authenticateBearer(request.headers.authorization, options.apiTokens);
    } catch (error) {
      if (error instanceof ClientError) refuse(request, error);
      throw error;
    }
  }
  const api = new HttpApi({
    routes: options.routes,
    functions: options.functions,
    ...(options.clock ? { clock: options.clock } : {}),
    region: LOCAL_REGION,
    // API Gateway answers a bare 500 or 503; what caused it is in the function's log.
    onFailure: (failure) => logger.error(`${failure.routeKey} failed`, failure),
  });

  async function localEvents(request: IncomingMessage, response: ServerResponse, url: URL) {
    const body = await readBody(request);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new InvalidEventError(
        "the body is not JSON: send a raw AWS event, or an array of them",
      );
    }
    const raws = Array.isArray(parsed) ? parsed : [parsed];
    if (raws.length === 0)
      throw new InvalidEventError("the array is empty: send at least one event");
    if (raws.length > MAX_EVENTS_PER_REQUEST) {
      throw new InvalidEventError(`at most ${MAX_EVENTS_PER_REQUEST} events per request`);
    }
    // Validate everything before delivering anything: a request is accepted whole or not at all.
    const events = raws.map((raw, index) => {
      try {
        const { format, signals } = normalizeEvent(raw, { policy, region: LOCAL_REGION });
        return { raw, route: EVENT_FORMATS[format], signals };
      } catch (error) {
        if (error instanceof InvalidEventError && Array.isArray(parsed)) {
          throw new InvalidEventError(`events[${index}]: ${error.message}`);
        }
        throw error;
      }
    });
    const wait = url.searchParams.get("wait") === "true";
    const ids = await stack.deliver(events, { capture: wait });
    if (!wait) {
      sendAccepted(response, events.length);
      return;
    }
    const outcomes = await stack.queue.waitFor(ids);
    const deadLettered = outcomes.filter((outcome) => outcome === "dead-lettered").length;
    sendJson(response, 200, {
      accepted: events.length,
      incidents: stack.incidentsOf(ids),
      ...(deadLettered ? { deadLettered } : {}),
    });
  }

  /** Sets a simulated alarm's state, as `SetAlarmState` or CloudWatch's evaluation would. */
  async function setAlarmState(
    encodedName: string,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    const name = decodedOrNull(encodedName);
    if (!name || name.length > 255) throw new InvalidInputError("not an alarm name");
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request)).toString("utf8"));
    } catch {
      throw new InvalidInputError('the body is not JSON: send {"state": "OK", "reason": "..."}');
    }
    const parsed = AlarmStateBodySchema.safeParse(body);
    if (!parsed.success) throw new InvalidInputError(z.prettifyError(parsed.error));
    const { state, reason, account, deliver } = parsed.data;
    const cloudwatch = stack.simulation.cloudwatch;
    const why = reason ?? "set through the local stack";
    let incidents: string[] | undefined;
    if (deliver) {
      // As in AWS: the state changes, and EventBridge tells Firebreak (the stack's delivery
      // updates the simulation from the event, like any other).
      const raw = cloudwatch.stateChangeEvent(name, { state, reason: why, account }, LOCAL_REGION);
      const { format, signals } = normalizeEvent(raw, { policy, region: LOCAL_REGION });
      const ids = await stack.deliver([{ raw, route: EVENT_FORMATS[format], signals }]);
      await stack.queue.waitFor(ids);
      incidents = stack.incidentsOf(ids);
    } else {
      cloudwatch.setState(name, { state, reason: why, account: account ?? null });
    }
    // The one just changed: of that name (in that account), changed last.
    const alarm = cloudwatch
      .snapshot()
      .filter((found) => found.alarmName === name && (!account || found.account === account))
      .sort((a, b) => b.since.localeCompare(a.since))[0];
    if (!alarm) throw new InvalidInputError(`alarm ${name} was not set`);
    sendJson(response, 200, {
      alarmName: alarm.alarmName,
      account: alarm.account,
      state: alarm.state,
      since: alarm.since,
      reason: alarm.reason,
      ...(incidents ? { incidents } : {}),
    });
  }

  async function invoke(encodedName: string, request: IncomingMessage, response: ServerResponse) {
    const name = decodedOrNull(encodedName);
    const handler =
      name !== null && Object.hasOwn(options.functions, name) ? options.functions[name] : undefined;
    if (name === null || !handler) {
      sendJson(
        response,
        404,
        { Type: "User", message: `Function not found: ${clip(name ?? encodedName, 200)}` },
        { "x-amzn-errortype": "ResourceNotFoundException" },
      );
      return;
    }
    const body = await readBody(request);
    let event: unknown;
    try {
      event = body.length ? JSON.parse(body.toString("utf8")) : {};
    } catch {
      sendJson(
        response,
        400,
        { Type: "User", message: "Could not parse request body into json" },
        { "x-amzn-errortype": "InvalidRequestContentException" },
      );
      return;
    }
    const run = () => handler(event, lambdaContext(name));
    if (request.headers["x-amz-invocation-type"] === "Event") {
      run().catch((error: unknown) =>
        logger.error(`async invoke of ${name} failed`, { error: String(error) }),
      );
      response.writeHead(202, { "x-amz-executed-version": "$LATEST" }).end();
      return;
    }
    try {
      const result = await run();
      sendJson(response, 200, result ?? null, { "x-amz-executed-version": "$LATEST" });
    } catch (error) {
      // As Lambda reports a function error: 200, X-Amz-Function-Error, the error as the body.
      const failure = error as Error;
      sendJson(
        response,
        200,
        { errorType: failure.name ?? "Error", errorMessage: failure.message, trace: [] },
        { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" },
      );
    }
  }

  async function route(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const path = url.pathname;

    if (path === "/health" && method === "GET") return sendJson(response, 200, { status: "ok" });
    if (method === "GET" && (await serveConsole(path, response))) return;
    const invoked = INVOKE_PATH.exec(path);
    if (path.startsWith("/local/") || invoked) refuseForeign(request);
    if (path === "/local/events") {
      if (method !== "POST") return sendError(response, 405, "method_not_allowed", "use POST");
      requireJson(request, { blob: false });
      return localEvents(request, response, url);
    }
    // Dead letters, pages and AWS calls carry payloads: the API's token reads them.
    if (path === "/local/queue" && method === "GET") {
      requireToken(request);
      return sendJson(response, 200, {
        ...stack.queue.stats(),
        deadLetterMessages: stack.queue.deadLetters().slice(0, 100),
      });
    }
    if (path === "/local/metrics" && method === "GET") {
      // Waits until the dispatcher has seen every stream record written so far (and the running
      // sweep is done): in memory, so a caller can wait on it without a query per poll.
      if (url.searchParams.get("settle") === "true") await stack.settle();
      return sendJson(response, 200, {
        eventLoopDelayMs: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
        dynamodbRequests: stack.dynamodbRequests,
        dynamodbUnits: stack.dynamodbUnits,
        invocations: stack.invocations,
        invocationMs: stack.invocationMs,
        queue: stack.queue.stats(),
        // Incidents whose actions the dispatcher has yet to run (the benchmarks wait for none),
        // on request only: counting them is a DynamoDB query, which the request counts above
        // would then include on every poll.
        ...(url.searchParams.get("pending") === "true"
          ? { pendingIncidents: (await stack.store.listPending()).length }
          : {}),
        memory: process.memoryUsage(),
      });
    }
    if (path === "/local/outbox" && method === "GET") {
      requireToken(request);
      return sendJson(response, 200, {
        items: stack.outbox.entries,
        slackResponses: stack.outbox.slackResponses,
      });
    }
    if (path === "/local/aws" && method === "GET") {
      requireToken(request);
      return sendJson(response, 200, {
        model: stack.simulation.snapshot(),
        calls: stack.simulation.calls,
      });
    }
    const alarmState = ALARM_STATE_PATH.exec(path);
    if (alarmState && method === "POST") {
      requireToken(request);
      requireJson(request, { blob: false });
      return setAlarmState(alarmState[1] as string, request, response);
    }
    if (path === "/local/queue/redrive" && method === "POST") {
      requireToken(request);
      return sendJson(response, 200, { redriven: await stack.queue.redrive() });
    }
    if (invoked) {
      if (method !== "POST") return sendError(response, 405, "method_not_allowed", "use POST");
      if (options.live) requireToken(request);
      requireJson(request, { blob: true });
      return invoke(invoked[1] as string, request, response);
    }
    // Everything else is the deployed HTTP API's: its routes, or its 404.
    const handle = () =>
      api.handle({
        method,
        target: request.url ?? "/",
        headers: pairs(request.rawHeaders),
        // Over 256 KB this refuses with the 413 the functions answer themselves
        // (functions/lib/http.ts), without buffering the rest.
        body: () => readBody(request),
        sourceIp: (request.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
        protocol: `HTTP/${request.httpVersion}`,
      });
    // `?wait=true` on a webhook (locally only): answer once what it queued is processed, as
    // /local/events does, so the time from request to incident can be measured. Only then are
    // the queued messages captured (which costs every promise meanwhile).
    const wait = url.searchParams.get("wait") === "true";
    const { result, queued } = wait
      ? await stack.capturingQueued(handle)
      : { result: await handle(), queued: [] };
    if (wait) await stack.queue.waitFor(queued);
    response.writeHead(result.statusCode, result.headers);
    response.end(result.body);
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof ClientError)
        return sendError(response, error.status, error.code, error.message);
      logger.error("local server request failed", { error: String(error) });
      sendError(response, 500, "internal", "internal error");
    });
  });
  server.keepAliveTimeout = 65_000;
  // Requests Node refuses before any route sees them (an unknown method, over 16 KB of headers,
  // broken framing) still get the JSON error shape, not Node's bare status line.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = JSON.stringify({
      error: {
        code: status === 431 ? "headers_too_large" : "bad_request",
        message: status === 431 ? "request headers over 16 KB" : "malformed HTTP request",
      },
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      hosts = ownHosts(options.host, (server.address() as AddressInfo).port);
      origins = new Set([...hosts].map((host) => `http://${host}`));
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
