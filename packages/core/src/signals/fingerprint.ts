import * as crypto from "node:crypto";

/**
 * A digest of a short string. One-shot `hash` (Node 20.12 and later; Lambda's nodejs22.x) costs
 * about a tenth of a Hash object, and every signal takes several; older Node 20 lines keep the
 * object.
 */
export const digest: (
  algorithm: "sha256" | "md5",
  text: string,
  encoding: "hex" | "base64url",
) => string =
  typeof crypto.hash === "function"
    ? (algorithm, text, encoding) => crypto.hash(algorithm, text, encoding)
    : (algorithm, text, encoding) => crypto.createHash(algorithm).update(text).digest(encoding);

/** A short, stable digest for keys: 16 hex characters of SHA-256. */
export const shortHash = (text: string): string => digest("sha256", text, "hex").slice(0, 16);

const SIGNATURE_RULES: ReadonlyArray<[RegExp, string]> = [
  // Timestamps first, before their digits are taken for plain numbers.
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, "<time>"],
  [/\b\d{2}\/\d{2}\/\d{2,4}(?: \d{2}:\d{2}(?::\d{2})?)?/g, "<time>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  // X-Ray trace ids and AWS request ids in their other spellings.
  [/\b1-[0-9a-f]{8}-[0-9a-f]{24}\b/gi, "<trace>"],
  [/\b(?:RequestId|request[_-]?id|requestId)[:=]\s*\S+/gi, "RequestId: <id>"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  // Long hex runs (ids, hashes): a digit and a letter, so neither words nor plain numbers.
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, "<hex>"],
  // Prefixed ids such as ord_01JBZ7X4K2M9Q or i-0abc123def.
  [/\b[a-z]{1,5}[_-][0-9A-Za-z]*\d[0-9A-Za-z]*\b/g, "<id>"],
  [/\d+(?:\.\d+)?/g, "#"],
];

/**
 * The shape of an error message with the parts that differ between occurrences removed
 * (timestamps, UUIDs, request and trace ids, hex, numbers), so the same error from different
 * requests folds into one incident.
 *
 * @example
 * errorSignature("Task timed out after 6.01 seconds") // "Task timed out after # seconds"
 */
export function errorSignature(message: string): string {
  let signature = message.slice(0, 2000);
  for (const [pattern, replacement] of SIGNATURE_RULES) {
    signature = signature.replace(pattern, replacement);
  }
  return signature.replace(/\s+/g, " ").trim().slice(0, 500);
}

export const cloudwatchFingerprint = (account: string, region: string, alarmName: string) =>
  `cloudwatch:${account}:${region}:${alarmName}`;

/**
 * The delivery id of one alarm state change, the same whichever path delivered it (EventBridge,
 * SNS, an alarm action): each path has its own envelope id, so keying by it would count one
 * change once per path. `timestamp` is the state's own (canonical) time.
 *
 * @example
 * alarmTransitionId("arn:aws:cloudwatch:us-east-1:123456789012:alarm:api", "ALARM", "2024-11-05T14:03:40.536Z")
 */
export const alarmTransitionId = (alarmArn: string, state: string, timestamp: string) =>
  `cloudwatch-state:${shortHash(`${alarmArn}\n${state}\n${timestamp}`)}`;

export const logsFingerprint = (logGroup: string, signature: string) =>
  `logs:${logGroup}:${shortHash(signature)}`;

export const sentryIssueFingerprint = (issueId: string) => `sentry:issue:${issueId}`;

export const sentryMetricAlertFingerprint = (alertRuleId: string) =>
  `sentry:metric-alert:${alertRuleId}`;
