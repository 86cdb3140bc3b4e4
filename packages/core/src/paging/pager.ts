import type { PageKind, Transport } from "../actions/model";
import {
  type PageContent,
  pagerDutyEvent,
  type ResolvedChannel,
  slackWebhookPost,
  snsPublish,
} from "./messages";
import { type PageTransport, TransientDeliveryError } from "./transport";

/** One page through one transport of one channel. */
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
  incidentId: string;
  kind: PageKind;
  transport: Transport;
  text: string;
}

/**
 * Pages through real transports. Reads HTTP answers as Slack and PagerDuty mean them: 2xx sent
 * (PagerDuty answers 202), 429 and 5xx later (honouring Retry-After), other 4xx never.
 */
export class TransportPager implements Pager {
  constructor(
    private readonly transport: PageTransport,
    private readonly channels: Record<string, ResolvedChannel>,
  ) {}

  async followUp(responseUrl: string, text: string): Promise<void> {
    // The transport only posts to its allow-list (hooks.slack.com among them).
    await this.transport.postJson({
      url: responseUrl,
      body: { response_type: "in_channel", replace_original: false, text },
    });
  }

  async deliver({ transport, channel, content }: PageDelivery): Promise<DeliveryOutcome> {
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
      const result = await this.transport.postJson(post);
      const detail = `${transport} HTTP ${result.status}`;
      if (result.status >= 200 && result.status < 300) return { status: "sent", detail };
      if (result.status === 429 || result.status >= 500) {
        return { status: "retry", detail, afterMs: result.retryAfterMs };
      }
      return { status: "failed", detail: `${detail}: ${(result.body ?? "").slice(0, 200)}` };
    } catch (error) {
      if (error instanceof TransientDeliveryError) {
        return { status: "retry", detail: error.message, afterMs: error.retryAfterMs };
      }
      return { status: "failed", detail: (error as Error).message };
    }
  }
}
