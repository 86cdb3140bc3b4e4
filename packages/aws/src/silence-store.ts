import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type MaintenanceWindow,
  MaintenanceWindowRecordSchema,
  type Silence,
  SilenceSchema,
  type SilenceStore,
} from "@firebreak/core";
import { TABLE } from "./table";

const PARTITION = "SILENCES";
/** Maintenance windows made through the API: few, read with the silences' cache. */
const WINDOWS = "MAINTENANCE";

/**
 * Silences in the table: one partition (there are few), sort key the id, `expiresAt` for
 * DynamoDB's TTL a day after the end (reads filter on `endsAt`, so TTL's delay never shows).
 * Maintenance windows made through the API: a partition of their own; a one-off window expires
 * like a silence, a recurring one stays until it is deleted.
 */
export class DynamoDbSilenceStore implements SilenceStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async put(silence: Silence): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: PARTITION,
          sk: silence.id,
          endsAt: silence.endsAt,
          [TABLE.ttlAttribute]: ttlAfter(silence.endsAt),
          data: JSON.stringify(silence),
        },
      }),
    );
  }

  async get(id: string): Promise<Silence | null> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: PARTITION, sk: id },
        ConsistentRead: true,
      }),
    );
    return Item ? SilenceSchema.parse(JSON.parse(String(Item.data))) : null;
  }

  delete(id: string): Promise<boolean> {
    return this.deleteItem(PARTITION, id);
  }

  async listActive(now: number): Promise<Silence[]> {
    const items = await this.queryAll(PARTITION, {
      FilterExpression: "endsAt > :now",
      ExpressionAttributeValues: { ":now": new Date(now).toISOString() },
    });
    const silences = items.map((item) => SilenceSchema.parse(JSON.parse(String(item.data))));
    return silences.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async putWindow(window: MaintenanceWindow): Promise<void> {
    const expires = window.end === null ? {} : { [TABLE.ttlAttribute]: ttlAfter(window.end) };
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: WINDOWS, sk: window.id, ...expires, data: JSON.stringify(window) },
      }),
    );
  }

  deleteWindow(id: string): Promise<boolean> {
    return this.deleteItem(WINDOWS, id);
  }

  async listWindows(now: number): Promise<MaintenanceWindow[]> {
    const windows = (await this.queryAll(WINDOWS))
      .map((item) => MaintenanceWindowRecordSchema.parse(JSON.parse(String(item.data))))
      .filter((window) => window.cron !== null || Date.parse(window.end ?? "") > now);
    return windows.sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? ""));
  }

  /** Deletes one item of a partition; false when there was none. */
  private async deleteItem(pk: string, sk: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk, sk },
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes !== undefined;
  }

  /** Every item of a partition (strongly consistent: a silence just made holds at once). */
  private async queryAll(
    pk: string,
    filter: {
      FilterExpression?: string;
      ExpressionAttributeValues?: Record<string, unknown>;
    } = {},
  ): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
          ExpressionAttributeValues: { ":pk": pk, ...filter.ExpressionAttributeValues },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** DynamoDB's TTL (seconds) a day after `end`: reads filter on the end, so TTL's delay never shows. */
const ttlAfter = (end: string) => Math.ceil(Date.parse(end) / 1000) + 86_400;
