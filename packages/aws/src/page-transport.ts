import type { PublishCommandOutput, SNSClient } from "@aws-sdk/client-sns";
import {
  clipUtf8,
  type HttpPost,
  type HttpPostResult,
  type PageTransport,
  SMS_MAX_BYTES,
  type SmsPublish,
  SNS_MESSAGE_MAX_BYTES,
  type SnsPublish,
  snsSubject,
  TransientDeliveryError,
  wellFormed,
} from "@firebreak/core";
import {
  awsErrorCode,
  awsErrorMessage,
  isRegionName,
  isRetryableAwsError,
  SDK_CLIENT_SETTINGS,
} from "./remediation-gateway";

/**
 * The hosts pages may be posted to unless configured otherwise: Slack (webhooks, and the Web
 * API for direct messages) and PagerDuty.
 */
export const DEFAULT_PAGE_HOSTS: readonly string[] = Object.freeze([
  "hooks.slack.com",
  "slack.com",
  "events.pagerduty.com",
  "events.eu.pagerduty.com",
]);

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_BODY_EXCERPT = 500;

export interface FetchPageTransportOptions {
  /** Region of the default SNS client; topics in other regions get a client of their own. */
  region: string;
  /**
   * Builds the SNS client of a region, once; defaults to `SNSClient` with 3 attempts and the
   * timeouts of {@link SDK_CLIENT_SETTINGS}.
   */
  snsClientFactory?: (region: string) => SNSClient | Promise<SNSClient>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Hosts (`host` or `host:port`, exact, no wildcards) that `postJson` may reach over https.
   * Replaces {@link DEFAULT_PAGE_HOSTS}.
   */
  allowedHosts?: readonly string[];
  /** Per POST, covering the response body too. Defaults to 5 s. */
  timeoutMs?: number;
  /** For `Retry-After` dates; defaults to `Date.now`. */
  now?: () => number;
}

/** SNS's SDK package, imported on first use: a dispatcher that only posts to Slack never loads it. */
const snsSdk = () => import("./sdk/sns");

/** The default SNS client: a Publish that hangs fails and is retried, as other SDK calls are. */
export const defaultSnsClient = async (region: string): Promise<SNSClient> =>
  new (await snsSdk()).SNSClient({ region, ...SDK_CLIENT_SETTINGS.sns });

/**
 * How pages leave Firebreak in AWS: SNS Publish through the SDK, and JSON over HTTPS with
 * `fetch` to an allow-list of hosts (Slack webhooks, PagerDuty Events v2). It reports what
 * happened and never retries: the dispatcher does, per channel.
 *
 * Webhook URLs are secrets (a Slack webhook's path is its credential), so errors name the host
 * only, and nothing here logs.
 *
 * @example
 * ```ts
 * const transport = new FetchPageTransport({ region: "eu-west-1" });
 * const result = await transport.postJson({
 *   url: "https://events.pagerduty.com/v2/enqueue",
 *   body: { routing_key: key, event_action: "trigger", payload },
 * });
 * if (result.status === 429) await sleep(result.retryAfterMs ?? 60_000);
 * ```
 */
export class FetchPageTransport implements PageTransport {
  private readonly fetch: typeof fetch;
  private readonly snsClientFactory: (region: string) => SNSClient | Promise<SNSClient>;
  private readonly snsClients = new Map<string, Promise<SNSClient>>();
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: FetchPageTransportOptions) {
    // Fail at start rather than on the first page.
    if (!isRegionName(options.region)) {
      throw new Error(`FetchPageTransport: "${options.region}" is not a region name`);
    }
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new Error("FetchPageTransport: timeoutMs must be positive");
    }
    // Resolved at call time by default, so a test or polyfill replacing the global still counts.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.snsClientFactory = options.snsClientFactory ?? defaultSnsClient;
    this.allowedHosts = new Set(
      (options.allowedHosts ?? DEFAULT_PAGE_HOSTS).map((host) => host.trim().toLowerCase()),
    );
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async publishSns(publish: SnsPublish): Promise<{ messageId: string }> {
    const region = topicRegion(publish.topicArn) ?? this.options.region;
    let output: PublishCommandOutput;
    try {
      const [client, { PublishCommand }] = await Promise.all([this.snsClient(region), snsSdk()]);
      // Core already keeps within SNS's limits; this holds them for any caller, since SNS
      // refuses the whole page for one bad subject character or one byte too many.
      output = await client.send(
        new PublishCommand({
          TopicArn: publish.topicArn,
          Subject: snsSubject(publish.subject),
          Message: clipUtf8(wellFormed(publish.message), SNS_MESSAGE_MAX_BYTES),
        }),
      );
    } catch (error) {
      const message = `SNS Publish failed: ${awsErrorCode(error)}: ${awsErrorMessage(error)}`;
      if (isRetryableAwsError(error)) {
        throw new TransientDeliveryError(message, undefined, { cause: error });
      }
      throw new Error(message, { cause: error });
    }
    // SNS always answers with a MessageId; failing here would page twice for a missing field.
    return { messageId: output.MessageId ?? "unknown" };
  }

  /**
   * An SMS straight to a number (SNS needs no topic or subscription for it), Transactional so
   * that SNS delivers it first and by the most reliable route, as a page should be.
   */
  async publishSms(sms: SmsPublish): Promise<{ messageId: string }> {
    let output: PublishCommandOutput;
    try {
      const [client, { PublishCommand }] = await Promise.all([
        this.snsClient(this.options.region),
        snsSdk(),
      ]);
      output = await client.send(
        new PublishCommand({
          PhoneNumber: sms.phoneNumber,
          Message: clipUtf8(wellFormed(sms.message), SMS_MAX_BYTES, "..."),
          MessageAttributes: {
            "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
          },
        }),
      );
    } catch (error) {
      // The number is personal data: the error names the code, never the number.
      const message = `SNS SMS failed: ${awsErrorCode(error)}: ${awsErrorMessage(error)}`;
      if (isRetryableAwsError(error)) {
        throw new TransientDeliveryError(message, undefined, { cause: error });
      }
      throw new Error(message, { cause: error });
    }
    return { messageId: output.MessageId ?? "unknown" };
  }

  async postJson(post: HttpPost): Promise<HttpPostResult> {
    const url = this.allowedUrl(post.url);
    const body = toJson(post.body, url.host);
    const signal = AbortSignal.timeout(this.timeoutMs);
    const secret = url.pathname + url.search;
    let response: Response;
    try {
      response = await this.fetch(url.href, {
        method: "POST",
        // The caller's headers (a bot token) first, so none can change the content type.
        headers: { ...post.headers, "content-type": "application/json" },
        body,
        signal,
        // A redirect could lead anywhere, past the allow-list: report it as its status instead.
        redirect: "manual",
      });
    } catch (error) {
      const cause = { cause: redacted(error, secret) };
      if (signal.aborted) {
        throw new TransientDeliveryError(
          `POST to ${url.host} timed out after ${this.timeoutMs} ms`,
          undefined,
          cause,
        );
      }
      throw new TransientDeliveryError(
        `POST to ${url.host} failed: ${networkCode(error)}`,
        undefined,
        cause,
      );
    }
    const result: HttpPostResult = { status: response.status };
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
    try {
      result.body = (await response.text()).slice(0, MAX_BODY_EXCERPT);
    } catch {
      // The endpoint answered, so the page was delivered (or refused) already: losing the
      // excerpt must not turn into a failure the dispatcher would retry, paging twice.
    }
    return result;
  }

  private snsClient(region: string): Promise<SNSClient> {
    let client = this.snsClients.get(region);
    if (!client) {
      client = Promise.resolve().then(() => this.snsClientFactory(region));
      // A client that could not be built is tried again next time, not remembered.
      client.catch(() => this.snsClients.delete(region));
      this.snsClients.set(region, client);
    }
    return client;
  }

  /** The SSRF guard: https to an allowed host, or nothing is requested at all. */
  private allowedUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error("refused to POST: not a valid URL");
    }
    if (url.protocol !== "https:") {
      throw new Error(`refused to POST to ${url.host || "(no host)"}: only https is allowed`);
    }
    if (url.username || url.password) {
      throw new Error(`refused to POST to ${url.host}: credentials in the URL`);
    }
    if (!this.allowedHosts.has(url.host)) {
      throw new Error(`refused to POST to ${url.host}: host not allowed`);
    }
    return url;
  }
}

function toJson(body: unknown, host: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new Error(`POST to ${host}: body is not JSON`, { cause: error });
  }
  if (json === undefined) throw new Error(`POST to ${host}: body is not JSON`);
  return json;
}

/** The region of `arn:<partition>:sns:<region>:<account>:<topic>`, if the ARN has that shape. */
function topicRegion(topicArn: string): string | undefined {
  const region = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[\w.-]+$/.exec(topicArn)?.[1];
  return region !== undefined && isRegionName(region) ? region : undefined;
}

/**
 * `Retry-After` in milliseconds: delay-seconds ("3") or an HTTP date, past dates as 0; absent or
 * unreadable headers as undefined. Fractional seconds are accepted though the RFC has none.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // Date.parse reads bare numbers such as "3.5" as dates; an HTTP date always has a month name.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The first Node error code in the cause chain ("fetch failed" says nothing by itself). */
function networkCode(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === "string" && code) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return awsErrorCode(error);
}

/**
 * The error as `cause`, unless its chain mentions the URL's path and query (a webhook's secret):
 * then a copy with the secret cut out, so that logging the error cannot leak it.
 */
function redacted(error: unknown, secret: string): unknown {
  if (secret === "/" || !mentions(error, secret, 0)) return error;
  const copy = new Error(awsErrorMessage(error).replaceAll(secret, "/…"));
  copy.name = awsErrorCode(error);
  return copy;
}

function mentions(error: unknown, secret: string, depth: number): boolean {
  if (depth > 5 || error === undefined || error === null) return false;
  if (typeof error !== "object") return String(error).includes(secret);
  const { message, stack, cause } = error as {
    message?: unknown;
    stack?: unknown;
    cause?: unknown;
  };
  return (
    (typeof message === "string" && message.includes(secret)) ||
    (typeof stack === "string" && stack.includes(secret)) ||
    mentions(cause, secret, depth + 1)
  );
}
