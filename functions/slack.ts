import { FetchPageTransport } from "@firebreak/aws";
import {
  alreadyHandledMessage,
  answerInteraction,
  answerSlashCommand,
  changesSomething,
  formatIssues,
  InvalidInputError,
  isSlackResponseUrl,
  once,
  parseInteractionForm,
  parseSlashCommand,
  type SlackDeps,
  type SlackResponsePost,
  SlashCommandFormSchema,
  slackRequestClaim,
  UnauthorizedError,
  verifySlackRequest,
} from "@firebreak/core";
import { SLACK_INTERACTIONS_ROUTE } from "@firebreak/stacks/topology";
import { awsApp } from "./lib/aws";
import { type HttpEvent, header, json, rawBody, text } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";

/** Posts an answer to a press's `response_url` (Slack's hooks only; locally, the outbox). */
export type SlackResponder = (post: SlackResponsePost) => Promise<void>;

/**
 * `POST /slack/commands` (the `/incident` slash command) and `POST /slack/interactions` (button
 * presses). The signature is checked on the raw bytes before anything else (401, nothing read,
 * nothing changed); then the form (400 when a field Slack always sends is missing); then the
 * request is claimed, so a copy replayed within its window is answered "already handled" and
 * applies nothing; then the core answers (a command that changes nothing, such as `list`, while
 * the claim is written). A command's answer is the HTTP body, a 200 even for refusals and typos,
 * so Slack shows a reply rather than "dispatch_failed". A press's answer is posted to its
 * `response_url` (the message replaced, or a note for the presser) and the HTTP answer is an
 * empty 200: Slack ignores its body and wants it within 3 s, and a Lambda function cannot post
 * after it returned, so the post is bounded by the transport's timeout.
 */
export function createSlackHandler(deps: () => Promise<SlackDeps>, respond: SlackResponder) {
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
    const claim = slackRequestClaim(timestamp, signature);
    const firstTime = () => replays.firstTime(claim.key, claim.until);

    if (isInteraction(event)) {
      const payload = parseInteractionForm(body.toString("utf8"));
      const url = payload.response_url;
      if (!(await firstTime())) {
        logger.warn("slack press replayed", { user: payload.user.id });
        if (url && isSlackResponseUrl(url)) {
          await tell({
            responseUrl: url,
            body: { ...alreadyHandledMessage(), replace_original: false },
          });
        }
        return text(200, "", "text/plain; charset=utf-8");
      }
      const { post } = await answerInteraction(payload, { ...core, logger });
      if (post) await tell(post);
      return text(200, "", "text/plain; charset=utf-8");
    }

    const fields = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    // Slack checks the certificate of a command's URL now and then with a signed `ssl_check`.
    if (fields.ssl_check !== undefined) return json(200, {});
    const form = SlashCommandFormSchema.safeParse(fields);
    if (!form.success) {
      throw new InvalidInputError(`invalid slash command: ${formatIssues(form.error)}`);
    }
    const replayed = () => {
      logger.warn("slack request replayed", { user: form.data.user_id });
      return json(200, alreadyHandledMessage());
    };
    const answer = () => answerSlashCommand(form.data, { ...core, logger });
    if (changesSomething(parseSlashCommand(form.data.text))) {
      if (!(await firstTime())) return replayed();
      return json(200, await answer());
    }
    // A command that changes nothing (list, show, oncall, help) is answered while its claim is
    // written: one round trip less, and a replay's answer, read for nothing, is not sent.
    const [first, message] = await Promise.all([firstTime(), answer()]);
    return first ? json(200, message) : replayed();
  });

  /** A lost update leaves the message as it was; the change itself is made and on the timeline. */
  async function tell(post: SlackResponsePost): Promise<void> {
    try {
      await respond(post);
    } catch (error) {
      // The name only: a message may carry the response_url, which lets anyone post as the app.
      logger.warn("slack response_url post failed", { error: (error as Error).name });
    }
  }
}

/** Button presses come on their own route; the path is the fallback for a direct invocation. */
function isInteraction(event: HttpEvent): boolean {
  if (event.routeKey) return event.routeKey === SLACK_INTERACTIONS_ROUTE;
  return (event.rawPath ?? "").endsWith("/slack/interactions");
}

/**
 * Slack's hooks over https, built on first use (the slash command alone never needs it). The
 * post is bounded well under Slack's 3 s for the press's own answer, which waits for it.
 */
const slackHooks = /* @__PURE__ */ once(
  async () =>
    new FetchPageTransport({ region: process.env.AWS_REGION ?? "us-east-1", timeoutMs: 1_500 }),
);

const postToSlack: SlackResponder = async ({ responseUrl, body }) => {
  const result = await (await slackHooks()).postJson({ url: responseUrl, body });
  if (result.status < 200 || result.status >= 300) {
    throw new Error(`response_url answered HTTP ${result.status}`);
  }
};

export const handler = createSlackHandler(awsApp.slack, postToSlack);
