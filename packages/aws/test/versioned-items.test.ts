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

  it("reads many items in BatchGetItem requests of at most 100 keys, as get reads each", async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    await ensureTable(client, "many");
    const items = new DynamoDbVersionedItems(client, "many");
    const keys = Array.from({ length: 150 }, (_, index) => `minute:${index}`);
    // Every third key has no item; one item has moved on to version 2.
    await Promise.all(
      keys.map((key, index) => (index % 3 === 0 ? null : items.put(key, { index }, 1))),
    );
    await items.put("minute:1", { index: 1, sent: true }, 2);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize", name: "countCommands" },
    );
    const found = await items.getMany(keys);
    expect(sent).toEqual(["BatchGetItemCommand", "BatchGetItemCommand"]);
    expect(found.size).toBe(100);
    expect(found.has("minute:0")).toBe(false);
    expect(found.get("minute:1")).toEqual({ value: { index: 1, sent: true }, version: 2 });
    for (const key of keys) expect(found.get(key) ?? null).toEqual(await items.get(key));
  });
});
