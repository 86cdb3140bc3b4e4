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

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: PARTITION, sk: id },
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes !== undefined;
  }

  async listActive(now: number): Promise<Silence[]> {
    const silences: Silence[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          FilterExpression: "endsAt > :now",
          ExpressionAttributeValues: { ":pk": PARTITION, ":now": new Date(now).toISOString() },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? [])
        silences.push(SilenceSchema.parse(JSON.parse(String(item.data))));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
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

  async deleteWindow(id: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: WINDOWS, sk: id },
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes !== undefined;
  }

  async listWindows(now: number): Promise<MaintenanceWindow[]> {
    const windows: MaintenanceWindow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": WINDOWS },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? []) {
        const window = MaintenanceWindowRecordSchema.parse(JSON.parse(String(item.data)));
        if (window.cron !== null || Date.parse(window.end ?? "") > now) windows.push(window);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return windows.sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? ""));
  }
}

/** DynamoDB's TTL (seconds) a day after `end`: reads filter on the end, so TTL's delay never shows. */
const ttlAfter = (end: string) => Math.ceil(Date.parse(end) / 1000) + 86_400;
