import { encodeSignalBatches, type IngestDeps, normalizeEvent } from "@firebreak/core";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

export interface IngestResult {
  accepted: number;
  note: string | null;
}

/**
 * Events AWS pushes to a function: CloudWatch Logs subscriptions, alarm actions, SNS
 * subscriptions (and EventBridge targets, if pointed here). Validated and turned into signals at
 * the edge, noise dropped, the rest queued for the processor. An invalid event fails the
 * invocation with a message that names the problem.
 */
export function createIngestHandler(deps: () => Promise<IngestDeps>) {
  const logger = createLogger("ingest");
  return lambda<unknown, IngestResult>(logger, async (event) => {
    const { policy, queue, region } = await deps();
    const { format, signals, note } = normalizeEvent(event, { policy, region });
    if (signals.length > 0) await queue.send(encodeSignalBatches(signals));
    logger.debug("ingested", { format, signals: signals.length, note });
    return { accepted: signals.length, note };
  });
}

export const handler = createIngestHandler(awsApp.ingest);
