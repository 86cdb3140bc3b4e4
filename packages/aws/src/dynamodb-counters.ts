import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  type Clock,
  type CountRange,
  hasCounts,
  hourBounds,
  hourExpiresAt,
  hourOf,
  NO_SIGNAL_COUNTS,
  type SignalCounters,
  type SignalCounts,
  sumCounts,
} from "@firebreak/core";
import * as z from "zod";
import { TABLE } from "./table";

/** The one partition of every hour's counts: a range is one Query, newest hours last. */
export const COUNTS_PARTITION = "COUNTS#signals";

/** What an hour's item holds; a counter never added to is absent. */
const StoredHour = z.object({
  ignored: z.number().int().nonnegative().default(0),
  [TABLE.ttlAttribute]: z.number(),
});

export interface DynamoDbSignalCountersOptions {
  client: DynamoDBClient;
  tableName: string;
  /** `incidents.retention`: an hour's counts expire this long after the hour ends. */
  retentionMs: number;
  clock: Clock;
}

/**
 * Signal counts in the table, one item per hour:
 *
 * | item        | pk               | sk                         | attributes              |
 * |-------------|------------------|----------------------------|-------------------------|
 * | signal hour | `COUNTS#signals` | `2026-12-02T16:00:00.000Z` | `ignored`, `expiresAt`  |
 *
 * Each processed batch with something to count makes one UpdateItem that ADDs to its hour
 * (atomic, so concurrent processors lose nothing, and it needs no read); the hour's TTL is set
 * with it. A range is one Query on the partition between its first and last hour (about 9,600
 * items at most under the default 400-day retention, a few pages). Every batch of an hour writes
 * one item, far below DynamoDB's 1,000 writes a second per key: the processor adds once per
 * batch of up to 100 messages, not once per signal.
 */
export class DynamoDbSignalCounters implements SignalCounters {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbSignalCountersOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client);
  }

  async add(at: number, counts: SignalCounts): Promise<void> {
    if (!hasCounts(counts)) return;
    const { tableName, retentionMs } = this.options;
    const hour = hourOf(at);
    await this.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: COUNTS_PARTITION, sk: hour },
        UpdateExpression: "ADD #ignored :ignored SET #expiresAt = :expiresAt",
        ExpressionAttributeNames: { "#ignored": "ignored", "#expiresAt": TABLE.ttlAttribute },
        ExpressionAttributeValues: {
          ":ignored": counts.ignored,
          ":expiresAt": hourExpiresAt(hour, retentionMs),
        },
      }),
    );
  }

  async totals(range: CountRange): Promise<SignalCounts> {
    const { first, last } = hourBounds(range);
    const names: Record<string, string> = { "#pk": TABLE.partitionKey };
    const values: Record<string, string> = { ":pk": COUNTS_PARTITION };
    let condition = "#pk = :pk";
    if (first !== null || last !== null) {
      names["#sk"] = TABLE.sortKey;
      // Hour keys are ISO times of one shape: they sort, and compare, as text.
      if (first !== null && last !== null) {
        condition += " AND #sk BETWEEN :first AND :last";
        Object.assign(values, { ":first": first, ":last": last });
      } else if (first !== null) {
        condition += " AND #sk >= :first";
        values[":first"] = first;
      } else {
        condition += " AND #sk <= :last";
        values[":last"] = last as string;
      }
    }
    // Expired hours stay until TTL deletes them (days late): they count as absent.
    const nowSeconds = this.options.clock.now() / 1000;
    let total = NO_SIGNAL_COUNTS;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const hour = StoredHour.parse(item);
        if (hour.expiresAt <= nowSeconds) continue;
        total = sumCounts(total, { ignored: hour.ignored });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return total;
  }
}
