import { constantTimeEqual, hmacSha256Hex } from "../signals/signature";

/** Slack's replay window: a request signed more than this far from now is refused. */
export const SLACK_MAX_SKEW_SECONDS = 300;

/** Why a request was refused; names the problem, never the secret or the expected signature. */
export type SlackVerificationFailure =
  | "not-configured"
  | "missing-timestamp"
  | "missing-signature"
  | "bad-timestamp"
  | "stale-timestamp"
  | "future-timestamp"
  | "bad-signature";

export type SlackVerification =
  | { ok: true }
  | { ok: false; reason: SlackVerificationFailure; message: string };

export interface SlackRequestToVerify {
  /** The body exactly as received (after base64 decoding), never re-encoded. */
  rawBody: Buffer | string;
  /** `X-Slack-Request-Timestamp`: seconds since the epoch. */
  timestamp: string | undefined;
  /** `X-Slack-Signature`: `v0=` and 64 hex digits. */
  signature: string | undefined;
  signingSecret: string;
  /** Milliseconds since the epoch. */
  now: number;
}

const MESSAGES: Record<SlackVerificationFailure, string> = {
  "not-configured": "Slack requests cannot be verified: no signing secret is configured",
  "missing-timestamp": "X-Slack-Request-Timestamp is missing",
  "missing-signature": "X-Slack-Signature is missing",
  "bad-timestamp": "X-Slack-Request-Timestamp is not a number of seconds",
  "stale-timestamp": `X-Slack-Request-Timestamp is more than ${SLACK_MAX_SKEW_SECONDS}s old`,
  "future-timestamp": `X-Slack-Request-Timestamp is more than ${SLACK_MAX_SKEW_SECONDS}s ahead`,
  "bad-signature": "X-Slack-Signature does not match the body",
};

const refuse = (reason: SlackVerificationFailure): SlackVerification => ({
  ok: false,
  reason,
  message: MESSAGES[reason],
});

/**
 * The `X-Slack-Signature` Slack would send: `v0=` and the hex HMAC-SHA256 of
 * `v0:{timestamp}:{raw body}` (for the local stack, tests and tools that play Slack).
 *
 * @example
 * signSlackRequest(secret, "1531420618", "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=...");
 * // "v0=a2114d57..."
 */
export function signSlackRequest(
  signingSecret: string,
  timestamp: string,
  rawBody: Buffer | string,
): string {
  // Sign the bytes as received: decoding and re-encoding the body would change them.
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody;
  const base = Buffer.concat([Buffer.from(`v0:${timestamp}:`, "utf8"), body]);
  return `v0=${hmacSha256Hex(signingSecret, base)}`;
}

/**
 * Checks that a request comes from Slack, before anything reads it: the timestamp is within
 * {@link SLACK_MAX_SKEW_SECONDS} of `now` (either way, so a captured request cannot be replayed
 * later) and the signature matches, compared in constant time.
 *
 * @example
 * const verdict = verifySlackRequest({
 *   rawBody,
 *   timestamp: header(event, "x-slack-request-timestamp"),
 *   signature: header(event, "x-slack-signature"),
 *   signingSecret,
 *   now: Date.now(),
 * });
 * if (!verdict.ok) throw new UnauthorizedError(verdict.message);
 */
export function verifySlackRequest(request: SlackRequestToVerify): SlackVerification {
  if (!request.signingSecret) return refuse("not-configured");
  const timestamp = request.timestamp?.trim();
  const signature = request.signature?.trim();
  if (!timestamp) return refuse("missing-timestamp");
  if (!signature) return refuse("missing-signature");
  if (!/^\d{1,12}$/.test(timestamp)) return refuse("bad-timestamp");
  const skew = Number(timestamp) - request.now / 1000;
  if (skew < -SLACK_MAX_SKEW_SECONDS) return refuse("stale-timestamp");
  if (skew > SLACK_MAX_SKEW_SECONDS) return refuse("future-timestamp");
  const expected = signSlackRequest(request.signingSecret, timestamp, request.rawBody);
  return constantTimeEqual(expected, signature) ? { ok: true } : refuse("bad-signature");
}
