import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { VersionConflictError, type VersionedItems } from "@firebreak/core";
import { batchGetItems } from "./batch-get";
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
    return Item ? fromItem(Item) : null;
  }

  /** The items in one BatchGetItem (or a few: 100 keys a request), read as `get` reads them. */
  async getMany(
    keys: ReadonlyArray<string>,
  ): Promise<Map<string, { value: unknown; version: number }>> {
    const items = await batchGetItems(
      this.documents,
      this.tableName,
      keys.map((key) => ({ pk: `KV#${key}`, sk: "KV" })),
    );
    const found = new Map<string, { value: unknown; version: number }>();
    for (const key of keys) {
      const item = items.get(`KV#${key}`);
      if (item) found.set(key, fromItem(item));
    }
    return found;
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

/** A stored item's value and version. */
const fromItem = (item: Record<string, unknown>) => ({
  value: JSON.parse(String(item.data)) as unknown,
  version: Number(item.version),
});
