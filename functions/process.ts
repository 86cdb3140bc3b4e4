import { parser } from "@aws-lambda-powertools/parser/middleware";
import { SqsSchema } from "@aws-lambda-powertools/parser/schemas";
import { decodeQueueMessage, type ProcessDeps, type Signal } from "@firebreak/core";
import type { SQSBatchResponse } from "aws-lambda";
import type { z } from "zod";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

type SqsEvent = z.infer<typeof SqsSchema>;

/**
 * The queue consumer: decodes every message of the batch, folds all their signals at once (so
 * repeats in a storm cost one write per fingerprint), and reports the messages whose signals
 * could not be stored, for SQS to retry and eventually dead-letter. A message that cannot be
 * decoded fails alone; it never holds back the rest of the batch.
 */
export function createProcessHandler(deps: () => Promise<ProcessDeps>) {
  const logger = createLogger("process");
  return lambda<SqsEvent, SQSBatchResponse>(logger, async (event) => {
    const { correlator, policy, region, listener, changes: deploys, countIgnored } = await deps();
    const failed = new Set<string>();
    const signalsOf = new Map<string, Signal[]>();
    const recordChange = async (messageId: string, body: string) => {
      try {
        const { recorded, note } = await deploys.fromEvent(JSON.parse(body));
        logger.info("change", { change: recorded?.change.id, created: recorded?.created, note });
        listener?.processed(messageId, []);
      } catch (error) {
        logger.error("change not recorded", { messageId, error: String(error) });
        failed.add(messageId);
      }
    };
    for (const record of event.Records) {
      try {
        const decoded = decodeQueueMessage(record.body, {
          policy,
          region,
          // When SQS received it: EventBridge, SNS and the edge functions send on arrival.
          arrivedAt: Number(record.attributes.SentTimestamp),
        });
        // Deploys first: an alarm in the same batch is then planned knowing its deploy.
        if (decoded.format === "eventbridge-change") {
          await recordChange(record.messageId, record.body);
          continue;
        }
        signalsOf.set(record.messageId, decoded.signals);
      } catch (error) {
        logger.error("undecodable queue message", {
          messageId: record.messageId,
          error: String(error),
        });
        failed.add(record.messageId);
      }
    }

    const signals = [...signalsOf.values()].flat();
    const { results, changes } = await correlator.process(signals);
    listener?.changed(changes);

    let next = 0;
    // Only messages that are not retried count: a retried one counts when it is processed.
    let ignored = 0;
    for (const [messageId, own] of signalsOf) {
      const mine = results.slice(next, next + own.length);
      next += own.length;
      if (mine.some((result) => result.outcome === "failed")) {
        failed.add(messageId);
        continue;
      }
      ignored += mine.filter((result) => result.outcome === "dropped").length;
      const incidents = mine.flatMap((result) => (result.incidentId ? [result.incidentId] : []));
      listener?.processed(messageId, [...new Set(incidents)]);
    }
    await countIgnored(ignored);
    if (failed.size > 0) logger.warn("messages left for retry", { count: failed.size });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  }).use(parser({ schema: SqsSchema }));
}

export const handler = createProcessHandler(awsApp.process);
