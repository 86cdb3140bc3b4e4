import {
  AuthorizationErrorException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import {
  isSnsSubject,
  SNS_MESSAGE_MAX_BYTES,
  TRUNCATED_MARK,
  TransientDeliveryError,
  wellFormed,
} from "@firebreak/core";
import fc from "fast-check";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FetchPageTransport, parseRetryAfter } from "../src";

const slackPath = "/services/T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX";
const slackUrl = `https://hooks.slack.com${slackPath}`;
const pagerDutyUrl = "https://events.pagerduty.com/v2/enqueue";

type Respond = (url: string, init: RequestInit) => Response | Promise<Response>;

const fakeFetch = (respond: Respond) =>
  vi.fn<typeof fetch>(async (input, init) => respond(String(input), init ?? {}));

const transport = (fetch: typeof globalThis.fetch, options: { timeoutMs?: number } = {}) =>
  new FetchPageTransport({ region: "eu-west-1", fetch, ...options });

/** Everything an error says, its causes included, as a logger would print it. */
function printed(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    parts.push(current.message, current.stack ?? "");
  }
  return parts.join("\n");
}

describe("FetchPageTransport.postJson", () => {
  it("posts a Slack webhook as JSON, and returns 200 with the body", async () => {
    const fetch = fakeFetch(() => new Response("ok", { status: 200 }));
    const body = { text: ":rotating_light: checkout: 5xx rate above 5%" };
    const result = await transport(fetch).postJson({ url: slackUrl, body });
    expect(result).toStrictEqual({ status: 200, body: "ok" });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith(slackUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: expect.any(AbortSignal),
    });
  });

  it("posts a PagerDuty enqueue, and returns 202", async () => {
    const answer = '{"status":"success","message":"Event processed","dedup_key":"INC-1"}';
    const fetch = fakeFetch(() => new Response(answer, { status: 202 }));
    const body = {
      routing_key: "R0123456789ABCDEF0123456789ABCDE",
      event_action: "trigger",
      dedup_key: "INC-1",
      payload: {
        summary: "checkout: 5xx rate above 5%",
        source: "firebreak",
        severity: "critical",
      },
    };
    const result = await transport(fetch).postJson({ url: pagerDutyUrl, body });
    expect(result).toStrictEqual({ status: 202, body: answer });
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe(pagerDutyUrl);
    expect(init?.method).toBe("POST");
    expect(init?.headers).toStrictEqual({ "content-type": "application/json" });
    expect(JSON.parse(String(init?.body))).toStrictEqual(body);
  });

  it("reads Retry-After in seconds", async () => {
    const fetch = fakeFetch(
      () => new Response("rate limited", { status: 429, headers: { "Retry-After": "3" } }),
    );
    const result = await transport(fetch).postJson({ url: slackUrl, body: { text: "x" } });
    expect(result).toStrictEqual({ status: 429, retryAfterMs: 3000, body: "rate limited" });
  });

  it("reads Retry-After as an HTTP date", async () => {
    const fetch = fakeFetch(
      () =>
        new Response("", {
          status: 429,
          headers: { "Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT" },
        }),
    );
    const now = () => Date.parse("2026-10-21T07:28:00Z");
    const result = await new FetchPageTransport({ region: "eu-west-1", fetch, now }).postJson({
      url: pagerDutyUrl,
      body: {},
    });
    expect(result).toStrictEqual({ status: 429, retryAfterMs: 30_000, body: "" });
  });

  it("parses Retry-After only when it is there and readable", () => {
    const now = Date.parse("2026-10-21T07:28:00Z");
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-3", now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
  });

  it("returns a 500 as its status, without retryAfterMs, and at most 500 characters", async () => {
    const fetch = fakeFetch(() => new Response("e".repeat(2000), { status: 500 }));
    const result = await transport(fetch).postJson({ url: slackUrl, body: { text: "x" } });
    expect(result).toStrictEqual({ status: 500, body: "e".repeat(500) });
    expect(result).not.toHaveProperty("retryAfterMs");
  });

  it("throws a TransientDeliveryError on a network error, naming the host only", async () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const fetch = fakeFetch(() => {
      throw new TypeError("fetch failed", { cause: reset });
    });
    const error = await transport(fetch)
      .postJson({ url: slackUrl, body: { text: "secret incident" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toBe("POST to hooks.slack.com failed: ECONNRESET");
    expect(printed(error)).not.toContain(slackPath);
    expect(printed(error)).not.toContain("secret incident");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it("throws a TransientDeliveryError when the endpoint does not answer in time", async () => {
    const fetch = fakeFetch(
      (_, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    const error = await transport(fetch, { timeoutMs: 20 })
      .postJson({ url: slackUrl, body: { text: "x" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toBe("POST to hooks.slack.com timed out after 20 ms");
  });

  it("never lets the webhook path reach an error, even from the cause", async () => {
    const fetch = fakeFetch((url) => {
      throw new TypeError(`request to ${url} failed`, {
        cause: new Error(`connect ECONNREFUSED for ${url}`),
      });
    });
    const error = await transport(fetch)
      .postJson({ url: slackUrl, body: { text: "x" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(printed(error)).toContain("hooks.slack.com");
    expect(printed(error)).not.toContain(slackPath);
    expect(printed(error)).not.toContain("XXXXXXXXXXXXXXXXXXXXXXXX");
  });

  it.each([
    ["plain http", `http://hooks.slack.com${slackPath}`, "only https"],
    ["another host", `https://internal.example.com${slackPath}`, "host not allowed"],
    ["a look-alike host", `https://hooks.slack.com.example.com${slackPath}`, "host not allowed"],
    ["another port", `https://hooks.slack.com:8443${slackPath}`, "host not allowed"],
    ["the metadata service", "http://169.254.169.254/latest/meta-data/", "only https"],
    ["credentials in the URL", `https://user:pw@hooks.slack.com${slackPath}`, "credentials"],
    ["not a URL", `hooks.slack.com${slackPath}`, "not a valid URL"],
  ])("refuses %s without calling fetch", async (_, url, reason) => {
    const fetch = fakeFetch(() => new Response("ok"));
    const error = await transport(fetch)
      .postJson({ url, body: { text: "x" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toContain(reason);
    expect(printed(error)).not.toContain(slackPath);
    expect(printed(error)).not.toContain("meta-data");
    expect(fetch).not.toHaveBeenCalled();
  });

  it("takes its allow-list from the options, replacing the default one", async () => {
    const fetch = fakeFetch(() => new Response("ok"));
    const custom = new FetchPageTransport({
      region: "eu-west-1",
      fetch,
      allowedHosts: ["Hooks.Example.com"],
    });
    await expect(
      custom.postJson({ url: "https://hooks.example.com/page", body: {} }),
    ).resolves.toMatchObject({ status: 200 });
    await expect(custom.postJson({ url: slackUrl, body: {} })).rejects.toThrow("host not allowed");
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("refuses a body that is not JSON without calling fetch", async () => {
    const fetch = fakeFetch(() => new Response("ok"));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(transport(fetch).postJson({ url: slackUrl, body: cyclic })).rejects.toThrow(
      "POST to hooks.slack.com: body is not JSON",
    );
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("FetchPageTransport options", () => {
  it("fail at construction when the region or the timeout is unusable", () => {
    expect(() => new FetchPageTransport({ region: "eu west 1" })).toThrow("not a region name");
    expect(() => new FetchPageTransport({ region: "eu-west-1", timeoutMs: 0 })).toThrow(
      "timeoutMs must be positive",
    );
  });
});

describe("FetchPageTransport.publishSns", () => {
  const sns = mockClient(SNSClient);
  const topicArn = "arn:aws:sns:eu-west-1:123456789012:firebreak-pages";
  const publish = { topicArn, subject: "checkout: 5xx rate", message: "Incident INC-1 opened" };

  beforeEach(() => sns.reset());

  it("publishes exactly the topic, subject and message", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const result = await new FetchPageTransport({ region: "eu-west-1" }).publishSns(publish);
    expect(result).toStrictEqual({ messageId: "m-1" });
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: "checkout: 5xx rate",
      Message: "Incident INC-1 opened",
    });
    expect(sns.call(0).args[0].input).toStrictEqual({
      TopicArn: topicArn,
      Subject: "checkout: 5xx rate",
      Message: "Incident INC-1 opened",
    });
  });

  it("holds SNS's limits for any subject and message: ASCII subject under 100, at most 262,144 bytes", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const pages = new FetchPageTransport({ region: "eu-west-1" });
    // "binary" draws any code point, lone surrogates included; the repeat makes bodies that
    // straddle the limit, in multi-byte characters too.
    const text = fc.string({ unit: "binary", maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(text, text, fc.nat({ max: 3000 }), async (subject, body, repeat) => {
        sns.reset();
        sns.on(PublishCommand).resolves({ MessageId: "m-1" });
        const message = body.repeat(repeat) || "x";
        await pages.publishSns({ topicArn, subject, message });
        const sent = sns.call(0).args[0].input as PublishCommand["input"];
        // Printable ASCII, not starting with a space, fewer than 100 characters.
        expect(sent.Subject).toMatch(/^[!-~][ -~]{0,98}$/);
        expect(isSnsSubject(sent.Subject ?? "")).toBe(true);
        const bytes = Buffer.byteLength(sent.Message ?? "", "utf8");
        expect(bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
        // Encodable as sent (no lone surrogate), and cut only where it had to be, saying so.
        expect(() => encodeURIComponent(sent.Message ?? "")).not.toThrow();
        if (Buffer.byteLength(wellFormed(message), "utf8") > SNS_MESSAGE_MAX_BYTES) {
          expect(sent.Message?.endsWith(TRUNCATED_MARK)).toBe(true);
          expect(bytes).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES - 4 - TRUNCATED_MARK.length * 3);
        } else {
          expect(sent.Message).toBe(wellFormed(message));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("cuts a long message between characters, never inside one", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    // 4-byte characters, a 1-byte offset: a byte cut would land inside one.
    const message = `a${"😀".repeat(70_000)}`;
    await new FetchPageTransport({ region: "eu-west-1" }).publishSns({
      topicArn,
      subject: "Résumé:\nde l'incident — 🔥",
      message,
    });
    const sent = sns.call(0).args[0].input as PublishCommand["input"];
    expect(sent.Subject).toBe("Resume: de l'incident ? ?");
    const bytes = Buffer.from(sent.Message ?? "", "utf8");
    expect(bytes.length).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(new TextDecoder("utf-8", { fatal: true }).decode(bytes)).toBe(sent.Message);
    expect(sent.Message).toMatch(/^a(😀)+… \[truncated\]$/u);
  });

  it("builds one client per region, taken from the topic ARN, and reuses it", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const snsClientFactory = vi.fn((region: string) => new SNSClient({ region, maxAttempts: 3 }));
    const pages = new FetchPageTransport({ region: "eu-west-1", snsClientFactory });
    const elsewhere = { ...publish, topicArn: "arn:aws:sns:us-east-1:123456789012:oncall" };
    await pages.publishSns(publish);
    await pages.publishSns(elsewhere);
    await pages.publishSns(publish);
    await pages.publishSns(elsewhere);
    expect(snsClientFactory.mock.calls).toEqual([["eu-west-1"], ["us-east-1"]]);
    const regions = await Promise.all(
      sns.calls().map((call) => (call.thisValue as SNSClient).config.region()),
    );
    expect(regions).toEqual(["eu-west-1", "us-east-1", "eu-west-1", "us-east-1"]);
  });

  it("throws a TransientDeliveryError when SNS throttles", async () => {
    const throttled = new ThrottledException({
      message: "Rate exceeded",
      $metadata: { httpStatusCode: 400 },
    });
    sns.on(PublishCommand).rejects(throttled);
    const error = await new FetchPageTransport({ region: "eu-west-1" })
      .publishSns(publish)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect(error).toMatchObject({
      message: "SNS Publish failed: ThrottledException: Rate exceeded",
      cause: throttled,
    });
  });

  it("throws a plain Error with the code when SNS refuses for good", async () => {
    sns.on(PublishCommand).rejects(
      new AuthorizationErrorException({
        message: "not authorized to perform: SNS:Publish",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await new FetchPageTransport({ region: "eu-west-1" })
      .publishSns(publish)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toBe(
      "SNS Publish failed: AuthorizationErrorException: not authorized to perform: SNS:Publish",
    );
  });
});
