import * as z from "zod";
import type { Person } from "../actions/escalation-policy";
import { ConfigError } from "../errors";
import { incidentButtons } from "../slack/buttons";
import { type PageContent, pageText } from "./messages";
import { clipUtf8, type HttpPost, SMS_MAX_BYTES, type SmsPublish, wellFormed } from "./transport";

export const SLACK_POST_MESSAGE_URL = "https://slack.com/api/chat.postMessage";

/** A person with their secrets read: where each transport reaches them. */
export interface ResolvedPerson {
  slack?: string;
  phone?: string;
  pagerdutyRoutingKey?: string;
}

/** How people are reached: their contacts, and the bot token Slack direct messages go out with. */
export interface PeopleDirectory {
  people: Record<string, ResolvedPerson>;
  /** The Firebreak app's bot token (`xoxb-...`, scope chat:write); absent: no Slack DMs. */
  slackBotToken?: string;
}

/**
 * Reads `env:NAME` references in people's PagerDuty routing keys, as channels' are read.
 * @throws ConfigError naming the person and the missing variable
 */
export function resolvePeople(
  people: Record<string, Person>,
  env: Record<string, string | undefined>,
): Record<string, ResolvedPerson> {
  return Object.fromEntries(
    Object.entries(people).map(([name, person]) => {
      let routingKey = person.pagerduty?.routingKey;
      if (routingKey?.startsWith("env:")) {
        const variable = routingKey.slice(4);
        routingKey = env[variable];
        if (!routingKey || !/^[^\s\p{Cc}]+$/u.test(routingKey)) {
          throw new ConfigError(
            `people.${name}.pagerduty.routingKey: environment variable ${variable} is not set or holds whitespace`,
          );
        }
      }
      return [name, { slack: person.slack, phone: person.phone, pagerdutyRoutingKey: routingKey }];
    }),
  );
}

const escapeSlack = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A Slack direct message from the Firebreak bot: `chat.postMessage` with the user id as the
 * channel, which Slack delivers in the app's DM with that user.
 */
export function slackDirectMessage(
  botToken: string,
  userId: string,
  content: PageContent,
): HttpPost {
  const text = escapeSlack(pageText(content));
  const link = content.consoleUrl ? ` <${content.consoleUrl}|open in Firebreak>` : "";
  return {
    url: SLACK_POST_MESSAGE_URL,
    headers: { authorization: `Bearer ${botToken}` },
    body: {
      channel: userId,
      text,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `*${text}*${link}` } },
        // The page's buttons, so whoever is woken can act from the DM.
        ...(content.digest ? [] : incidentButtons(content.incident, content.actions ?? [])),
      ],
      unfurl_links: false,
    },
  };
}

/** An SMS: the page's one line, cut to {@link SMS_MAX_BYTES}. */
export const smsPublish = (phoneNumber: string, content: PageContent): SmsPublish => ({
  phoneNumber,
  message: clipUtf8(wellFormed(pageText(content)), SMS_MAX_BYTES, "..."),
});

/** Slack's Web API answers 200 with `ok: false` when it refused; its error says why. */
const SlackAnswerSchema = z.object({ ok: z.boolean(), error: z.string().optional() });

/**
 * What a Web API answer of 200 says: sent, or refused with Slack's error (`ratelimited` is
 * worth another try; `channel_not_found`, `invalid_auth`... are not).
 */
export function slackWebApiOutcome(body: string | undefined): {
  ok: boolean;
  retry: boolean;
  error: string;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? "");
  } catch {
    parsed = undefined;
  }
  const answer = SlackAnswerSchema.safeParse(parsed);
  if (!answer.success) return { ok: false, retry: true, error: "unreadable answer" };
  const error = answer.data.error ?? (answer.data.ok ? "" : "refused");
  return { ok: answer.data.ok, retry: error === "ratelimited" || error === "fatal_error", error };
}
