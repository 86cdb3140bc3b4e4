import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { VersionConflictError } from "@firebreak/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbVersionedItems } from "../src";

let dynamo: EmbeddedDynamoDb;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describe("DynamoDbVersionedItems", () => {
  it("writes with a version check, and the expiry as the table's TTL attribute when given", async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    await ensureTable(client, "items");
    const items = new DynamoDbVersionedItems(client, "items");
    await items.put("window", { sent: 1 }, 1, 1_764_237_600);
    await items.put("ledger", { entries: [] }, 1);
    await expect(items.put("window", { sent: 2 }, 1)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await items.get("window")).toEqual({ value: { sent: 1 }, version: 1 });
    const stored = async (key: string) =>
      (
        await client.send(
          new GetItemCommand({
            TableName: "items",
            Key: { pk: { S: `KV#${key}` }, sk: { S: "KV" } },
          }),
        )
      ).Item;
    expect((await stored("window"))?.expiresAt).toEqual({ N: "1764237600" });
    expect((await stored("ledger"))?.expiresAt).toBeUndefined();
  });
});
