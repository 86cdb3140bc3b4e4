import {
  alreadyHandledMessage,
  answerSlashCommand,
  formatIssues,
  InvalidInputError,
  type SlackDeps,
  SlashCommandFormSchema,
  slackRequestClaim,
  UnauthorizedError,
  verifySlackRequest,
} from "@firebreak/core";
import { awsApp } from "./lib/aws";
import { header, json, rawBody } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";

/**
 * `POST /slack/commands`, the `/incident` slash command. The signature is checked on the raw
 * bytes before anything else (401, nothing read, nothing changed); then the form (400 when a
 * field Slack always sends is missing); then the request is claimed, so a copy replayed within
 * its window is answered "already handled" and applies nothing; then the core answers with a
 * message, a 200 even for refusals and typos, so Slack shows a reply rather than
 * "dispatch_failed".
 */
export function createSlackHandler(deps: () => Promise<SlackDeps>) {
  const logger = createLogger("slack");
  return httpLambda(logger, async (event) => {
    const method = event.requestContext?.http?.method ?? "POST";
    if (method !== "POST") {
      return json(405, { error: { code: "method_not_allowed", message: "use POST" } });
    }
    const { signingSecret, replays, ...core } = await deps();
    const body = rawBody(event);
    const timestamp = header(event, "x-slack-request-timestamp") ?? "";
    const signature = header(event, "x-slack-signature") ?? "";
    const verdict = verifySlackRequest({
      rawBody: body,
      timestamp,
      signature,
      signingSecret,
      now: core.clock.now(),
    });
    if (!verdict.ok) {
      logger.warn("slack request refused", { reason: verdict.reason });
      throw new UnauthorizedError(verdict.message);
    }
    const fields = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    // Slack checks the certificate of a command's URL now and then with a signed `ssl_check`.
    if (fields.ssl_check !== undefined) return json(200, {});
    const form = SlashCommandFormSchema.safeParse(fields);
    if (!form.success) {
      throw new InvalidInputError(`invalid slash command: ${formatIssues(form.error)}`);
    }
    const claim = slackRequestClaim(timestamp, signature);
    if (!(await replays.firstTime(claim.key, claim.until))) {
      logger.warn("slack request replayed", { user: form.data.user_id });
      return json(200, alreadyHandledMessage());
    }
    return json(200, await answerSlashCommand(form.data, { ...core, logger }));
  });
}

export const handler = createSlackHandler(awsApp.slack);
