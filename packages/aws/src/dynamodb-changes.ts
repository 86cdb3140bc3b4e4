import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type Change,
  type ChangeDedupe,
  type ChangePage,
  type ChangeQuery,
  ChangeSchema,
  type ChangeStore,
  type Clock,
  changeExpiresAt,
  changeSortKey,
  decodeChangeCursor,
  encodeChangeCursor,
  isExpired,
  type RecordedChange,
} from "@firebreak/core";
import { TABLE } from "./table";

/** Sorts after every `<at>#<id>` of one time: `until` includes changes at exactly that time. */
const HIGHEST = "\uffff";

export interface DynamoDbChangeStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** `incidents.retention`: a change expires this long after its `at`. */
  retentionMs: number;
  clock: Clock;
}

/**
 * Changes in the table:
 *
 * | item    | pk                 | sk           | attributes                                   |
 * |---------|--------------------|--------------|----------------------------------------------|
 * | change  | `CHANGE#<service>` | `<at>#<id>`  | `data` (the change), `expiresAt`             |
 * | claim   | `CHANGEKEY#<key>`  | `CHANGEKEY`  | `data`, `reusableAfter` (ms, optional), `expiresAt` |
 *
 * A change is recorded with one conditional PutItem on its claim (absent, expired, or reusable
 * and past `reusableAfter`), then a PutItem of the change item built from what the claim holds:
 * a redelivery loses the condition and rewrites the first change's item (idempotent), which also
 * completes a record that stopped between the two writes. Listing queries one partition per
 * service, newest first, and merges. Both items expire with `incidents.retention` after `at`
 * (DynamoDB TTL; reads check `expiresAt` themselves).
 */
export class DynamoDbChangeStore implements ChangeStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoDbChangeStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client);
  }

  async record(change: Change, dedupe: ChangeDedupe): Promise<RecordedChange> {
    const { tableName, retentionMs, clock } = this.options;
    const now = clock.now();
    const claimKey = { pk: `CHANGEKEY#${dedupe.key}`, sk: "CHANGEKEY" };
    const expiresAt = changeExpiresAt(change, retentionMs);
    let stored = change;
    let created = true;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...claimKey,
            data: JSON.stringify(change),
            [TABLE.ttlAttribute]: expiresAt,
            ...(dedupe.reusableAfter === null ? {} : { reusableAfter: dedupe.reusableAfter }),
          },
          ConditionExpression:
            "attribute_not_exists(pk) OR #expiresAt <= :nowSeconds OR reusableAfter < :now",
          ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
          ExpressionAttributeValues: { ":nowSeconds": Math.floor(now / 1000), ":now": now },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: tableName, Key: claimKey, ConsistentRead: true }),
      );
      // The claim went between the condition and the read (TTL): record it again.
      if (!Item) return this.record(change, dedupe);
      stored = ChangeSchema.parse(JSON.parse(String(Item.data)));
      created = false;
    }
    await this.documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `CHANGE#${stored.service}`,
          sk: changeSortKey(stored),
          data: JSON.stringify(stored),
          [TABLE.ttlAttribute]: changeExpiresAt(stored, retentionMs),
        },
      }),
    );
    return { change: stored, created };
  }

  async list(query: ChangeQuery): Promise<ChangePage> {
    const below = query.cursor ? decodeChangeCursor(query.cursor) : undefined;
    const upper = query.until === undefined ? HIGHEST : `${query.until}#${HIGHEST}`;
    const high = below !== undefined && below < upper ? below : upper;
    const low = query.since ?? "0";
    const now = this.options.clock.now();
    // One more than the page from each service tells whether anything is left after it.
    const pages = await Promise.all(
      query.services.map((service) => this.newest(service, low, high, query.limit + 1, now)),
    );
    const merged = pages
      .flat()
      .filter((item) => item.sk !== below)
      .sort((a, b) => (a.sk < b.sk ? 1 : -1));
    const page = merged.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((item) => item.change),
      nextCursor: merged.length > query.limit && last ? encodeChangeCursor(last.sk) : null,
    };
  }

  /** Up to `want` live changes of a service with sort keys in [low, high], newest first. */
  private async newest(service: string, low: string, high: string, want: number, now: number) {
    const found: Array<{ sk: string; change: Change }> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :low AND :high",
          ExpressionAttributeValues: { ":pk": `CHANGE#${service}`, ":low": low, ":high": high },
          ScanIndexForward: false,
          // The item at the cursor itself comes back too (BETWEEN is inclusive).
          Limit: want + 1,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        if (isExpired(item[TABLE.ttlAttribute] as number | undefined, now)) continue;
        found.push({
          sk: String(item.sk),
          change: ChangeSchema.parse(JSON.parse(String(item.data))),
        });
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey && found.length <= want);
    return found;
  }
}
