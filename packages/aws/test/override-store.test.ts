import { describeOverrideStoreContract } from "@firebreak/core/testing";
import { afterAll, beforeAll } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbOverrideStore } from "../src";

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describeOverrideStoreContract("DynamoDB (embedded dynalite)", async () => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `overrides-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbOverrideStore(client, tableName);
});
