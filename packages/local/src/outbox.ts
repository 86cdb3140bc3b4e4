import {
  type DeliveryOutcome,
  displayLine,
  type Logger,
  type OutboxEntry,
  type PageDelivery,
  type Pager,
  pageText,
  personOf,
  type SlackMessage,
  type SlackResponsePost,
} from "@firebreak/core";

export interface SlackResponseEntry {
  at: string;
  responseUrl: string;
  text: string;
  /** Set for button answers: whether the original message was replaced. */
  replaceOriginal?: boolean;
  responseType?: SlackMessage["response_type"];
  blocks?: SlackMessage["blocks"];
}

/**
 * Pages, locally: kept in an outbox (`GET /local/outbox`) and printed, instead of reaching SNS,
 * Slack or PagerDuty. Each transport of a channel is one entry, as each would be one message.
 */
export class OutboxPager implements Pager {
  readonly entries: OutboxEntry[] = [];
  /** Posts to Slack's response_url (approvals' outcomes, button answers), as they would go. */
  readonly slackResponses: SlackResponseEntry[] = [];

  async followUp(responseUrl: string, text: string): Promise<void> {
    this.slackResponses.push({ at: new Date(this.clock()).toISOString(), responseUrl, text });
    this.logger.info(`SLACK reply → ${new URL(responseUrl).host}: ${displayLine(text)}`);
  }

  /** A button's answer: the message replaced (`replace_original`) or a note for the presser. */
  async respond({ responseUrl, body }: SlackResponsePost): Promise<void> {
    this.slackResponses.push({
      at: new Date(this.clock()).toISOString(),
      responseUrl,
      text: body.text,
      replaceOriginal: body.replace_original,
      responseType: body.response_type,
      blocks: body.blocks,
    });
    this.logger.info(`SLACK update → ${new URL(responseUrl).host}: ${displayLine(body.text)}`);
  }

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async deliver({ transport, channel, content }: PageDelivery): Promise<DeliveryOutcome> {
    const person = personOf(channel);
    const entry: OutboxEntry = {
      at: new Date(this.clock()).toISOString(),
      channel,
      recipient: person === null ? `channel:${channel}` : `person:${person}`,
      incidentId: content.incident.id,
      kind: content.kind,
      transport,
      text: pageText(content),
    };
    this.entries.push(entry);
    if (this.entries.length > 10_000) this.entries.shift();
    // Printed as one clean line whatever logger prints it: the text holds a payload's title.
    this.logger.info(
      `PAGE ${entry.kind} → ${entry.recipient} (${transport}): ${displayLine(entry.text)}`,
    );
    return { status: "sent", detail: "local outbox" };
  }
}
