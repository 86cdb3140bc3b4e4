import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { deliveryMark, StaleRecordError } from "@firebreak/core";
import {
  aRecord,
  describeIncidentStoreContract,
  describeSilenceStoreContract,
} from "@firebreak/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  type RequestCounts,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbIncidentStore, DynamoDbSilenceStore } from "../src";

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describeIncidentStoreContract("DynamoDB (embedded dynalite)", async (options) => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `contract-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbIncidentStore({ client, tableName, ...options });
});

describeSilenceStoreContract("DynamoDB (embedded dynalite)", async () => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `silences-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbSilenceStore(client, tableName);
});

describe("DynamoDbIncidentStore item format", () => {
  it("writes a generation's delivery marks as one string and reads items written as lists", async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    const tableName = `format-${++tables}`;
    await ensureTable(client, tableName);
    const store = new DynamoDbIncidentStore({ client, tableName });
    const documents = DynamoDBDocumentClient.from(client);
    const record = aRecord({ fingerprint: "fp:format" });
    record.seen = [
      { generation: 7, ids: [deliveryMark("a"), deliveryMark("b")] },
      { generation: 8, ids: [deliveryMark("c")] },
    ];
    await store.save(record, null);
    const key = { pk: `INC#${record.incident.id}`, sk: "INC" };
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key }));
    expect(JSON.parse(String(Item?.data)).seen).toEqual([
      { generation: 7, marks: `${deliveryMark("a")}${deliveryMark("b")}` },
      { generation: 8, marks: deliveryMark("c") },
    ]);
    expect(await store.get(record.incident.id)).toEqual(record);

    // As deployed tables hold them: marks as lists.
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...Item, data: JSON.stringify(record) },
      }),
    );
    expect(await store.get(record.incident.id)).toEqual(record);
  });
});

describe("DynamoDbIncidentStore lost saves", () => {
  it("learns the record that won from the failed write itself, without reading it", async () => {
    const counts: RequestCounts = {};
    const client = localDynamoDbClient(dynamo.endpoint, counts);
    const tableName = `lost-${++tables}`;
    await ensureTable(client, tableName);
    const store = new DynamoDbIncidentStore({ client, tableName });
    const record = aRecord({ fingerprint: "fp:lost-read" });
    await store.save(record, null);
    const winner = { ...structuredClone(record), version: record.version + 1 };
    winner.incident.count = 2;
    await store.save(winner, null);
    const loser = { ...structuredClone(record), version: record.version + 1 };
    const before = { ...counts };
    const lost = await store.save(loser, null).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(StaleRecordError);
    expect((lost as StaleRecordError).current).toEqual(winner);
    // One conditional PutItem, answered with the item that failed it: no GetItem after it.
    expect({
      PutItem: (counts.PutItem ?? 0) - (before.PutItem ?? 0),
      GetItem: counts.GetItem ?? 0,
    }).toEqual({ PutItem: 1, GetItem: before.GetItem ?? 0 });
  });
});
