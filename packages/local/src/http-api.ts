import { randomBytes } from "node:crypto";
import type { Clock } from "@firebreak/core";
import { FUNCTIONS, type FunctionName, type RouteSpec } from "@firebreak/stacks/topology";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import * as z from "zod";
import { lambdaContext } from "./lambda";

/**
 * The local stack's emulation of the deployed API Gateway HTTP API (payload format 2.0): the
 * topology's routes and nothing else, each throttled by its own token bucket, with the event a
 * function receives and the mapping of what it returns as API Gateway does them. Read against
 * AWS's "Working with AWS Lambda proxy integrations for HTTP APIs", "Working with routes for
 * HTTP APIs" and "Throttling requests to your HTTP API". Not emulated: the account-wide
 * throttle, CORS preflights (the console is served from the same origin locally) and the
 * 10 MB request limit (the functions refuse anything over 256 KB first).
 */

/** A Lambda handler as API Gateway's Lambda integration invokes it. */
export type HttpFunction = (event: unknown, context: Context) => Promise<unknown>;

/** A request as it reached the edge, before API Gateway did anything with it. */
export interface EdgeRequest {
  method: string;
  /** The request-target as sent: path and query, still percent-encoded. */
  target: string;
  /** Header fields in the order received, names in any case, repeats kept. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Read only once a route has matched and its throttle let the request through. */
  body: () => Promise<Buffer>;
  sourceIp: string;
  /** `HTTP/1.1`. */
  protocol: string;
}

export interface EdgeResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The route a request matched and the path variables it bound. */
export interface RouteMatch<R> {
  route: R;
  /** `GET /incidents/{id}`, or `$default`. */
  routeKey: string;
  /** Decoded, as API Gateway passes them; absent when the route has none. */
  pathParameters?: Record<string, string>;
}

export interface HttpApiOptions {
  routes: ReadonlyArray<RouteSpec>;
  functions: Partial<Record<string, HttpFunction>>;
  /** Time for the throttles' buckets and the event's time fields. */
  clock?: Clock;
  /**
   * When API Gateway stops waiting (503): 30 s for HTTP APIs. Each function's own timeout (the
   * topology's, or `functionTimeoutMs`) ends the invocation first when it is shorter, as a
   * function error (500).
   */
  integrationTimeoutMs?: number;
  functionTimeoutMs?: Partial<Record<FunctionName, number>>;
  accountId?: string;
  apiId?: string;
  region?: string;
  /** What a function threw or returned that API Gateway turned into a 5xx (its CloudWatch log). */
  onFailure?: (failure: { routeKey: string; function: string; reason: string }) => void;
}

/** HTTP APIs wait at most 30 s for an integration. */
export const INTEGRATION_TIMEOUT_MS = 30_000;

const gatewayError = (statusCode: number, message: string, requestId: string): EdgeResponse => {
  const body = Buffer.from(JSON.stringify({ message }));
  return {
    statusCode,
    headers: {
      "content-type": "application/json",
      "content-length": String(body.length),
      "apigw-requestid": requestId,
    },
    body,
  };
};

/**
 * Only these request bodies reach the function as text; every other one, a missing content type
 * and `application/x-www-form-urlencoded` (Slack) included, arrives base64-encoded with
 * `isBase64Encoded: true`. AWS's pages do not list the types; this split is what HTTP APIs were
 * observed to do (ministack's v2 proxy, checked against AWS).
 */
const TEXT_MEDIA_TYPES = new Set(["application/json", "application/xml", "application/javascript"]);

export function isTextContentType(contentType: string | undefined): boolean {
  const media = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return media.startsWith("text/") || TEXT_MEDIA_TYPES.has(media);
}

/**
 * API Gateway's token bucket: `burstLimit` tokens when full, refilled at `rateLimit` per second;
 * a request takes one or is refused.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limits: RouteSpec["throttle"],
    private readonly clock: Clock,
  ) {
    this.tokens = limits.burstLimit;
    this.refilledAt = clock.now();
  }

  take(): boolean {
    const now = this.clock.now();
    const elapsedMs = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    this.tokens = Math.min(
      this.limits.burstLimit,
      this.tokens + (elapsedMs * this.limits.rateLimit) / 1000,
    );
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

type Segment = { literal: string } | { variable: string };

interface CompiledRoute<R> {
  route: R;
  routeKey: string;
  method: string;
  segments: Segment[];
  /** The name of a trailing `{name+}`, which takes the rest of the path. */
  greedy?: string;
}

function compile<R extends { method: string; path: string }>(route: R): CompiledRoute<R> {
  const routeKey = `${route.method} ${route.path}`;
  if (!route.path.startsWith("/")) throw new Error(`route ${routeKey}: the path must start with /`);
  const parts = route.path.slice(1).split("/");
  const segments: Segment[] = [];
  let greedy: string | undefined;
  for (const [index, part] of parts.entries()) {
    const variable = /^\{([^{}+]+)(\+?)\}$/.exec(part);
    if (variable?.[2]) {
      if (index !== parts.length - 1) {
        throw new Error(`route ${routeKey}: a greedy variable must end the path`);
      }
      greedy = variable[1];
    } else if (variable?.[1]) {
      segments.push({ variable: variable[1] });
    } else {
      segments.push({ literal: part });
    }
  }
  return { route, routeKey, method: route.method, segments, ...(greedy ? { greedy } : {}) };
}

const decoded = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Path variables bound by `segments` over the start of `parts`, or undefined if they differ. */
function bind(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const bound: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index] as string;
    if ("literal" in segment) {
      if (part !== segment.literal) return undefined;
    } else {
      if (part === "") return undefined;
      bound[segment.variable] = decoded(part);
    }
  }
  return bound;
}

/** Literal segments outrank variables, from the left: `/pets/dog/{id}` over `/pets/{kind}/1`. */
function moreSpecific<R>(a: CompiledRoute<R>, b: CompiledRoute<R>): number {
  for (let index = 0; index < Math.min(a.segments.length, b.segments.length); index++) {
    const aLiteral = "literal" in (a.segments[index] as Segment);
    const bLiteral = "literal" in (b.segments[index] as Segment);
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  // Longer fixed prefixes first (greedy routes), then a named method over ANY.
  if (a.segments.length !== b.segments.length) return b.segments.length - a.segments.length;
  return Number(a.method === "ANY") - Number(b.method === "ANY");
}

/**
 * API Gateway's route selection for HTTP APIs: a full match of method and path (path variables
 * match one non-empty segment), else a route with a greedy variable (`{proxy+}`, one or more
 * segments), else `$default`; the most specific wins. `ANY` matches every method a route of the
 * same path does not name. Undefined: API Gateway's 404.
 *
 * @example
 * const router = routeMatcher([{ method: "GET", path: "/incidents/{id}" }]);
 * router("GET", "/incidents/INC1")?.pathParameters; // { id: "INC1" }
 */
export function routeMatcher<R extends { method: string; path: string }>(
  routes: ReadonlyArray<R>,
): (method: string, rawPath: string) => RouteMatch<R> | undefined {
  const defaultRoute = routes.find(
    (route) => route.path === "$default" || route.method === "$default",
  );
  const compiled = routes.filter((route) => route !== defaultRoute).map(compile);
  const keys = new Set<string>();
  for (const { routeKey } of compiled) {
    if (keys.has(routeKey)) throw new Error(`route ${routeKey} is declared twice`);
    keys.add(routeKey);
  }
  const exact = compiled.filter((route) => !route.greedy).sort(moreSpecific);
  const greedy = compiled.filter((route) => route.greedy).sort(moreSpecific);

  return (method, rawPath) => {
    const parts = rawPath.startsWith("/") ? rawPath.slice(1).split("/") : undefined;
    const methodFits = (route: CompiledRoute<R>) =>
      route.method === method || route.method === "ANY";
    if (parts) {
      for (const route of exact) {
        if (!methodFits(route) || route.segments.length !== parts.length) continue;
        const bound = bind(route.segments, parts);
        if (bound) return found(route, bound);
      }
      for (const route of greedy) {
        if (!methodFits(route) || parts.length <= route.segments.length) continue;
        const rest = parts.slice(route.segments.length).join("/");
        const bound = bind(route.segments, parts);
        if (bound && rest !== "")
          return found(route, { ...bound, [route.greedy as string]: decoded(rest) });
      }
    }
    return defaultRoute ? { route: defaultRoute, routeKey: "$default" } : undefined;
  };

  function found(route: CompiledRoute<R>, bound: Record<string, string>): RouteMatch<R> {
    return {
      route: route.route,
      routeKey: route.routeKey,
      ...(Object.keys(bound).length ? { pathParameters: bound } : {}),
    };
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (value: number) => String(value).padStart(2, "0");

/** `requestContext.time` as API Gateway writes it: `12/Mar/2020:19:03:58 +0000`. */
export function gatewayTime(epochMs: number): string {
  const at = new Date(epochMs);
  return `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/** Request ids look like API Gateway's own (`UdIiFh3JIAMEcuQ=`). */
const newRequestId = () => randomBytes(10).toString("base64");

/** `Root=1-<epoch seconds in hex>-<96 random bits>`, as X-Ray's trace header. */
const traceId = (epochMs: number) =>
  `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;

interface EventInput {
  request: EdgeRequest;
  match: RouteMatch<unknown>;
  body: Buffer;
  requestId: string;
  now: number;
  accountId: string;
  apiId: string;
  region: string;
}

/** The payload 2.0 event API Gateway hands a function for `request`. */
export function toHttpApiEvent(input: EventInput): APIGatewayProxyEventV2 {
  const { request, match, body, requestId, now } = input;
  const queryAt = request.target.indexOf("?");
  const rawPath = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
  const rawQueryString =
    queryAt === -1 ? "" : (request.target.slice(queryAt + 1).split("#", 1)[0] ?? "");

  // Names lower-cased, repeats joined with commas. No prototype, so a header or query key such
  // as `__proto__` is an ordinary key that the routes' strict schemas then refuse.
  const headers: Record<string, string> = Object.create(null);
  const cookies: string[] = [];
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    // Payload 2.0 moves cookies out of the headers, one array item per cookie.
    if (key === "cookie") {
      cookies.push(
        ...value
          .split(";")
          .map((cookie) => cookie.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[key] = Object.hasOwn(headers, key) ? `${headers[key]},${value}` : value;
  }
  // What API Gateway adds on its way to the function.
  const forwardedFor = headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor
    ? `${forwardedFor}, ${request.sourceIp}`
    : request.sourceIp;
  headers["x-forwarded-proto"] ??= "http";
  headers["x-amzn-trace-id"] ??= traceId(now);

  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  }

  const host = headers.host?.replace(/:\d+$/, "");
  const domainName = host || `${input.apiId}.execute-api.${input.region}.amazonaws.com`;
  const isText = isTextContentType(headers["content-type"]);
  return {
    version: "2.0",
    routeKey: match.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      domainName,
      domainPrefix: domainName.split(".", 1)[0] as string,
      http: {
        method: request.method,
        path: rawPath,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: match.routeKey,
      stage: "$default",
      time: gatewayTime(now),
      timeEpoch: now,
    },
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    ...(body.length ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** A payload 2.0 response that names its status: anything else in it is a 500. */
const StructuredResult = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  cookies: z.array(z.string()).optional(),
});

/**
 * What the client receives for what a function returned: a result with `statusCode` as it says;
 * anything else that is JSON (a bare string included) as a 200 `application/json` whose body is
 * that string or that value's JSON. Undefined: the result is malformed (a 500).
 */
export function fromFunctionResult(result: unknown, requestId: string): EdgeResponse | undefined {
  const structured = typeof result === "object" && result !== null && "statusCode" in result;
  if (!structured) {
    // The Node runtime answers `null` for a handler that returns nothing.
    const text = typeof result === "string" ? result : JSON.stringify(result ?? null);
    const body = Buffer.from(text, "utf8");
    return {
      statusCode: 200,
      headers: {
        "content-type": "application/json",
        "content-length": String(body.length),
        "apigw-requestid": requestId,
      },
      body,
    };
  }
  const parsed = StructuredResult.safeParse(result);
  if (!parsed.success) return undefined;
  const { statusCode, headers = {}, body = "", isBase64Encoded, cookies = [] } = parsed.data;
  const bytes = Buffer.from(body, isBase64Encoded ? "base64" : "utf8");
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  // Each cookie becomes a set-cookie header of its own.
  const setCookies = [...(out["set-cookie"] ? [out["set-cookie"] as string] : []), ...cookies];
  if (setCookies.length) out["set-cookie"] = setCookies;
  out["content-length"] = String(bytes.length);
  out["apigw-requestid"] = requestId;
  return { statusCode, headers: out, body: bytes };
}

type Outcome =
  | { kind: "returned"; value: unknown }
  | { kind: "failed"; reason: string }
  | { kind: "integration-timeout" };

/**
 * The deployed HTTP API, locally: routes, throttles and the Lambda integration.
 *
 * @example
 * const api = new HttpApi({ routes: topology(input).routes, functions });
 * const response = await api.handle({ method: "GET", target: "/incidents", headers, body, ... });
 */
export class HttpApi {
  private readonly match: ReturnType<typeof routeMatcher<RouteSpec>>;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly clock: Clock;

  constructor(private readonly options: HttpApiOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.match = routeMatcher(options.routes);
    for (const route of options.routes) {
      if (!options.functions[route.function]) {
        throw new Error(`route ${route.method} ${route.path}: no function ${route.function}`);
      }
      this.buckets.set(
        `${route.method} ${route.path}`,
        new TokenBucket(route.throttle, this.clock),
      );
    }
  }

  async handle(request: EdgeRequest): Promise<EdgeResponse> {
    const requestId = newRequestId();
    const queryAt = request.target.indexOf("?");
    const rawPath = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
    const match = this.match(request.method, rawPath);
    if (!match) return gatewayError(404, "Not Found", requestId);
    if (!this.buckets.get(match.routeKey)?.take()) {
      return gatewayError(429, "Too Many Requests", requestId);
    }
    const body = await request.body();
    const now = this.clock.now();
    const event = toHttpApiEvent({
      request,
      match,
      body,
      requestId,
      now,
      accountId: this.options.accountId ?? "000000000000",
      apiId: this.options.apiId ?? "local",
      region: this.options.region ?? "us-east-1",
    });
    const name = match.route.function;
    const outcome = await this.invoke(name, event);
    const fail = (reason: string) =>
      this.options.onFailure?.({ routeKey: match.routeKey, function: name, reason });
    if (outcome.kind === "integration-timeout") {
      fail("the integration timed out");
      return gatewayError(503, "Service Unavailable", requestId);
    }
    if (outcome.kind === "failed") {
      fail(outcome.reason);
      return gatewayError(500, "Internal Server Error", requestId);
    }
    const response = fromFunctionResult(outcome.value, requestId);
    if (!response) {
      fail("the function returned a malformed response");
      return gatewayError(500, "Internal Server Error", requestId);
    }
    return response;
  }

  private async invoke(name: FunctionName, event: APIGatewayProxyEventV2): Promise<Outcome> {
    const handler = this.options.functions[name] as HttpFunction;
    const functionMs =
      this.options.functionTimeoutMs?.[name] ?? FUNCTIONS[name].timeoutSeconds * 1000;
    const integrationMs = this.options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
    const timers: NodeJS.Timeout[] = [];
    try {
      return await Promise.race([
        Promise.resolve()
          .then(() => handler(event, lambdaContext(name, functionMs)))
          .then(
            (value): Outcome => ({ kind: "returned", value }),
            (error: unknown): Outcome => ({ kind: "failed", reason: String(error) }),
          ),
        // Lambda ends an invocation at the function's timeout, a function error to API Gateway.
        new Promise<Outcome>((resolve) => {
          timers.push(
            setTimeout(
              () => resolve({ kind: "failed", reason: `Task timed out after ${functionMs} ms` }),
              functionMs,
            ),
          );
        }),
        new Promise<Outcome>((resolve) => {
          timers.push(setTimeout(() => resolve({ kind: "integration-timeout" }), integrationMs));
        }),
      ]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }
}
