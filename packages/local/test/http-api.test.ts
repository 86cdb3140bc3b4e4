import { request as httpRequest } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbIncidentStore } from "@firebreak/aws";
import { type Clock, Policy, parseConfig, silentLogger } from "@firebreak/core";
import { deployOptions } from "@firebreak/stacks/options";
import { type RouteSpec, topology } from "@firebreak/stacks/topology";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shippedConfig from "../../../monitoring.config";
import {
  type EdgeRequest,
  gatewayTime,
  HttpApi,
  type HttpApiOptions,
  type HttpFunction,
  isTextContentType,
  routeMatcher,
} from "../src/http-api";
import { OutboxPager } from "../src/outbox";
import { LocalQueue } from "../src/queue";
import { startServer } from "../src/server";
import { SimulatedAws } from "../src/simulated-aws";
import { TOKEN } from "./helpers";

const ROUTES = topology({
  options: deployOptions({ integrations: { slack: true, sentry: true } }),
  alarmPrefix: "firebreak-test-",
}).routes;

/** A clock that moves only when a test moves it. */
function fakeClock(start = Date.UTC(2024, 2, 13, 10, 0, 0)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

/** Fake functions that record the events they receive and answer with `answer`. */
function recording(
  answer: (event: APIGatewayProxyEventV2) => unknown = () => ({ statusCode: 204 }),
) {
  const events: APIGatewayProxyEventV2[] = [];
  const contexts: Context[] = [];
  const fn: HttpFunction = async (event, context) => {
    events.push(event as APIGatewayProxyEventV2);
    contexts.push(context);
    return answer(event as APIGatewayProxyEventV2);
  };
  const functions = { api: fn, slack: fn, "sentry-webhook": fn };
  return { events, contexts, functions };
}

function edge(overrides: Partial<EdgeRequest> & { bodyText?: string } = {}): EdgeRequest {
  const { bodyText, ...rest } = overrides;
  return {
    method: "GET",
    target: "/incidents",
    headers: [["Host", "abc123.execute-api.us-east-1.amazonaws.com"]],
    body: async () => Buffer.from(bodyText ?? "", "utf8"),
    sourceIp: "203.0.113.7",
    protocol: "HTTP/1.1",
    ...rest,
  };
}

const JSON_TYPE = { "content-type": "application/json" };
const jsonOf = (body: Buffer) => JSON.parse(body.toString("utf8")) as unknown;

/**
 * AWS's documented payload 2.0 example ("Working with AWS Lambda proxy integrations for HTTP
 * APIs"), without the fields API Gateway sends only with mutual TLS (`authentication`), an
 * authorizer (`authorizer`) or stage variables (`stageVariables`): Firebreak's API has none.
 */
const DOCUMENTED_EVENT = {
  version: "2.0",
  routeKey: "$default",
  rawPath: "/my/path",
  rawQueryString: "parameter1=value1&parameter1=value2&parameter2=value",
  cookies: ["cookie1", "cookie2"],
  headers: { Header1: "value1", Header2: "value1,value2" },
  queryStringParameters: { parameter1: "value1,value2", parameter2: "value" },
  requestContext: {
    accountId: "123456789012",
    apiId: "api-id",
    domainName: "id.execute-api.us-east-1.amazonaws.com",
    domainPrefix: "id",
    http: {
      method: "POST",
      path: "/my/path",
      protocol: "HTTP/1.1",
      sourceIp: "IP",
      userAgent: "agent",
    },
    requestId: "id",
    routeKey: "$default",
    stage: "$default",
    time: "12/Mar/2020:19:03:58 +0000",
    timeEpoch: 1583348638390,
  },
  body: "Hello from Lambda",
  pathParameters: { parameter1: "value1" },
  isBase64Encoded: false,
};

/** Every path of `shape` with the type of its value (arrays as "array"). */
function typesOf(shape: unknown, prefix = ""): Record<string, string> {
  if (Array.isArray(shape)) return { [prefix]: "array" };
  if (typeof shape !== "object" || shape === null) return { [prefix]: typeof shape };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(shape)) {
    // Header and parameter names are data, not shape: only their value types matter.
    const data = ["headers", "queryStringParameters", "pathParameters"].includes(key);
    if (data) {
      out[`${prefix}${key}`] = "object";
      for (const item of Object.values(value as object)) out[`${prefix}${key}.*`] = typeof item;
    } else Object.assign(out, typesOf(value, `${prefix}${key}.`));
  }
  return Object.fromEntries(
    Object.entries(out).map(([path, type]) => [path.replace(/\.$/, ""), type]),
  );
}

describe("HTTP API routes: API Gateway's route selection", () => {
  const match = routeMatcher(ROUTES);

  it("matches the topology's routes exactly, with decoded path parameters", () => {
    expect(match("GET", "/incidents")).toEqual({
      route: expect.objectContaining({ function: "api" }),
      routeKey: "GET /incidents",
    });
    expect(match("GET", "/incidents/INC7")).toMatchObject({
      routeKey: "GET /incidents/{id}",
      pathParameters: { id: "INC7" },
    });
    expect(match("POST", "/incidents/INC7/actions/a1/approve")).toMatchObject({
      routeKey: "POST /incidents/{id}/actions/{actionId}/approve",
      pathParameters: { id: "INC7", actionId: "a1" },
    });
    expect(match("GET", "/incidents/a%20b%2Fc")?.pathParameters).toEqual({ id: "a b/c" });
    expect(match("POST", "/slack/commands")?.route.function).toBe("slack");
    expect(match("POST", "/webhooks/sentry")?.route.function).toBe("sentry-webhook");
    expect(match("DELETE", "/silences/S1")?.routeKey).toBe("DELETE /silences/{id}");
  });

  it("serves every route of the topology with the function the topology names", () => {
    for (const route of ROUTES) {
      const path = route.path.replace(/\{[^}]+\}/g, "x1");
      expect(match(route.method, path)?.route, `${route.method} ${path}`).toBe(route);
    }
  });

  it("matches nothing (API Gateway's 404) for other paths and methods", () => {
    for (const [method, path] of [
      ["GET", "/nowhere"],
      ["GET", "/"],
      ["GET", "/incidents/"],
      ["POST", "/incidents//acknowledge"],
      ["GET", "/Incidents"],
      // A known path with a method no route names: no route, so 404 too, not 405.
      ["POST", "/incidents"],
      ["GET", "/slack/commands"],
      ["PUT", "/silences/S1"],
      ["HEAD", "/incidents"],
      ["OPTIONS", "/incidents"],
      ["GET", "/incidents/INC7/extra"],
      ["GET", "incidents"],
    ] as const) {
      expect(match(method, path), `${method} ${path}`).toBeUndefined();
    }
  });

  it("prefers a full match, then a greedy variable, then $default; literals over variables", () => {
    const routes = [
      { method: "GET", path: "/pets/dog/1" },
      { method: "GET", path: "/pets/dog/{id}" },
      { method: "GET", path: "/pets/{proxy+}" },
      { method: "ANY", path: "/{proxy+}" },
      { method: "$default", path: "$default" },
    ];
    const route = routeMatcher(routes);
    expect(route("GET", "/pets/dog/1")?.routeKey).toBe("GET /pets/dog/1");
    expect(route("GET", "/pets/dog/2")).toMatchObject({
      routeKey: "GET /pets/dog/{id}",
      pathParameters: { id: "2" },
    });
    expect(route("GET", "/pets/cat/1")).toMatchObject({
      routeKey: "GET /pets/{proxy+}",
      pathParameters: { proxy: "cat/1" },
    });
    expect(route("POST", "/pets/cat/1")).toMatchObject({
      routeKey: "ANY /{proxy+}",
      pathParameters: { proxy: "pets/cat/1" },
    });
    expect(route("GET", "/test")?.routeKey).toBe("ANY /{proxy+}");
    expect(route("GET", "/")?.routeKey).toBe("$default");
    expect(routeMatcher(routes.slice(0, 3))("GET", "/pets")).toBeUndefined();
  });

  it("refuses route tables API Gateway refuses", () => {
    expect(() => routeMatcher([{ method: "GET", path: "/a/{proxy+}/b" }])).toThrow(/greedy/);
    expect(() =>
      routeMatcher([
        { method: "GET", path: "/a" },
        { method: "GET", path: "/a" },
      ]),
    ).toThrow(/twice/);
    expect(() => routeMatcher([{ method: "GET", path: "a" }])).toThrow(/start with/);
  });
});

describe("HTTP API: the payload 2.0 event a function receives", () => {
  it("has every field of AWS's documented example, each of the documented type", async () => {
    const clock = fakeClock();
    const { events, functions } = recording();
    const api = new HttpApi({ routes: ROUTES, functions, clock });
    const response = await api.handle(
      edge({
        method: "POST",
        target: "/incidents/INC%207/notes?parameter1=value1&parameter1=value2&parameter2=value",
        headers: [
          ["Host", "abc123.execute-api.us-east-1.amazonaws.com"],
          ["Content-Type", "application/json"],
          ["User-Agent", "agent/1.0"],
          ["X-Repeated", "value1"],
          ["x-repeated", "value2"],
          ["Cookie", "cookie1=a; cookie2=b"],
          ["Cookie", "cookie3=c"],
        ],
        bodyText: '{"text":"Hello from Lambda"}',
      }),
    );
    expect(response.statusCode).toBe(204);
    const [event] = events;
    expect(typesOf(event)).toMatchObject(typesOf(DOCUMENTED_EVENT));

    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "POST /incidents/{id}/notes",
      rawPath: "/incidents/INC%207/notes",
      rawQueryString: "parameter1=value1&parameter1=value2&parameter2=value",
      cookies: ["cookie1=a", "cookie2=b", "cookie3=c"],
      queryStringParameters: { parameter1: "value1,value2", parameter2: "value" },
      pathParameters: { id: "INC 7" },
      body: '{"text":"Hello from Lambda"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: "000000000000",
        apiId: "local",
        domainName: "abc123.execute-api.us-east-1.amazonaws.com",
        domainPrefix: "abc123",
        http: {
          method: "POST",
          path: "/incidents/INC%207/notes",
          protocol: "HTTP/1.1",
          sourceIp: "203.0.113.7",
          userAgent: "agent/1.0",
        },
        routeKey: "POST /incidents/{id}/notes",
        stage: "$default",
        time: "13/Mar/2024:10:00:00 +0000",
        timeEpoch: clock.now(),
      },
    });
    // Names lower-cased, repeats joined with commas, cookies moved out of the headers.
    expect(event?.headers["x-repeated"]).toBe("value1,value2");
    expect(event?.headers["content-type"]).toBe("application/json");
    expect(Object.keys(event?.headers ?? {}).every((name) => name === name.toLowerCase())).toBe(
      true,
    );
    expect(event?.headers.cookie).toBeUndefined();
    expect(event?.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(event?.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{14}==?$/);
    expect(response.headers["apigw-requestid"]).toBe(event?.requestContext.requestId);
  });

  it("leaves out what the request does not have", async () => {
    const { events, functions } = recording();
    await new HttpApi({ routes: ROUTES, functions }).handle(edge({ target: "/incidents" }));
    const [event] = events;
    expect(event).toMatchObject({ routeKey: "GET /incidents", rawQueryString: "" });
    for (const absent of ["cookies", "queryStringParameters", "pathParameters", "body"]) {
      expect(event, absent).not.toHaveProperty(absent);
    }
    expect(event?.isBase64Encoded).toBe(false);
  });

  it("gives the function a context with its deployed timeout", async () => {
    const { contexts, functions } = recording();
    const api = new HttpApi({ routes: ROUTES, functions });
    await api.handle(edge({ method: "POST", target: "/slack/commands" }));
    expect(contexts[0]?.functionName).toBe("slack");
    // The topology gives slack 10 s.
    expect(contexts[0]?.getRemainingTimeInMillis()).toBeGreaterThan(9_000);
    expect(contexts[0]?.getRemainingTimeInMillis()).toBeLessThanOrEqual(10_000);
  });

  it("writes time as API Gateway does", () => {
    expect(gatewayTime(Date.UTC(2020, 2, 4, 9, 3, 5))).toBe("04/Mar/2020:09:03:05 +0000");
  });
});

describe("HTTP API: request bodies, text or base64", () => {
  it("passes only text/*, JSON, XML and JavaScript as text", () => {
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "text/csv; charset=utf-8",
      "application/xml",
      "application/javascript",
    ]) {
      expect(isTextContentType(type), type).toBe(true);
    }
    for (const type of [
      undefined,
      "",
      "application/x-www-form-urlencoded",
      "application/octet-stream",
      "multipart/form-data; boundary=x",
      "application/vnd.api+json",
      "image/png",
    ]) {
      expect(isTextContentType(type), String(type)).toBe(false);
    }
  });

  it("base64-encodes Slack's form bodies and leaves JSON bodies as text", async () => {
    const { events, functions } = recording();
    const api = new HttpApi({ routes: ROUTES, functions });
    const form = "token=x&team_id=T1&command=%2Fincident&text=ack+INC1";
    await api.handle(
      edge({
        method: "POST",
        target: "/slack/commands",
        headers: [["content-type", "application/x-www-form-urlencoded"]],
        bodyText: form,
      }),
    );
    await api.handle(
      edge({
        method: "POST",
        target: "/webhooks/sentry",
        headers: [["content-type", "application/json"]],
        bodyText: '{"action":"created"}',
      }),
    );
    const binary = Buffer.from([0, 255, 1, 254]);
    await api.handle(
      edge({ method: "POST", target: "/webhooks/sentry", headers: [], body: async () => binary }),
    );
    const [slack, sentry, untyped] = events;
    expect(slack).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from(form).toString("base64"),
    });
    expect(sentry).toMatchObject({ isBase64Encoded: false, body: '{"action":"created"}' });
    expect(untyped).toMatchObject({ isBase64Encoded: true, body: binary.toString("base64") });
  });
});

describe("HTTP API: what the client receives for what a function returned", () => {
  const answering = (answer: unknown, options: Partial<HttpApiOptions> = {}) => {
    const failures: string[] = [];
    const fn: HttpFunction = async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const api = new HttpApi({
      routes: ROUTES,
      functions: { api: fn, slack: fn, "sentry-webhook": fn },
      onFailure: (failure) => failures.push(failure.reason),
      ...options,
    });
    return { failures, send: () => api.handle(edge()) };
  };

  it("maps a structured result: status, headers, cookies, base64 body", async () => {
    const response = await answering({
      statusCode: 201,
      headers: { "Content-Type": "image/png", "X-Count": 3, "x-flag": true },
      cookies: ["a=1; HttpOnly", "b=2"],
      body: Buffer.from([137, 80, 78, 71]).toString("base64"),
      isBase64Encoded: true,
    }).send();
    expect(response.statusCode).toBe(201);
    expect(response.headers).toMatchObject({
      "content-type": "image/png",
      "x-count": "3",
      "x-flag": "true",
      "set-cookie": ["a=1; HttpOnly", "b=2"],
      "content-length": "4",
    });
    expect([...response.body]).toEqual([137, 80, 78, 71]);
  });

  it("answers 200 application/json for a bare string or an object without statusCode", async () => {
    const text = await answering("Hello from Lambda!").send();
    expect(text.statusCode).toBe(200);
    expect(text.headers["content-type"]).toBe("application/json");
    expect(text.body.toString()).toBe("Hello from Lambda!");
    const object = await answering({ message: "Hello from Lambda!" }).send();
    expect(object.statusCode).toBe(200);
    expect(jsonOf(object.body)).toEqual({ message: "Hello from Lambda!" });
    expect((await answering(undefined).send()).body.toString()).toBe("null");
  });

  it("answers 500 Internal Server Error for a thrown handler or a malformed result", async () => {
    for (const answer of [
      new Error("boom"),
      { statusCode: "200" },
      { statusCode: 200, body: { not: "a string" } },
      { statusCode: 200, headers: { "x-a": null } },
      { statusCode: 99 },
      { statusCode: 200, cookies: "a=1" },
    ]) {
      const { failures, send } = answering(answer);
      const response = await send();
      expect(response.statusCode, JSON.stringify(answer)).toBe(500);
      expect(response.headers["content-type"]).toBe("application/json");
      expect(jsonOf(response.body)).toEqual({ message: "Internal Server Error" });
      expect(failures).toHaveLength(1);
    }
  });

  it("answers 503 when the integration times out, 500 when the function does", async () => {
    const never = new Promise(() => {});
    const hanging = (options: Partial<HttpApiOptions>) => {
      const fn: HttpFunction = () => never;
      return new HttpApi({
        routes: ROUTES,
        functions: { api: fn, slack: fn, "sentry-webhook": fn },
        ...options,
      });
    };
    const unavailable = await hanging({
      integrationTimeoutMs: 20,
      functionTimeoutMs: { api: 60_000 },
    }).handle(edge());
    expect(unavailable.statusCode).toBe(503);
    expect(jsonOf(unavailable.body)).toEqual({ message: "Service Unavailable" });

    const timedOut = await hanging({ functionTimeoutMs: { api: 20 } }).handle(edge());
    expect(timedOut.statusCode).toBe(500);
    expect(jsonOf(timedOut.body)).toEqual({ message: "Internal Server Error" });
  });
});

describe("HTTP API: throttling per route (token bucket)", () => {
  const limited: RouteSpec[] = [
    {
      method: "GET",
      path: "/incidents",
      function: "api",
      throttle: { rateLimit: 2, burstLimit: 3 },
    },
    {
      method: "GET",
      path: "/silences",
      function: "api",
      throttle: { rateLimit: 2, burstLimit: 3 },
    },
  ];

  it("answers 429 after the burst, without invoking, and recovers at the rate", async () => {
    const clock = fakeClock();
    const { events, functions } = recording();
    const api = new HttpApi({ routes: limited, functions, clock });
    const statuses = async (target: string, count: number) => {
      const out: number[] = [];
      for (let index = 0; index < count; index++) {
        out.push((await api.handle(edge({ target }))).statusCode);
      }
      return out;
    };

    expect(await statuses("/incidents", 4)).toEqual([204, 204, 204, 429]);
    const throttled = await api.handle(edge({ target: "/incidents" }));
    expect(throttled.statusCode).toBe(429);
    expect(jsonOf(throttled.body)).toEqual({ message: "Too Many Requests" });
    expect(events).toHaveLength(3);
    // Each route has its own bucket.
    expect(await statuses("/silences", 1)).toEqual([204]);

    // 2 tokens a second: one more after 500 ms, not before.
    clock.advance(499);
    expect(await statuses("/incidents", 1)).toEqual([429]);
    clock.advance(1);
    expect(await statuses("/incidents", 2)).toEqual([204, 429]);

    // A long pause refills up to the burst, never beyond it.
    clock.advance(60_000);
    expect(await statuses("/incidents", 4)).toEqual([204, 204, 204, 429]);
  });

  it("uses the topology's limits: the webhooks' tighter burst", async () => {
    const clock = fakeClock();
    const { functions } = recording();
    const api = new HttpApi({ routes: ROUTES, functions, clock });
    const sentry = ROUTES.find((route) => route.function === "sentry-webhook") as RouteSpec;
    const request = edge({ method: "POST", target: "/webhooks/sentry" });
    for (let index = 0; index < sentry.throttle.burstLimit; index++) {
      expect((await api.handle(request)).statusCode).toBe(204);
    }
    expect((await api.handle(request)).statusCode).toBe(429);
    // Another route's bucket is untouched.
    expect((await api.handle(edge())).statusCode).toBe(204);
  });
});

describe("HTTP API through the local server", () => {
  const clock = fakeClock();
  const { events, functions } = recording((event) =>
    event.rawPath === "/incidents" ? { items: [] } : { statusCode: 200, body: "ok" },
  );
  let url = "";
  let close: () => Promise<void> = async () => {};
  let queue: LocalQueue | undefined;

  beforeAll(async () => {
    queue = await LocalQueue.open();
    const server = await startServer(
      {
        queue,
        store: new DynamoDbIncidentStore({
          // Never called: no request here reads incidents.
          client: new DynamoDBClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }),
          tableName: "unused",
        }),
        outbox: new OutboxPager(silentLogger),
        simulation: new SimulatedAws(),
        dynamodbRequests: {},
        dynamodbUnits: { read: 0, write: 0 },
        invocationMs: {},
        invocations: {},
        deliver: async () => [],
        capturingQueued: async (run) => ({ result: await run(), queued: [] }),
        incidentsOf: () => [],
        settle: async () => {},
      },
      {
        port: 0,
        host: "127.0.0.1",
        functions,
        routes: ROUTES,
        clock,
        policy: new Policy(parseConfig(shippedConfig)),
        logger: silentLogger,
        apiTokens: [{ name: "tests", token: TOKEN }],
        live: false,
      },
    );
    url = server.url;
    close = server.close;
  });

  afterAll(async () => {
    await close();
    await queue?.stop();
  });

  /** A raw request, so that repeated header lines reach the server as sent. */
  const send = (
    method: string,
    path: string,
    headers: Record<string, string | string[]>,
    body = "",
  ) =>
    new Promise<{ status: number; headers: Record<string, unknown>; text: string }>(
      (resolve, reject) => {
        const outgoing = httpRequest(`${url}${path}`, { method, headers }, (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("end", () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        });
        outgoing.on("error", reject);
        outgoing.end(body);
      },
    );

  it("hands the function API Gateway's event: base64 form, repeated headers and query keys", async () => {
    const form = "command=%2Fincident&text=list";
    const answer = await send(
      "POST",
      "/slack/commands?a=1&a=2&b=x%20y",
      {
        "content-type": "application/x-www-form-urlencoded",
        "x-multi": ["one", "two"],
        cookie: "session=abc",
      },
      form,
    );
    expect(answer).toMatchObject({ status: 200, text: "ok" });
    expect(answer.headers["apigw-requestid"]).toEqual(expect.any(String));
    const event = events.at(-1);
    expect(event).toMatchObject({
      routeKey: "POST /slack/commands",
      rawQueryString: "a=1&a=2&b=x%20y",
      queryStringParameters: { a: "1,2", b: "x y" },
      cookies: ["session=abc"],
      isBase64Encoded: true,
      requestContext: {
        domainName: "127.0.0.1",
        http: {
          method: "POST",
          path: "/slack/commands",
          protocol: "HTTP/1.1",
          sourceIp: "127.0.0.1",
        },
        timeEpoch: clock.now(),
      },
    });
    expect(Buffer.from(event?.body ?? "", "base64").toString("utf8")).toBe(form);
    expect(event?.headers["x-multi"]).toBe("one,two");
  });

  it("answers API Gateway's 404 for paths and methods no route has", async () => {
    for (const [method, path] of [
      ["GET", "/nowhere"],
      ["GET", "/slack/commands"],
      ["PATCH", "/incidents"],
    ] as const) {
      const before = events.length;
      const answer = await send(method, path, {});
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(JSON.parse(answer.text)).toEqual({ message: "Not Found" });
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(events).toHaveLength(before);
    }
  });

  it("maps an inferred result, and keeps the local stack's own routes", async () => {
    const listed = await send("GET", "/incidents", {});
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toEqual({ items: [] });
    const health = await send("GET", "/health", {});
    expect(JSON.parse(health.text)).toEqual({ status: "ok" });
    const queueStats = await send("GET", "/local/queue", { authorization: `Bearer ${TOKEN}` });
    expect(queueStats.status).toBe(200);
    const invoked = await send(
      "POST",
      "/2015-03-31/functions/api/invocations",
      { "content-type": "application/json" },
      JSON.stringify({ rawPath: "/direct" }),
    );
    expect(invoked.status).toBe(200);
    expect(JSON.parse(invoked.text)).toEqual({ statusCode: 200, body: "ok" });
  });

  it("throttles a route at its deployed burst until the clock moves", async () => {
    const sentry = ROUTES.find((route) => route.function === "sentry-webhook") as RouteSpec;
    const statuses: number[] = [];
    for (let index = 0; index < sentry.throttle.burstLimit; index++) {
      const answer = await send("POST", "/webhooks/sentry", JSON_TYPE, "{}");
      statuses.push(answer.status);
    }
    expect(new Set(statuses)).toEqual(new Set([200]));
    const refused = await send("POST", "/webhooks/sentry", {}, "{}");
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text)).toEqual({ message: "Too Many Requests" });
    clock.advance(1000 / sentry.throttle.rateLimit);
    expect((await send("POST", "/webhooks/sentry", {}, "{}")).status).toBe(200);
  });
});
