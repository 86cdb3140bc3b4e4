import { TRANSPORTS } from "../actions/model";
import type { ChannelConfig } from "../actions/schema";
import type { IncidentStore, Logger } from "../ports";
import type { PageBudgetStore } from "./budget";
import type { Pager } from "./pager";

/**
 * Minutes back a sweep looks for digests still owed: the schedule runs every minute, so a few
 * missed runs in a row still send every digest.
 */
const LOOKBACK_MINUTES = 5;

/** What sends a digest: the pager, and the console's link to an incident. */
export interface DigestDelivery {
  pager: Pager;
  consoleUrl?: (incidentId: string) => string | null;
}

export interface PageDigestsDeps {
  budget: PageBudgetStore;
  /**
   * Built when the first digest goes out: most sweeps send none, and in Lambda the pager brings
   * the page transports and the channels' secrets with it.
   */
  delivery: () => Promise<DigestDelivery>;
  store: IncidentStore;
  channels: Record<string, ChannelConfig>;
  logger?: Logger;
}

/**
 * Sends each channel's digests of the minutes that closed with pages folded into them, once
 * each: the budget hands a digest to one sender, which marks it sent after every transport took
 * it. One that a transport asks to retry is sent again when its claim lapses (two minutes).
 * @returns how many digests went out
 *
 * @example
 * await sendDigests({ budget, delivery: async () => ({ pager }), store, channels }, Date.now());
 */
export async function sendDigests(deps: PageDigestsDeps, now: number): Promise<number> {
  let sent = 0;
  // Channels side by side: each has its own items, and a sweep waits for the slowest alone.
  const channelsSent = Object.entries(deps.channels).map(async ([channel, configured]) => {
    for (const digest of await deps.budget.claimDigests(channel, now, LOOKBACK_MINUTES)) {
      let first = null;
      for (const entry of digest.folded) {
        first = (await deps.store.get(entry.incidentId))?.incident ?? null;
        if (first) break;
      }
      // Every folded incident has expired: nobody is left to tell about.
      if (!first) {
        await deps.budget.markSent(digest, now);
        continue;
      }
      const { pager, consoleUrl } = await deps.delivery();
      const content = {
        incident: first,
        kind: "page" as const,
        note: null,
        consoleUrl: consoleUrl?.(first.id) ?? null,
        digest: {
          channel,
          window: digest.window,
          incidents: digest.folded,
          unlisted: digest.unlisted,
        },
      };
      const transports = TRANSPORTS.filter((transport) =>
        transport === "sns"
          ? configured.sns
          : transport === "slack"
            ? configured.slackWebhook
            : configured.pagerduty,
      );
      const outcomes = await Promise.all(
        transports.map((transport) => pager.deliver({ transport, channel, content })),
      );
      const retry = outcomes.filter((outcome) => outcome.status === "retry");
      if (retry.length > 0) {
        deps.logger?.warn("page digest will be retried", {
          channel,
          window: digest.window,
          detail: retry.map((outcome) => outcome.detail).join("; "),
        });
        continue;
      }
      await deps.budget.markSent(digest, now);
      sent += 1;
    }
  });
  await Promise.all(channelsSent);
  return sent;
}
