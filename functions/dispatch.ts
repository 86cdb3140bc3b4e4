import { parser } from "@aws-lambda-powertools/parser/middleware";
import { DynamoDBStreamSchema } from "@aws-lambda-powertools/parser/schemas";
import { type DispatchDeps, type IncidentRecord, IncidentRecordSchema } from "@firebreak/core";
import type { DynamoDBBatchResponse } from "aws-lambda";
import type { z } from "zod";
import { awsApp } from "./lib/aws";
import { createLogger } from "./lib/logger";
import { lambda } from "./lib/middleware";

type StreamEvent = z.infer<typeof DynamoDBStreamSchema>;

/** An incident in a stream batch with actions waiting: the records that named it, the newest image. */
export interface PendingIncident {
  sequenceNumbers: string[];
  /** The record as the newest of them shows it (undefined: not readable from the image). */
  seen: IncidentRecord | undefined;
}

/** Incidents in a stream batch with actions waiting, each with its records and newest image. */
export function pendingIncidents(event: StreamEvent): Map<string, PendingIncident> {
  const byIncident = new Map<string, PendingIncident>();
  for (const record of event.Records) {
    const image = record.dynamodb.NewImage as
      | { pk?: unknown; pending?: unknown; data?: unknown }
      | undefined;
    if (typeof image?.pk !== "string" || !image.pk.startsWith("INC#")) continue;
    if (!(Number(image.pending) > 0)) continue;
    const id = image.pk.slice(4);
    const sequenceNumber =
      "SequenceNumber" in record.dynamodb ? record.dynamodb.SequenceNumber : "";
    byIncident.set(id, {
      sequenceNumbers: [...(byIncident.get(id)?.sequenceNumbers ?? []), sequenceNumber],
      // Records of one item arrive in order: the last image is the newest.
      seen: recordOf(image.data),
    });
  }
  return byIncident;
}

/** The incident record a NEW_IMAGE carries in `data`, so the dispatcher need not read it. */
function recordOf(data: unknown): IncidentRecord | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const parsed = IncidentRecordSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
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
    // Incidents are independent items: their actions run side by side, each in its own order.
    await Promise.all(
      [...pendingIncidents(event)].map(async ([id, { sequenceNumbers, seen }]) => {
        try {
          const report = await dispatcher.dispatch(id, seen);
          if (report.ran.length) logger.info("dispatched", { incident: id, ran: report.ran });
        } catch (error) {
          logger.error("dispatch failed", { incident: id, error: String(error) });
          failures.push(...sequenceNumbers);
        }
      }),
    );
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  }).use(parser({ schema: DynamoDBStreamSchema }));
}

export const handler = createDispatchHandler(awsApp.dispatch);
