import {
  type DeliveryOutcome,
  displayLine,
  type Logger,
  type OutboxEntry,
  type PageDelivery,
  type Pager,
  pageText,
} from "@firebreak/core";

/**
 * Pages, locally: kept in an outbox (`GET /local/outbox`) and printed, instead of reaching SNS,
 * Slack or PagerDuty. Each transport of a channel is one entry, as each would be one message.
 */
export class OutboxPager implements Pager {
  readonly entries: OutboxEntry[] = [];
  /** Replies to Slack commands' response_url, as they would have been posted. */
  readonly slackResponses: Array<{ at: string; responseUrl: string; text: string }> = [];

  async followUp(responseUrl: string, text: string): Promise<void> {
    this.slackResponses.push({ at: new Date(this.clock()).toISOString(), responseUrl, text });
    this.logger.info(`SLACK reply → ${new URL(responseUrl).host}: ${displayLine(text)}`);
  }

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async deliver({ transport, channel, content }: PageDelivery): Promise<DeliveryOutcome> {
    const entry: OutboxEntry = {
      at: new Date(this.clock()).toISOString(),
      channel,
      incidentId: content.incident.id,
      kind: content.kind,
      transport,
      text: pageText(content),
    };
    this.entries.push(entry);
    if (this.entries.length > 10_000) this.entries.shift();
    // Printed as one clean line whatever logger prints it: the text holds a payload's title.
    this.logger.info(`PAGE ${entry.kind} → ${channel} (${transport}): ${displayLine(entry.text)}`);
    return { status: "sent", detail: "local outbox" };
  }
}
