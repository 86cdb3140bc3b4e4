import {
  describeIncidentStoreContract,
  describeSilenceStoreContract,
} from "@firebreak/core/testing";
import { afterAll, beforeAll } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
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
