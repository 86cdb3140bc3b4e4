import { type EscalationsDeps, sweep } from "@firebreak/core";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

/**
 * The `escalations` schedule (every minute in AWS, every second locally): re-pages unacknowledged
 * critical incidents, auto-resolves quiet log and Sentry incidents, nudges stuck actions. It only
 * plans pages; the dispatcher sends them.
 */
export function createEscalationsHandler(deps: () => Promise<EscalationsDeps>) {
  const logger = createLogger("escalations");
  return lambda<unknown, Awaited<ReturnType<typeof sweep>>>(logger, async () => {
    const options = await deps();
    const report = await sweep(options);
    options.metrics?.pendingActionsOldestAge(report.pendingActionsOldestAgeSeconds);
    if (report.escalated.length || report.autoResolved.length || report.nudged.length) {
      logger.info("sweep", { ...report });
    }
    return report;
  });
}

export const handler = createEscalationsHandler(awsApp.escalations);
