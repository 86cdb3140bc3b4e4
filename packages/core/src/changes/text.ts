import type { Change } from "./model";

/**
 * A span as people say it: `30 seconds`, `1 minute`, `4 minutes`, `2 hours`, `3 days`, whole
 * units rounded down (a change 4 minutes 50 seconds before is "4 minutes before").
 */
export function spanInWords(ms: number): string {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? "" : "s"}`;
  if (seconds < 60) return unit(seconds, "second");
  if (seconds < 2 * 3600) return unit(Math.floor(seconds / 60), "minute");
  if (seconds < 2 * 86_400) return unit(Math.floor(seconds / 3600), "hour");
  return unit(Math.floor(seconds / 86_400), "day");
}

/** `checkout 42 → 43`, or `checkout → 43` when the version before is not known. */
export const versionStep = (change: Pick<Change, "service" | "version" | "previousVersion">) =>
  change.previousVersion === null
    ? `${change.service} → ${change.version}`
    : `${change.service} ${change.previousVersion} → ${change.version}`;

/**
 * One line about a change, relative to a moment (an incident's start): what pages, Slack cards,
 * the console and the post-mortem show.
 *
 * @example
 * changeLine(change, Date.parse(incident.firstSeenAt));
 * // "changed 4 minutes before: checkout 42 → 43 by ci (commit abc123)"
 */
export function changeLine(change: Change, reference: number): string {
  const offset = reference - Date.parse(change.at);
  const when = offset >= 0 ? "before" : "after";
  const by = change.author ? ` by ${change.author}` : "";
  const commit = change.commit ? ` (commit ${change.commit.slice(0, 12)})` : "";
  return `changed ${spanInWords(offset)} ${when}: ${versionStep(change)}${by}${commit}`;
}

/**
 * The timeline's and the post-mortem's account of a deploy-watch rollback.
 *
 * @example
 * watchRollbackLine(change, Date.parse(incident.firstSeenAt), "checkout-5xx");
 * // "rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window"
 */
export function watchRollbackLine(change: Change, reference: number, alert: string): string {
  return `rolled back ${change.version} (deployed ${spanInWords(reference - Date.parse(change.at))} earlier): ${alert} fired in its bake window`;
}
