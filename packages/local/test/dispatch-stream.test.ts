import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchesAnyFilter } from "../src/content-filter";
import { type LocalStack, TABLE_NAME } from "../src/stack";
import { type Client, client, startTestStack } from "./helpers";

/**
 * The seam that hid the dispatcher that never ran in AWS: stream records in DynamoDB JSON
 * (every number a string), through the deployed filter and the local stream, to the dispatcher.
 */
let stack: LocalStack;
let api: Client;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

beforeAll(async () => {
  stack = await startTestStack();
  api = client(stack);
  const endpoint = stack.dynamodbEndpoint;
  dynamodb = new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
  streams = new DynamoDBStreamsClient({ endpoint, region: "us-east-1", credentials });
});

afterAll(async () => {
  dynamodb.destroy();
  streams.destroy();
  await stack?.stop();
});

/** Every record on the table's stream so far, as Lambda's event source mapping reads them. */
async function streamRecords(): Promise<StreamRecord[]> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: TABLE_NAME }));
  const StreamArn = Table?.LatestStreamArn as string;
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
  const records: StreamRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    while (ShardIterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator }));
      records.push(...(page.Records ?? []));
      if ((page.Records ?? []).length === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return records;
}

/** A record as the mapping presents it to a filter: the stream record with its source ARN. */
const asLambdaRecord = (record: StreamRecord) => JSON.parse(JSON.stringify(record)) as object;

const deployedFilters = () =>
  (stack.topology.streamSources[0]?.filters ?? []).map((pattern) => JSON.stringify(pattern));
/** The filter deployed before: `numeric` never matches a DynamoDB number, a string in JSON. */
const NUMERIC_FILTER = JSON.stringify({
  dynamodb: { NewImage: { pending: { N: [{ numeric: [">", 0] }] } } },
});

describe("dispatch on the table's stream", () => {
  it("pages from a pending incident's stream record, which the old numeric filter would drop", async () => {
    const dispatchedBefore = stack.invocations.dispatch ?? 0;
    const { incidents } = await api.deliver("logs/lambda-timeout.json");
    const id = incidents[0] as string;
    expect(id).toBeDefined();
    await stack.settle();

    // A page came out, and only the stream invoked the dispatcher to send it.
    const { items } = (await (await api.get("/local/outbox")).json()) as {
      items: Array<{ incidentId: string; kind: string }>;
    };
    expect(items.filter((item) => item.incidentId === id && item.kind === "page")).not.toEqual([]);
    expect(stack.invocations.dispatch ?? 0).toBeGreaterThan(dispatchedBefore);

    // The record that carried it: numbers as strings, the pending marker a string.
    const pending = (await streamRecords()).find(
      (record) =>
        record.dynamodb?.NewImage?.pk?.S === `INC#${id}` &&
        record.dynamodb.NewImage.gsi2pk !== undefined,
    );
    expect(pending?.dynamodb?.NewImage?.pending).toEqual({ N: "1" });
    const event = asLambdaRecord(pending as StreamRecord);
    expect(matchesAnyFilter(deployedFilters(), event)).toBe(true);
    expect(matchesAnyFilter([NUMERIC_FILTER], event)).toBe(false);
  });

  it("never hands the dispatcher an incident whose pending count is 0", async () => {
    const { incidents } = await api.deliver("logs/plain-text-errors.json");
    await stack.settle();
    const { Item } = await dynamodb.send(
      new GetItemCommand({
        TableName: TABLE_NAME,
        Key: { pk: { S: `INC#${incidents[0]}` }, sk: { S: "INC" } },
      }),
    );
    expect(Item?.pending).toEqual({ N: "0" });
    expect(Item?.gsi2pk).toBeUndefined();

    // The same item written again, as a store write with nothing pending would: filtered out.
    const dispatched = stack.invocations.dispatch ?? 0;
    const filtered = stack.stream.counts.filteredOut;
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: {
          ...Item,
          pending: { N: "0" },
          version: { N: String(Number(Item?.version?.N) + 1) },
        },
      }),
    );
    await stack.settle();
    expect(stack.stream.counts.filteredOut).toBeGreaterThan(filtered);
    expect(stack.invocations.dispatch ?? 0).toBe(dispatched);
  });
});
