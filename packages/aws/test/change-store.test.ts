import { CHANGE_RETENTION_MS, describeChangeStoreContract } from "@firebreak/core/testing";
import { afterAll, beforeAll } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbChangeStore } from "../src";

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describeChangeStoreContract("DynamoDB (embedded dynalite)", async (clock) => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `changes-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbChangeStore({ client, tableName, retentionMs: CHANGE_RETENTION_MS, clock });
});
