import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { VersionConflictError, type VersionedItems } from "@firebreak/core";
import { TABLE } from "./table";

/**
 * Small versioned items in the table (guard ledgers...): `pk = KV#<key>`, the value as JSON,
 * written with a version check.
 */
export class DynamoDbVersionedItems implements VersionedItems {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async get(key: string): Promise<{ value: unknown; version: number } | null> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `KV#${key}`, sk: "KV" },
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    return { value: JSON.parse(String(Item.data)), version: Number(Item.version) };
  }

  async put(key: string, value: unknown, version: number, expiresAt?: number): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `KV#${key}`,
            sk: "KV",
            version,
            data: JSON.stringify(value),
            ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: expiresAt }),
          },
          ConditionExpression: version === 1 ? "attribute_not_exists(pk)" : "version = :previous",
          ExpressionAttributeValues: version === 1 ? undefined : { ":previous": version - 1 },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(key, { cause: error });
      }
      throw error;
    }
  }
}
