import { FirebreakError } from "../errors";

/** An HTTP POST of JSON to a paging endpoint (a Slack incoming webhook, PagerDuty Events v2). */
export interface HttpPost {
  url: string;
  body: unknown;
  /** Headers beyond the JSON content type: Slack's Web API wants its bot token as a bearer. */
  headers?: Record<string, string>;
}

export interface HttpPostResult {
  status: number;
  /** From a 429's `Retry-After` header (seconds or a date), in milliseconds. */
  retryAfterMs?: number;
  /** A short excerpt of the response body, for the record. */
  body?: string;
}

/** An SNS Publish, its subject and message within {@link snsSubject}'s and SNS's limits. */
export interface SnsPublish {
  topicArn: string;
  subject: string;
  message: string;
}

/** An SMS through SNS Publish to a phone number (no topic, no subscription). */
export interface SmsPublish {
  /** E.164, such as +14155550100. */
  phoneNumber: string;
  message: string;
}

/**
 * SNS sends an SMS of at most 1,600 bytes, split into 140-byte parts (each billed): a page
 * stays one line, cut well before that.
 */
export const SMS_MAX_BYTES = 320;

/**
 * SNS Publish refuses a subject of 100 characters or more ("less than 100 characters long"),
 * and one that is not printable ASCII, holds line breaks or control characters, or does not
 * begin with a letter, number or punctuation mark (the API reference; SNS's newer wording says
 * UTF-8, but email subscribers and older regions still want ASCII, so ASCII is what is safe).
 */
export const SNS_SUBJECT_MAX_CHARACTERS = 99;
/** SNS Publish: a message of at most 256 KiB, counted in UTF-8 bytes, not characters. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/** What a cut subject ends with: ASCII, since "…" itself would break the subject. */
const SUBJECT_CUT = "...";
/** What a cut message text ends with, so a reader knows the rest is missing. */
export const TRUNCATED_MARK = "… [truncated]";

/** UTF-8 bytes of one code point; a lone surrogate is sent as U+FFFD, three bytes. */
const utf8Bytes = (codePoint: number) =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

/** The UTF-8 length of a string as it is sent (lone surrogates as U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += utf8Bytes(char.codePointAt(0) ?? 0);
  return bytes;
}

/**
 * The string with lone surrogates replaced by U+FFFD: the SDK URL-encodes SNS parameters, and
 * encoding a lone surrogate throws instead of publishing.
 */
export const wellFormed = (text: string): string => text.replace(/[\uD800-\uDFFF]/gu, "\uFFFD");

/**
 * The longest prefix of `text` within `maxBytes` UTF-8 bytes, `mark` included, cut between code
 * points (never inside a character); the text itself when it fits.
 */
export function clipUtf8(text: string, maxBytes: number, mark = TRUNCATED_MARK): string {
  if (utf8Length(text) <= maxBytes) return text;
  const budget = maxBytes - utf8Length(mark);
  if (budget < 0) return "";
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += utf8Bytes(char.codePointAt(0) ?? 0);
    if (bytes > budget) break;
    end += char.length;
  }
  return `${text.slice(0, end)}${mark}`;
}

/**
 * A subject SNS accepts, from any text: accents dropped (é → e), line breaks, tabs and control
 * characters as one space, any other non-ASCII run as one "?", then cut to 99 characters with
 * "..." when longer. Text with nothing printable left becomes `fallback`.
 */
export function snsSubject(text: string, fallback = "Firebreak notification"): string {
  const ascii = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[\s\p{Cc}]+/gu, " ")
    .replace(/[^\x20-\x7E]+/gu, "?")
    .replace(/ {2,}/g, " ")
    .trim();
  const subject = ascii === "" ? fallback : ascii;
  if (subject.length <= SNS_SUBJECT_MAX_CHARACTERS) return subject;
  return `${subject.slice(0, SNS_SUBJECT_MAX_CHARACTERS - SUBJECT_CUT.length).trimEnd()}${SUBJECT_CUT}`;
}

/** Whether SNS Publish accepts this subject (see {@link SNS_SUBJECT_MAX_CHARACTERS}). */
export const isSnsSubject = (subject: string): boolean =>
  subject.length <= SNS_SUBJECT_MAX_CHARACTERS && /^[\x21-\x7E][\x20-\x7E]*$/.test(subject);

/**
 * How pages leave Firebreak. In AWS: SNS through the SDK and HTTPS with fetch; locally, the
 * outbox (`GET /local/outbox`). A transport reports what happened; it does not retry (the
 * dispatcher does, per channel, so one failing channel never holds back the others).
 */
export interface PageTransport {
  publishSns(publish: SnsPublish): Promise<{ messageId: string }>;
  /** An SMS as a Transactional message (delivered first, as a page should be). */
  publishSms(sms: SmsPublish): Promise<{ messageId: string }>;
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
