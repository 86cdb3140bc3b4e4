import { FirebreakError } from "../errors";

/** An HTTP POST of JSON to a paging endpoint (a Slack incoming webhook, PagerDuty Events v2). */
export interface HttpPost {
  url: string;
  body: unknown;
}

export interface HttpPostResult {
  status: number;
  /** From a 429's `Retry-After` header (seconds or a date), in milliseconds. */
  retryAfterMs?: number;
  /** A short excerpt of the response body, for the record. */
  body?: string;
}

/** An SNS Publish: subject at most 100 characters, message at most 256 KB. */
export interface SnsPublish {
  topicArn: string;
  subject: string;
  message: string;
}

/**
 * How pages leave Firebreak. In AWS: SNS through the SDK and HTTPS with fetch; locally, the
 * outbox (`GET /local/outbox`). A transport reports what happened; it does not retry (the
 * dispatcher does, per channel, so one failing channel never holds back the others).
 */
export interface PageTransport {
  publishSns(publish: SnsPublish): Promise<{ messageId: string }>;
  postJson(post: HttpPost): Promise<HttpPostResult>;
}

/** A delivery that failed in a way a later attempt may fix. */
export class TransientDeliveryError extends FirebreakError {
  readonly code = "delivery_failed";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
