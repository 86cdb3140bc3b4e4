import { parser } from "@aws-lambda-powertools/parser/middleware";
import { DynamoDBStreamSchema } from "@aws-lambda-powertools/parser/schemas";
import type { DispatchDeps } from "@firebreak/core";
import type { DynamoDBBatchResponse } from "aws-lambda";
import type { z } from "zod";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

type StreamEvent = z.infer<typeof DynamoDBStreamSchema>;

/** Incidents in a stream batch with actions waiting, and the records that named each. */
export function pendingIncidents(event: StreamEvent): Map<string, string[]> {
  const byIncident = new Map<string, string[]>();
  for (const record of event.Records) {
    const image = record.dynamodb.NewImage as { pk?: unknown; pending?: unknown } | undefined;
    if (typeof image?.pk !== "string" || !image.pk.startsWith("INC#")) continue;
    if (!(Number(image.pending) > 0)) continue;
    const id = image.pk.slice(4);
    const sequenceNumber =
      "SequenceNumber" in record.dynamodb ? record.dynamodb.SequenceNumber : "";
    byIncident.set(id, [...(byIncident.get(id) ?? []), sequenceNumber]);
  }
  return byIncident;
}

/**
 * The action dispatcher, on the table's stream (filtered to incidents with `pending` work). Each
 * incident's due actions run once, in order; an incident that fails is reported so the stream
 * retries from it (and the sweep nudges anything left behind).
 */
export function createDispatchHandler(deps: () => Promise<DispatchDeps>) {
  const logger = createLogger("dispatch");
  return lambda<StreamEvent, DynamoDBBatchResponse>(logger, async (event) => {
    const { dispatcher } = await deps();
    const failures: string[] = [];
    for (const [id, sequenceNumbers] of pendingIncidents(event)) {
      try {
        const report = await dispatcher.dispatch(id);
        if (report.ran.length) logger.info("dispatched", { incident: id, ran: report.ran });
      } catch (error) {
        logger.error("dispatch failed", { incident: id, error: String(error) });
        failures.push(...sequenceNumbers);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  }).use(parser({ schema: DynamoDBStreamSchema }));
}

export const handler = createDispatchHandler(awsApp.dispatch);
