import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { type Silence, SilenceSchema, type SilenceStore } from "@firebreak/core";
import { TABLE } from "./table";

const PARTITION = "SILENCES";

/**
 * Silences in the table: one partition (there are few), sort key the id, `expiresAt` for
 * DynamoDB's TTL a day after the end (reads filter on `endsAt`, so TTL's delay never shows).
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
          [TABLE.ttlAttribute]: Math.ceil(Date.parse(silence.endsAt) / 1000) + 86_400,
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
}
