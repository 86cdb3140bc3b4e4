import {
  assertValidSignals,
  encodeSignalBatches,
  formatIssues,
  InvalidEventError,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  type SentryWebhookDeps,
  sentryHookTime,
  signalFromSentry,
  UnauthorizedError,
  verifySentrySignature,
} from "@firebreak/core";
import { parseSentryWebhook, SentryResourceSchema } from "@firebreak/events";
import { awsApp } from "./lib/aws";
import { header, json, rawBody } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";

/**
 * `POST /webhooks/sentry`. The signature is checked on the raw bytes before anything is parsed
 * (401 when missing or wrong), then the hook timestamp (401 outside `incidents.trustedTime`);
 * the signal is queued and Sentry answered at once (it wants a reply within a second).
 * Resources that are not incidents (installation, comment, ones newer than this code) are
 * acknowledged and ignored. A replayed webhook is queued again but counted once: its delivery
 * id comes from the signed body, never from the unsigned `Request-ID`.
 */
export function createSentryWebhookHandler(deps: () => Promise<SentryWebhookDeps>) {
  const logger = createLogger("sentry-webhook");
  return httpLambda(logger, async (event) => {
    // Only POST is routed here in AWS; locally every method reaches the function.
    if ((event.requestContext?.http?.method ?? "POST") !== "POST") {
      return json(405, { error: { code: "method_not_allowed", message: "use POST" } });
    }
    const { queue, clientSecret, clock, trustedTime } = await deps();
    const body = rawBody(event);
    if (!verifySentrySignature(body, header(event, "sentry-hook-signature"), clientSecret)) {
      throw new UnauthorizedError("Sentry-Hook-Signature is missing or does not match the body");
    }
    const sent = sentryHookTime(header(event, "sentry-hook-timestamp"), clock.now(), trustedTime);
    if (!sent.ok) throw new UnauthorizedError(sent.message);
    const resource = header(event, "sentry-hook-resource") ?? "";
    if (!SentryResourceSchema.safeParse(resource).success) {
      return json(202, { accepted: 0, note: `ignored resource "${resource.slice(0, 40)}"` });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      throw new InvalidEventError("the body is not valid JSON");
    }
    if (nestsDeeperThan(payload, MAX_JSON_DEPTH)) {
      throw new InvalidEventError(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    const parsed = parseSentryWebhook(resource, payload);
    if (!parsed.success) {
      throw new InvalidEventError(
        `invalid Sentry ${resource} webhook: ${formatIssues(parsed.error)}`,
      );
    }
    const signal = signalFromSentry({ webhook: parsed.data, sentAt: sent.sentAt });
    if (!signal)
      return json(202, {
        accepted: 0,
        note: `${resource} ${parsed.data.body.action}: nothing to do`,
      });
    // A 202 promises the signal will be counted: one the processor would refuse is refused now.
    assertValidSignals([signal]);
    await queue.send(encodeSignalBatches([signal]));
    return json(202, { accepted: 1 });
  });
}

export const handler = createSentryWebhookHandler(awsApp.sentryWebhook);
