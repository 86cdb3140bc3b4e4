import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTER_RETENTION_MS, describeSignalCountersContract } from "@firebreak/core/testing";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { COUNTS_PARTITION, DynamoDbSignalCounters } from "../src";

const NOW = Date.parse("2026-12-02T16:20:00.000Z");
const DAY = 86_400_000;

describe("DynamoDbSignalCounters: the commands it sends", () => {
  // mockClient stubs every DynamoDBDocumentClient: restored before the contract's real calls.
  const documents = mockClient(DynamoDBDocumentClient);
  afterAll(() => documents.restore());
  const counters = new DynamoDbSignalCounters({
    client: new DynamoDBClient({ region: "us-east-1" }),
    tableName: "firebreak",
    retentionMs: 90 * DAY,
    clock: { now: () => NOW },
  });
  beforeEach(() => documents.reset());

  it("adds a batch's counts to its hour with one UpdateItem ADD, and sets the hour's TTL", async () => {
    documents.on(UpdateCommand).resolves({});
    await counters.add(NOW, { ignored: 42 });
    expect(documents).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: "firebreak",
      Key: { pk: COUNTS_PARTITION, sk: "2026-12-02T16:00:00.000Z" },
      UpdateExpression: "ADD #ignored :ignored SET #expiresAt = :expiresAt",
      ExpressionAttributeNames: { "#ignored": "ignored", "#expiresAt": "expiresAt" },
      // 17:00 (the hour's end) plus 90 days, in epoch seconds.
      ExpressionAttributeValues: {
        ":ignored": 42,
        ":expiresAt": Date.parse("2026-12-02T17:00:00.000Z") / 1000 + 90 * 86_400,
      },
    });
  });

  it("sends nothing for a batch with nothing to count", async () => {
    await counters.add(NOW, { ignored: 0 });
    expect(documents.calls()).toHaveLength(0);
  });

  it("reads a range with one Query between its first and last hour, following pages", async () => {
    const alive = Date.parse("2026-12-20T00:00:00.000Z") / 1000;
    documents
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          { pk: COUNTS_PARTITION, sk: "2026-12-02T09:00:00.000Z", ignored: 3, expiresAt: alive },
        ],
        LastEvaluatedKey: { pk: COUNTS_PARTITION, sk: "2026-12-02T09:00:00.000Z" },
      })
      .resolvesOnce({
        Items: [
          { pk: COUNTS_PARTITION, sk: "2026-12-02T10:00:00.000Z", ignored: 4, expiresAt: alive },
          // Past its TTL, not yet deleted: absent.
          { pk: COUNTS_PARTITION, sk: "2026-12-02T11:00:00.000Z", ignored: 50, expiresAt: 1 },
        ],
      });
    const totals = await counters.totals({
      since: "2026-12-02T09:30:00.000Z",
      until: "2026-12-02T11:15:00.000Z",
    });
    expect(totals).toEqual({ ignored: 7 });
    expect(documents).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(documents).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: "firebreak",
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :first AND :last",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      ExpressionAttributeValues: {
        ":pk": COUNTS_PARTITION,
        ":first": "2026-12-02T09:00:00.000Z",
        ":last": "2026-12-02T11:00:00.000Z",
      },
      ExclusiveStartKey: undefined,
    });
    expect(documents).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      ExclusiveStartKey: { pk: COUNTS_PARTITION, sk: "2026-12-02T09:00:00.000Z" },
    });
  });

  it("reads an open range with the partition alone", async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    expect(await counters.totals({ since: null, until: null })).toEqual({ ignored: 0 });
    expect(documents).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": "pk" },
      ExpressionAttributeValues: { ":pk": COUNTS_PARTITION },
    });
  });
});

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describeSignalCountersContract("DynamoDB (embedded dynalite)", async (clock) => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `counters-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbSignalCounters({
    client,
    tableName,
    retentionMs: COUNTER_RETENTION_MS,
    clock,
  });
});
