import { type IncomingHttpHeaders, request } from "node:http";
import type { Logger } from "@firebreak/core";
import { aRecord } from "@firebreak/core/testing";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleLogger } from "../src/console-logger";
import { OutboxPager } from "../src/outbox";
import type { LocalStack } from "../src/stack";
import { drained, startTestStack, TOKEN } from "./helpers";

/**
 * The local stack is a server on a developer's laptop: every web page they visit can send
 * requests to it, and its console shows what payloads say. These are the attacks that worked.
 */

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface Call {
  method?: string;
  path: string;
  /** Sent as given; `host` defaults to the stack's own address. */
  headers?: Record<string, string>;
  body?: string;
}

/** One request with exactly these headers (fetch would not let a test forge `Host`). */
function call(stack: LocalStack, options: Call): Promise<Answer> {
  const url = new URL(stack.url);
  const body = options.body === undefined ? undefined : Buffer.from(options.body, "utf8");
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? (body ? "POST" : "GET"),
        path: options.path,
        headers: {
          host: url.host,
          ...(body ? { "content-length": String(body.length) } : {}),
          ...options.headers,
        },
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
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

const JSON_TYPE = { "content-type": "application/json" };
const BEARER = { authorization: `Bearer ${TOKEN}` };

/** A refusal: the status, and the JSON error shape every local route answers with. */
function expectRefused(answer: Answer, status: number, code: string, context: string) {
  expect(answer.status, `${context}: ${answer.text}`).toBe(status);
  expect(answer.headers["content-type"], context).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
  expect(Object.keys(body), context).toEqual(["error"]);
  expect(body.error.code, context).toBe(code);
  expect(body.error.message.length, context).toBeGreaterThan(0);
}

let alarms = 0;
/** An EventBridge alarm of its own (id and name), so that what it opens can be told apart. */
function alarm(
  mutate: (event: { region: string; detail: { alarmName: string } }) => void = () => {},
) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
    id: string;
    region: string;
    resources: string[];
    detail: { alarmName: string };
  };
  alarms += 1;
  event.id = `laptop-${alarms}-${Date.now()}`;
  event.detail.alarmName = `laptop-alarm-${alarms}`;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:laptop-alarm-${alarms}`];
  mutate(event);
  return JSON.stringify(event);
}

/**
 * What a refused request must not have done: queue anything or run any function. Taken once
 * the work of earlier requests is done, so that only the requests in between can change it.
 */
async function activity(stack: LocalStack) {
  await drained(stack);
  await stack.settle();
  return { sent: stack.queue.stats().sent, invocations: { ...stack.invocations } };
}

/** Every character a terminal acts on or a reader is fooled by. */
const UNSAFE_IN_LINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

// What an alarm name did to the console: clear the screen, home the cursor, start a line that
// looks like the stack's own, and reverse the rest.
const CLEAR_AND_FORGE = "api-5xx\u001b[2J\u001b[H\r\n[firebreak] PAGE resolved \u202egnp.exe";

let stack: LocalStack;
const printed: string[] = [];

beforeAll(async () => {
  // The stack prints through the console logger it has on a laptop, into `printed`.
  stack = await startTestStack({
    // The default policy: these tests are about the edge, not what rules do with a signal.
    configInput: {},
    logger: consoleLogger("info", (line) => printed.push(line)),
    // No escalation sweep in the background: the tests count every function invocation.
    intervals: { escalationsMs: 3_600_000 },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("a web page cannot drive the local stack", () => {
  it("refuses a cross-origin text/plain POST to /local/events (a page's simple request)", async () => {
    const before = await activity(stack);
    const forged: Array<Record<string, string>> = [
      { "content-type": "text/plain;charset=UTF-8", origin: "https://evil.example" },
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "multipart/form-data; boundary=x" },
      {},
    ];
    for (const headers of forged) {
      const answer = await call(stack, { path: "/local/events?wait=true", headers, body: alarm() });
      if (headers.origin !== undefined)
        expectRefused(answer, 403, "forbidden", JSON.stringify(headers));
      else expectRefused(answer, 415, "unsupported_media_type", JSON.stringify(headers));
    }
    expect(await activity(stack)).toEqual(before);
  });

  it("refuses an Origin that is not the stack's own, and takes the console's", async () => {
    const url = new URL(stack.url);
    const before = await activity(stack);
    for (const origin of [
      "https://evil.example",
      "null",
      `http://127.0.0.1:${Number(url.port) + 1}`,
      `https://${url.host}`,
      `http://${url.host}.evil.example`,
    ]) {
      const answer = await call(stack, {
        path: "/local/events",
        headers: { ...JSON_TYPE, origin },
        body: alarm(),
      });
      expectRefused(answer, 403, "forbidden", origin);
    }
    expect(await activity(stack)).toEqual(before);
    for (const origin of [stack.url, `http://localhost:${url.port}`]) {
      const answer = await call(stack, {
        path: "/local/events?wait=true",
        headers: { ...JSON_TYPE, origin },
        body: alarm(),
      });
      expect(answer.status, `${origin}: ${answer.text}`).toBe(200);
      expect((JSON.parse(answer.text) as { incidents: string[] }).incidents).toHaveLength(1);
    }
  });

  it("refuses a Host that is not the stack's address (DNS rebinding), on every local route", async () => {
    const { port } = new URL(stack.url);
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    const before = await activity(stack);
    const routes: Call[] = [
      { path: "/local/events?wait=true", headers: { ...JSON_TYPE, ...rebound }, body: alarm() },
      { path: "/local/outbox", headers: { ...BEARER, ...rebound } },
      { path: "/local/aws", headers: { ...BEARER, ...rebound } },
      { path: "/local/queue", headers: { ...BEARER, ...rebound } },
      { path: "/local/metrics", headers: rebound },
      {
        path: "/2015-03-31/functions/ingest/invocations",
        headers: { ...JSON_TYPE, ...rebound },
        body: loadRawEvent("cloudwatch/alarm-action.json"),
      },
      // The rebinding page's name alone, without an Origin (a request from its own server side).
      { path: "/local/outbox", headers: { ...BEARER, host: `evil.example:${port}` } },
      { path: "/local/outbox", headers: { ...BEARER, host: "127.0.0.1" } },
    ];
    for (const route of routes) {
      expectRefused(await call(stack, route), 403, "forbidden", JSON.stringify(route.headers));
    }
    expect(await activity(stack)).toEqual(before);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `LOCALHOST:${port}`,
    ]) {
      const answer = await call(stack, { path: "/local/metrics", headers: { host } });
      expect(answer.status, host).toBe(200);
    }
  });

  it("the Invoke API refuses what a page can send, and takes what the AWS clients send", async () => {
    const path = "/2015-03-31/functions/ingest/invocations";
    const body = loadRawEvent("logs/control-message.json");
    const before = await activity(stack);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      const answer = await call(stack, { path, headers: { "content-type": type }, body });
      expectRefused(answer, 415, "unsupported_media_type", type);
    }
    const crossOrigin = await call(stack, {
      path,
      headers: { ...JSON_TYPE, origin: "https://evil.example" },
      body,
    });
    expectRefused(crossOrigin, 403, "forbidden", "cross-origin invoke");
    expect(await activity(stack)).toEqual(before);
    // The SDK for JavaScript v3 sends octet-stream, the AWS CLI no type at all.
    for (const headers of [JSON_TYPE, { "content-type": "application/octet-stream" }, {}]) {
      const answer = await call(stack, { path, headers, body });
      expect(answer.status, `${JSON.stringify(headers)}: ${answer.text}`).toBe(200);
    }
  });

  it("a forged alarm through the Invoke API from another origin opens nothing", async () => {
    const event = structuredClone(loadEvent("cloudwatch/alarm-action.json")) as {
      alarmData: { alarmName: string };
    };
    event.alarmData.alarmName = "forged-by-a-page";
    const before = await activity(stack);
    const answer = await call(stack, {
      path: "/2015-03-31/functions/ingest/invocations",
      headers: { "content-type": "text/plain", origin: "https://evil.example" },
      body: JSON.stringify(event),
    });
    expectRefused(answer, 403, "forbidden", "forged invoke");
    expect(await activity(stack)).toEqual(before);
  });
});

describe("payloads the stack has seen are read with the API token", () => {
  const reads: Call[] = [
    { path: "/local/outbox" },
    { path: "/local/aws" },
    { path: "/local/queue" },
    { method: "POST", path: "/local/queue/redrive" },
  ];

  it("refuses /local/outbox, /local/aws, /local/queue and redrive without a valid token", async () => {
    for (const read of reads) {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: "Bearer wrong-token-0123456789" },
        { authorization: TOKEN },
      ]) {
        const answer = await call(stack, { ...read, headers });
        expectRefused(answer, 401, "unauthorized", `${read.path} ${JSON.stringify(headers)}`);
        expect(answer.text, read.path).not.toContain("laptop-alarm");
      }
    }
  });

  it("answers them with the token; /local/metrics holds no payload and needs none", async () => {
    for (const read of reads) {
      const answer = await call(stack, { ...read, headers: BEARER });
      expect(answer.status, `${read.path}: ${answer.text}`).toBe(200);
    }
    expect((await call(stack, { path: "/local/metrics" })).status).toBe(200);
  });

  it("with REMEDIATION_MODE=live, invoking a function needs the token too", async () => {
    const live = await startTestStack({ configInput: {}, remediation: "live" });
    try {
      const path = "/2015-03-31/functions/ingest/invocations";
      const body = loadRawEvent("logs/control-message.json");
      expectRefused(
        await call(live, { path, headers: JSON_TYPE, body }),
        401,
        "unauthorized",
        "live invoke without a token",
      );
      const answer = await call(live, { path, headers: { ...JSON_TYPE, ...BEARER }, body });
      expect(answer.status, answer.text).toBe(200);
    } finally {
      await live.stop();
    }
  });
});

describe("what the stack prints is plain text", () => {
  it("the console logger prints one line with no control character or escape sequence", () => {
    const lines: string[] = [];
    const logger = consoleLogger("debug", (line) => lines.push(line));
    logger.warn(`incident 0ABC opened: ${CLEAR_AND_FORGE}`, { title: "\u009b2J\u001b]0;x\u0007" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(UNSAFE_IN_LINE);
    expect(lines[0]).toMatch(/^\[firebreak\] WARN incident 0ABC opened: api-5xx \[firebreak\]/);
  });

  it("the outbox prints pages and Slack replies clean, whatever logger it is given", async () => {
    const lines: string[] = [];
    const record = (message: string) => lines.push(message);
    const logger: Logger = { debug: record, info: record, warn: record, error: record };
    const outbox = new OutboxPager(logger);
    const { incident } = aRecord({ title: CLEAR_AND_FORGE });
    await outbox.deliver({
      transport: "sns",
      channel: "oncall",
      content: { incident, kind: "page", note: "note\u001b[31m\nforged", consoleUrl: null },
    });
    await outbox.followUp("https://hooks.slack.com/commands/T1/2/x", "done\u001b[2J\u2066");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(UNSAFE_IN_LINE);
    // What would have been sent is kept as it was.
    expect(outbox.entries[0]?.text).toContain(CLEAR_AND_FORGE);
  });

  it("an alarm named with escape sequences reaches the console as plain text", async () => {
    printed.length = 0;
    const answer = await call(stack, {
      path: "/local/events?wait=true",
      headers: JSON_TYPE,
      body: alarm((event) => {
        event.detail.alarmName = CLEAR_AND_FORGE;
      }),
    });
    expect(answer.status, answer.text).toBe(200);
    await stack.settle();
    const opened = printed.find((line) => line.includes("opened"));
    expect(opened).toContain("api-5xx [firebreak] PAGE resolved gnp.exe");
    for (const line of printed) {
      expect(line).not.toMatch(UNSAFE_IN_LINE);
      expect(line.startsWith("[firebreak]")).toBe(true);
    }
  });
});

describe("an alarm's region cannot point a link at another host", () => {
  it("refuses a region that is not a region code, and links to the AWS console otherwise", async () => {
    for (const region of ["evil.example.com/#", "us-east-1.evil.example", "x@evil.example"]) {
      const answer = await call(stack, {
        path: "/local/events?wait=true",
        headers: JSON_TYPE,
        body: alarm((event) => {
          event.region = region;
        }),
      });
      expectRefused(answer, 400, "invalid_event", region);
      expect(answer.text).toContain("region");
    }
    const accepted = await call(stack, {
      path: "/local/events?wait=true",
      headers: JSON_TYPE,
      body: alarm(),
    });
    const [id] = (JSON.parse(accepted.text) as { incidents: string[] }).incidents;
    const view = await call(stack, { path: `/incidents/${id}`, headers: BEARER });
    const { link } = JSON.parse(view.text) as { link: { url: string } };
    expect(new URL(link.url).host).toBe("us-east-1.console.aws.amazon.com");
  });
});
