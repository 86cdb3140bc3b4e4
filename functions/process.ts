import { parser } from "@aws-lambda-powertools/parser/middleware";
import { SqsSchema } from "@aws-lambda-powertools/parser/schemas";
import {
  Correlator,
  decodeQueueMessage,
  type IncidentChange,
  type Policy,
  planResponses,
  type Signal,
  SilenceCache,
  systemClock,
} from "@firebreak/core";
import type { SQSBatchResponse } from "aws-lambda";
import type { z } from "zod";
import { awsPolicy, awsRegion, awsSilences, awsStore } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";
import { once } from "./lib/once";

/** What the processor tells whoever watches it (the local stack answers `?wait=true` with it). */
export interface ProcessObserver {
  processed(messageId: string, incidentIds: string[]): void;
  changed?(changes: IncidentChange[]): void;
}

export interface ProcessDeps {
  correlator: Correlator;
  policy: Policy;
  region: string | undefined;
  observer?: ProcessObserver;
  /**
   * Signals already decoded for a message, if any. The local stack validates events at its edge
   * (to answer 400) and hands the result over here instead of parsing twice; in AWS the edge
   * is EventBridge or SNS, which deliver raw, so every body is decoded here.
   */
  predecoded?: (messageId: string) => Signal[] | undefined;
}

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
    const { correlator, policy, region, observer, predecoded } = await deps();
    const failed = new Set<string>();
    const signalsOf = new Map<string, Signal[]>();
    for (const record of event.Records) {
      try {
        const signals =
          predecoded?.(record.messageId) ??
          decodeQueueMessage(record.body, { policy, region }).signals;
        signalsOf.set(record.messageId, signals);
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
    observer?.changed?.(changes);

    let next = 0;
    for (const [messageId, own] of signalsOf) {
      const mine = results.slice(next, next + own.length);
      next += own.length;
      if (mine.some((result) => result.outcome === "failed")) {
        failed.add(messageId);
        continue;
      }
      const incidents = mine.flatMap((result) => (result.incidentId ? [result.incidentId] : []));
      observer?.processed(messageId, [...new Set(incidents)]);
    }
    if (failed.size > 0) logger.warn("messages left for retry", { count: failed.size });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  }).use(parser({ schema: SqsSchema }));
}

export const handler = createProcessHandler(
  once(async () => {
    const policy = await awsPolicy();
    const logger = createLogger("correlator");
    const region = awsRegion();
    const silences = new SilenceCache(await awsSilences());
    const correlator = new Correlator({
      store: await awsStore(),
      policy,
      clock: systemClock,
      logger,
      respond: async (record, events, now) =>
        planResponses(record, events, {
          config: policy.config,
          now,
          region,
          silences: await silences.active(now),
        }),
    });
    return { correlator, policy, region: awsRegion() };
  }),
);
