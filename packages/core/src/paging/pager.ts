import { personOf } from "../actions/escalation-policy";
import type { PageKind, Transport } from "../actions/model";
import {
  type PageContent,
  pagerDutyEvent,
  type ResolvedChannel,
  slackWebhookPost,
  snsPublish,
} from "./messages";
import {
  type PeopleDirectory,
  SLACK_POST_MESSAGE_URL,
  slackDirectMessage,
  slackWebApiOutcome,
  smsPublish,
} from "./people";
import { type HttpPost, type PageTransport, TransientDeliveryError } from "./transport";

/** One page through one transport of one channel, or of one person (`person:<name>`). */
export interface PageDelivery {
  transport: Transport;
  channel: string;
  content: PageContent;
}

/** `retry`: try again later (after `afterMs` if the receiver said so); `failed`: give up. */
export type DeliveryOutcome =
  | { status: "sent"; detail: string }
  | { status: "retry"; detail: string; afterMs?: number }
  | { status: "failed"; detail: string };

/** Delivers pages. Locally: the outbox. In AWS: SNS, Slack and PagerDuty over their APIs. */
export interface Pager {
  deliver(delivery: PageDelivery): Promise<DeliveryOutcome>;
  /** Tells a Slack command's `response_url` how the action it approved turned out. */
  followUp(responseUrl: string, text: string): Promise<void>;
}

/** The local outbox's entry for a page, also printed to the console. */
export interface OutboxEntry {
  at: string;
  channel: string;
  /** Who it reached: `channel:<name>` or `person:<name>`. */
  recipient: string;
  incidentId: string;
  kind: PageKind;
  transport: Transport;
  text: string;
}

/** A transport's exception as an outcome: transient ones are tried again. */
function failure(error: unknown): DeliveryOutcome {
  if (error instanceof TransientDeliveryError) {
    return { status: "retry", detail: error.message, afterMs: error.retryAfterMs };
  }
  return { status: "failed", detail: (error as Error).message };
}

/**
 * Pages through real transports. Reads HTTP answers as Slack and PagerDuty mean them: 2xx sent
 * (PagerDuty answers 202), 429 and 5xx later (honouring Retry-After), other 4xx never.
 */
export class TransportPager implements Pager {
  constructor(
    private readonly transport: PageTransport,
    private readonly channels: Record<string, ResolvedChannel>,
    private readonly directory: PeopleDirectory = { people: {} },
  ) {}

  async followUp(responseUrl: string, text: string): Promise<void> {
    // The transport only posts to its allow-list (hooks.slack.com among them).
    await this.transport.postJson({
      url: responseUrl,
      body: { response_type: "in_channel", replace_original: false, text },
    });
  }

  async deliver({ transport, channel, content }: PageDelivery): Promise<DeliveryOutcome> {
    const person = personOf(channel);
    if (person !== null) return this.deliverToPerson(transport, person, content);
    const resolved = this.channels[channel];
    try {
      if (transport === "sns") {
        if (!resolved?.sns)
          return { status: "failed", detail: `channel ${channel} has no SNS topic` };
        const { messageId } = await this.transport.publishSns(snsPublish(resolved.sns, content));
        return { status: "sent", detail: `SNS message ${messageId}` };
      }
      const post =
        transport === "slack"
          ? resolved?.slackWebhook && slackWebhookPost(resolved.slackWebhook, content)
          : resolved?.pagerdutyRoutingKey && pagerDutyEvent(resolved.pagerdutyRoutingKey, content);
      if (!post)
        return { status: "failed", detail: `channel ${channel} has no ${transport} target` };
      return await this.post(transport, post);
    } catch (error) {
      return failure(error);
    }
  }

  /** A person: a Slack DM from the bot, an SMS, or an alert on their PagerDuty service. */
  private async deliverToPerson(
    transport: Transport,
    name: string,
    content: PageContent,
  ): Promise<DeliveryOutcome> {
    const person = this.directory.people[name];
    try {
      if (transport === "sns") {
        if (!person?.phone) return { status: "failed", detail: `${name} has no phone number` };
        const { messageId } = await this.transport.publishSms(smsPublish(person.phone, content));
        return { status: "sent", detail: `SMS message ${messageId}` };
      }
      if (transport === "pagerduty") {
        if (!person?.pagerdutyRoutingKey)
          return { status: "failed", detail: `${name} has no PagerDuty routing key` };
        return await this.post(transport, pagerDutyEvent(person.pagerdutyRoutingKey, content));
      }
      if (!person?.slack) return { status: "failed", detail: `${name} has no Slack user id` };
      const token = this.directory.slackBotToken;
      if (!token) return { status: "failed", detail: "no Slack bot token for direct messages" };
      return await this.post(transport, slackDirectMessage(token, person.slack, content));
    } catch (error) {
      return failure(error);
    }
  }

  /** Reads HTTP answers; Slack's Web API (chat.postMessage) by its `ok` as well. */
  private async post(transport: Transport, post: HttpPost): Promise<DeliveryOutcome> {
    const result = await this.transport.postJson(post);
    const detail = `${transport} HTTP ${result.status}`;
    if (result.status >= 200 && result.status < 300) {
      if (post.url !== SLACK_POST_MESSAGE_URL) return { status: "sent", detail };
      const answer = slackWebApiOutcome(result.body);
      if (answer.ok) return { status: "sent", detail: "slack direct message" };
      return { status: answer.retry ? "retry" : "failed", detail: `slack ${answer.error}` };
    }
    if (result.status === 429 || result.status >= 500) {
      return { status: "retry", detail, afterMs: result.retryAfterMs };
    }
    return { status: "failed", detail: `${detail}: ${(result.body ?? "").slice(0, 200)}` };
  }
}
