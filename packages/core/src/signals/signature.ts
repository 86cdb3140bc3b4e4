import { createHmac, timingSafeEqual } from "node:crypto";

/** Compares two strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  // Compare against itself on a length mismatch so both paths cost the same.
  return (
    timingSafeEqual(left, left.length === right.length ? right : left) &&
    left.length === right.length
  );
}

export const hmacSha256Hex = (secret: string, payload: Buffer | string) =>
  createHmac("sha256", secret).update(payload).digest("hex");

/**
 * Sentry's `Sentry-Hook-Signature`: hex HMAC-SHA256 of the raw body with the integration's client
 * secret. Computed over the bytes as received; re-serialised JSON would not match.
 */
export function verifySentrySignature(
  rawBody: Buffer | string,
  signature: string | undefined,
  secret: string,
): boolean {
  if (!signature) return false;
  return constantTimeEqual(hmacSha256Hex(secret, rawBody), signature.trim().toLowerCase());
}
