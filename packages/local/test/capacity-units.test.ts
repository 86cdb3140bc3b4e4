import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CapacityUnits,
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  type RequestCounts,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";

const TABLE = "capacity-units";

/** An item of about `kb` kilobytes: DynamoDB bills writes per 1 KB and reads per 4 KB. */
const item = (sk: string, kb: number) => ({ pk: "units", sk, body: "x".repeat(kb * 1024 - 64) });

// The benchmarks' dollars per million come from these counts: they must be what DynamoDB bills.
describe("capacity units counted by the local client", () => {
  let dynamo: EmbeddedDynamoDb;
  let documents: DynamoDBDocumentClient;
  const counts: RequestCounts = {};
  const units: CapacityUnits = { read: 0, write: 0 };

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb({ process: "same" });
    const client = localDynamoDbClient(dynamo.endpoint, counts, units);
    await ensureTable(client, TABLE);
    documents = DynamoDBDocumentClient.from(client);
  });
  afterAll(async () => {
    documents.destroy();
    await dynamo.stop();
  });

  /** Units the one call consumed. */
  async function spent(call: () => Promise<unknown>): Promise<CapacityUnits> {
    const before = { ...units };
    await call().catch((error: Error) => {
      if (error.name !== "ConditionalCheckFailedException") throw error;
    });
    return { read: units.read - before.read, write: units.write - before.write };
  }

  it("bills a write per started kilobyte and a read per 4 KB, eventual reads at half", async () => {
    expect(
      await spent(() => documents.send(new PutCommand({ TableName: TABLE, Item: item("a", 5) }))),
    ).toEqual({ read: 0, write: 5 });
    const key = { pk: "units", sk: "a" };
    expect(
      await spent(() =>
        documents.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true })),
      ),
    ).toEqual({ read: 2, write: 0 });
    expect(
      await spent(() => documents.send(new GetCommand({ TableName: TABLE, Key: key }))),
    ).toEqual({ read: 1, write: 0 });
    // An update is billed at the larger of the item before and after.
    expect(
      await spent(() =>
        documents.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: key,
            UpdateExpression: "SET n = :one",
            ExpressionAttributeValues: { ":one": 1 },
          }),
        ),
      ),
    ).toEqual({ read: 0, write: 5 });
  });

  it("bills a failed conditional write at its item's size, which the caller still sees fail", async () => {
    const conditional = new PutCommand({
      TableName: TABLE,
      Item: item("a", 3),
      ConditionExpression: "attribute_not_exists(pk)",
    });
    await expect(documents.send(conditional)).rejects.toThrow(/conditional/i);
    expect(await spent(() => documents.send(conditional))).toEqual({ read: 0, write: 3 });
  });

  it("adds up batches and queries, and counts every request by operation", async () => {
    const before = { ...counts };
    expect(
      await spent(() =>
        documents.send(
          new BatchWriteCommand({
            RequestItems: {
              [TABLE]: [
                { PutRequest: { Item: item("b", 2) } },
                { PutRequest: { Item: item("c", 1) } },
              ],
            },
          }),
        ),
      ),
    ).toEqual({ read: 0, write: 3 });
    expect(
      await spent(() =>
        documents.send(
          new BatchGetCommand({
            RequestItems: {
              [TABLE]: {
                Keys: [
                  { pk: "units", sk: "b" },
                  { pk: "units", sk: "c" },
                ],
                ConsistentRead: true,
              },
            },
          }),
        ),
      ),
    ).toEqual({ read: 2, write: 0 });
    const query = await spent(() =>
      documents.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": "units" },
          ConsistentRead: true,
        }),
      ),
    );
    // A query is billed on the total size it read (about 8 KB here), not per item.
    expect(query).toEqual({ read: 2, write: 0 });
    expect(counts.BatchWriteItem).toBe((before.BatchWriteItem ?? 0) + 1);
    expect(counts.BatchGetItem).toBe((before.BatchGetItem ?? 0) + 1);
    expect(counts.Query).toBe((before.Query ?? 0) + 1);
  });
});
