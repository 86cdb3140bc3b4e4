import { SLACK_MAX_SKEW_SECONDS } from "./verify";

/** Kept past the window, so a mark never lapses while its request could still be accepted. */
const REMEMBER_PAST_WINDOW_MS = 60_000;

/** What a replay guard claims for one verified Slack request. */
export interface SlackRequestClaim {
  /** A key per signed request: its `X-Slack-Signature`, which covers timestamp and body. */
  key: string;
  /** Until when (ms) the request could be replayed: its timestamp's window, and a margin. */
  until: number;
}

/**
 * The claim for a Slack request that `verifySlackRequest` accepted. Its signature is then the
 * one Slack computes (`v0=` and lower-case hex), so every copy of the request has the same key.
 * Slack never retries a slash command, so a second copy is a replay.
 *
 * @example
 * const claim = slackRequestClaim(timestamp, signature);
 * if (!(await replays.firstTime(claim.key, claim.until))) return alreadyHandledMessage();
 */
export function slackRequestClaim(timestamp: string, signature: string): SlackRequestClaim {
  return {
    key: `slack-request#${signature.trim()}`,
    until: (Number(timestamp.trim()) + SLACK_MAX_SKEW_SECONDS) * 1000 + REMEMBER_PAST_WINDOW_MS,
  };
}
