import { sendDigests } from "../paging/digest";
import type { SweepOptions, SweepReport } from "./escalate";

/**
 * The `escalations` function, run every minute (every second locally): reads the incidents with
 * something due (`IncidentStore.listDue`), escalates and auto-resolves (each change a
 * compare-and-set; a lost race is retried next sweep), and nudges incidents with stuck actions
 * so the dispatcher sees them again.
 *
 * Most sweeps find nothing due: planning, verification, silences and on-call (with RE2 and
 * luxon beneath them) are imported only when something is, so they cost a cold start nothing
 * until then.
 *
 * @example
 * const report = await sweep({ store, silences, config, clock, region: "eu-west-1" });
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { store, clock } = options;
  const report: SweepReport = {
    escalated: [],
    autoResolved: [],
    nudged: [],
    verified: [],
    pendingActionsOldestAgeSeconds: 0,
  };
  const now = clock.now();
  const { digests, config, logger } = options;
  // Three reads side by side, not one after another (a cold start waits on each round trip):
  // the due index, the page budget's digests (their own items, whatever the sweep changes) and
  // the oldest pending action, which is what the dispatcher still has not taken (an alarm
  // watches it) when nothing is due, as in most sweeps.
  const [due, pendingSince] = await Promise.all([
    store.listDue(now),
    store.oldestPendingSince(),
    digests && sendDigests({ ...digests, store, channels: config.channels, logger }, now),
  ]);
  let since = pendingSince;
  if (due.length > 0) {
    const { sweepDue } = await import("./escalate");
    await sweepDue(options, due, report);
    // Read again after the nudges.
    since = await store.oldestPendingSince();
  }
  report.pendingActionsOldestAgeSeconds = since
    ? Math.max(0, Math.round((clock.now() - Date.parse(since)) / 1000))
    : 0;
  options.logger?.debug("sweep", { ...report });
  return report;
}
