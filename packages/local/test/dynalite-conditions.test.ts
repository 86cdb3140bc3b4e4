import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  type RequestCounts,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";

// The engine FIREBREAK_DYNAMODB names (dynalite unless set): `npm run test:dynamodb-local` holds
// DynamoDB Local to the same answers.
const engine = process.env.FIREBREAK_DYNAMODB || "dynalite";

type Item = Record<string, AttributeValue>;
type ReturnOnFailure = "ALL_OLD" | "NONE" | undefined;

const key = (pk: string): Item => ({ pk: { S: pk }, sk: { S: "INC" } });

/** Every kind of attribute value, so the item returned is compared as DynamoDB JSON. */
const stored = (pk: string, version: number): Item => ({
  ...key(pk),
  version: { N: String(version) },
  title: { S: "disk full" },
  resolved: { BOOL: false },
  owner: { NULL: true },
  tags: { SS: ["prod"] },
  blob: { B: new Uint8Array([1, 2, 3]) },
  marks: { L: [{ S: "a" }, { N: "1.5" }] },
  counts: { M: { paged: { N: "2" } } },
});

/** The three conditional writes, sent: each fails when `version` is not `expected`. */
const writes = {
  PutItem: (
    client: DynamoDBClient,
    TableName: string,
    pk: string,
    expected: number,
    returnOnFailure: ReturnOnFailure,
  ) =>
    client.send(
      new PutItemCommand({
        TableName,
        Item: { ...key(pk), version: { N: String(expected + 1) } },
        ConditionExpression: "version = :expected",
        ExpressionAttributeValues: { ":expected": { N: String(expected) } },
        ReturnValuesOnConditionCheckFailure: returnOnFailure,
      }),
    ),
  UpdateItem: (
    client: DynamoDBClient,
    TableName: string,
    pk: string,
    expected: number,
    returnOnFailure: ReturnOnFailure,
  ) =>
    client.send(
      new UpdateItemCommand({
        TableName,
        Key: key(pk),
        UpdateExpression: "SET version = :next",
        ConditionExpression: "version = :expected",
        ExpressionAttributeValues: {
          ":expected": { N: String(expected) },
          ":next": { N: String(expected + 1) },
        },
        ReturnValuesOnConditionCheckFailure: returnOnFailure,
      }),
    ),
  DeleteItem: (
    client: DynamoDBClient,
    TableName: string,
    pk: string,
    expected: number,
    returnOnFailure: ReturnOnFailure,
  ) =>
    client.send(
      new DeleteItemCommand({
        TableName,
        Key: key(pk),
        ConditionExpression: "version = :expected",
        ExpressionAttributeValues: { ":expected": { N: String(expected) } },
        ReturnValuesOnConditionCheckFailure: returnOnFailure,
      }),
    ),
};
const operations = Object.keys(writes) as Array<keyof typeof writes>;

describe(`ReturnValuesOnConditionCheckFailure on ${engine}`, () => {
  const tableName = "conditions";
  const counts: RequestCounts = {};
  let dynamo: EmbeddedDynamoDb;
  let client: DynamoDBClient;
  let items = 0;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb({ process: "same" });
    client = localDynamoDbClient(dynamo.endpoint, counts);
    await ensureTable(client, tableName);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  /** A new item at version 3. */
  async function item(): Promise<{ pk: string; item: Item }> {
    const pk = `incident-${++items}`;
    const written = stored(pk, 3);
    await client.send(new PutItemCommand({ TableName: tableName, Item: written }));
    return { pk, item: written };
  }

  /** The ConditionalCheckFailedException the write fails with. */
  async function failure(write: Promise<unknown>): Promise<ConditionalCheckFailedException> {
    const error = await write.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    return error as ConditionalCheckFailedException;
  }

  it.each(operations)("a failed %s with ALL_OLD carries the item as it was", async (operation) => {
    const { pk, item: written } = await item();
    const error = await failure(writes[operation](client, tableName, pk, 7, "ALL_OLD"));
    expect(error.message).toBe("The conditional request failed");
    expect(error.Item).toEqual(written);
  });

  it.each(operations)(
    "a failed %s without it, or with NONE, carries no item",
    async (operation) => {
      const { pk } = await item();
      expect(
        (await failure(writes[operation](client, tableName, pk, 7, undefined))).Item,
      ).toBeUndefined();
      expect(
        (await failure(writes[operation](client, tableName, pk, 7, "NONE"))).Item,
      ).toBeUndefined();
    },
  );

  it.each(operations)("a failed %s of a missing item carries no item", async (operation) => {
    const error = await failure(writes[operation](client, tableName, "missing", 7, "ALL_OLD"));
    expect(error.Item).toBeUndefined();
  });

  it.each(operations)("%s refuses a value other than ALL_OLD or NONE", async (operation) => {
    const { pk } = await item();
    for (const value of ["ALL_NEW", "all_old", ""]) {
      const write = writes[operation](client, tableName, pk, 7, value as ReturnOnFailure);
      await expect(write).rejects.toMatchObject({
        name: "ValidationException",
        message: expect.stringContaining(
          `Value '${value}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
        ),
      });
    }
  });

  it("a write whose condition holds is done, whatever it asked for on failure", async () => {
    const { pk } = await item();
    await writes.UpdateItem(client, tableName, pk, 3, "ALL_OLD");
    await writes.PutItem(client, tableName, pk, 4, "NONE");
    await writes.DeleteItem(client, tableName, pk, 5, "ALL_OLD");
    const error = await failure(writes.UpdateItem(client, tableName, pk, 5, "ALL_OLD"));
    expect(error.Item).toBeUndefined();
  });

  it("concurrent writers that learn the version only from their failures all land", async () => {
    const pk = `incident-${++items}`;
    await client.send(new PutItemCommand({ TableName: tableName, Item: stored(pk, 0) }));
    const writers = 6;
    const increments = 5;
    const getsBefore = counts.GetItem ?? 0;
    let conflicts = 0;
    // Each failure's item must be the one that failed the condition: a newer version, never the
    // expected one (a read after the fact could see anything).
    const writer = async () => {
      let expected = 0;
      for (let done = 0; done < increments; ) {
        try {
          await writes.UpdateItem(client, tableName, pk, expected, "ALL_OLD");
          expected++;
          done++;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          conflicts++;
          const current = Number(error.Item?.version?.N);
          expect(current).toBeGreaterThan(expected);
          expected = current;
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));
    const error = await failure(writes.UpdateItem(client, tableName, pk, -1, "ALL_OLD"));
    expect(error.Item?.version).toEqual({ N: String(writers * increments) });
    expect(conflicts).toBeGreaterThan(0);
    expect((counts.GetItem ?? 0) - getsBefore).toBe(0);
  });
});
