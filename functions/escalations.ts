import { type EscalationsDeps, sweep } from "@firebreak/core";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

/**
 * The `escalations` schedule (every minute in AWS, every second locally): re-pages unacknowledged
 * critical incidents, auto-resolves quiet log and Sentry incidents, nudges stuck actions, and
 * verifies remediations that are due (planning the next `ifIneffective` step of one that did not
 * work). It only plans; the dispatcher acts and sends.
 */
export function createEscalationsHandler(deps: () => Promise<EscalationsDeps>) {
  const logger = createLogger("escalations");
  return lambda<unknown, Awaited<ReturnType<typeof sweep>>>(logger, async () => {
    const options = await deps();
    const report = await sweep(options);
    options.metrics?.pendingActionsOldestAge(report.pendingActionsOldestAgeSeconds);
    const { escalated, autoResolved, nudged, verified } = report;
    if (escalated.length || autoResolved.length || nudged.length || verified.length) {
      logger.info("sweep", { ...report });
    }
    return report;
  });
}

export const handler = createEscalationsHandler(awsApp.escalations);
