import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBStreamSchema } from "@aws-lambda-powertools/parser/schemas";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DEPLOY } from "@firebreak/stacks/deploy";
import { deployOptions } from "@firebreak/stacks/options";
import { topology } from "@firebreak/stacks/topology";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type DynamoDbEngine,
  type EmbeddedDynamoDb,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";
import {
  mappingSettings,
  StreamEventSourceMapping,
  type StreamEventSourceMappingOptions,
  type StreamInvocationRecord,
} from "../src/stream-mapping";

const DISPATCH_FILTER =
  '{"dynamodb":{"NewImage":{"pk":{"S":[{"prefix":"INC#"}]},"gsi2pk":{"S":[{"prefix":"PENDING"}]}}}}';
/** The filter first deployed: `numeric` never matches a stream record's string numbers. */
const NUMERIC_PENDING_FILTER = '{"dynamodb":{"NewImage":{"pending":{"N":[{"numeric":[">",0]}]}}}}';

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

/** Polls a condition the mapping's own counters or callbacks make true. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(10);
}

/** The Streams APIs the mapping is tested against, each started once for this file. */
const ENGINES: Array<{ name: string; engine: DynamoDbEngine }> = [
  { name: "DynamoDB Local", engine: "dynamodb-local" },
  { name: "dynalite", engine: "dynalite" },
];

let dynamo: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let tables = 0;
const mappings: StreamEventSourceMapping[] = [];

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

/** A fresh table with a NEW_IMAGE stream: its name, stream ARN and the stream's one shard. */
async function streamTable() {
  tables += 1;
  const name = `stream-test-${tables}`;
  const created = await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" },
    }),
  );
  const streamArn = created.TableDescription?.LatestStreamArn;
  if (!streamArn) throw new Error("the table has no stream");
  const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
  return {
    streamArn,
    shardId,
    put: (item: Record<string, AttributeValue>) =>
      dynamo.send(new PutItemCommand({ TableName: name, Item: item })),
    putAll: (items: Array<Record<string, AttributeValue>>) =>
      dynamo.send(
        new BatchWriteItemCommand({
          RequestItems: { [name]: items.map((Item) => ({ PutRequest: { Item } })) },
        }),
      ),
  };
}

/** A mapping whose function records every event it gets, and the destination what it gets. */
function mapping(
  streamArn: string,
  settings: Omit<StreamEventSourceMappingOptions, "invoke" | "FunctionName"> & {
    respond?: (event: DynamoDBStreamEvent) => unknown;
  },
) {
  const events: DynamoDBStreamEvent[] = [];
  const failures: StreamInvocationRecord[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const { respond, ...rest } = settings;
  const esm = new StreamEventSourceMapping(streams, streamArn, {
    FunctionName: "dispatch",
    pollIntervalMs: 20,
    DestinationConfig: { OnFailure: (record) => void failures.push(record) },
    ...rest,
    invoke: async (event) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      events.push(event);
      try {
        await sleep(1); // a function takes time: a second batch must not start meanwhile
        return respond?.(event);
      } finally {
        inFlight -= 1;
      }
    },
  });
  mappings.push(esm);
  return { esm, events, failures, mostInFlight: () => mostInFlight };
}

const pk = (record: DynamoDBRecord | undefined) => record?.dynamodb?.NewImage?.pk?.S;
const pks = (event: DynamoDBStreamEvent | undefined) => event?.Records.map(pk) ?? [];
const sequenceNumber = (record: DynamoDBRecord | undefined) => record?.dynamodb?.SequenceNumber;
const item = (key: string, extra: Record<string, AttributeValue> = {}) => ({
  pk: { S: key },
  ...extra,
});

describe.each(ENGINES)("StreamEventSourceMapping on $name", ({ engine }) => {
  let database: EmbeddedDynamoDb | undefined;
  // A JVM takes a few seconds to start, and far longer with both cores busy.
  beforeAll(async () => {
    database = await startEmbeddedDynamoDb({ engine, process: "same" });
    const config = { endpoint: database.endpoint, region: "us-east-1", credentials };
    dynamo = new DynamoDBClient(config);
    streams = new DynamoDBStreamsClient(config);
  }, 180_000);

  afterAll(async () => {
    dynamo?.destroy();
    streams?.destroy();
    await database?.stop();
  });

  it("delivers only records a filter matches, from LATEST, shaped as Lambda's event", async () => {
    const table = await streamTable();
    await table.put(item("INC#before", { gsi2pk: { S: "PENDING#0" } }));
    const { esm, events } = mapping(table.streamArn, {
      StartingPosition: "LATEST",
      BatchSize: 10,
      FilterCriteria: { Filters: [{ Pattern: DISPATCH_FILTER }] },
    });
    await esm.start();
    await table.put(item("INC#1", { gsi2pk: { S: "PENDING#3" }, pending: { N: "1" } }));
    await table.put(item("INC#2", { pending: { N: "0" } }));
    await table.put(item("SIG#1", { gsi2pk: { S: "PENDING#1" } }));
    await table.put(item("INC#3", { gsi2pk: { S: "DONE" } }));
    await esm.settled();

    expect(events.flatMap(pks)).toEqual(["INC#1"]);
    expect(esm.counts).toMatchObject({ recordsRead: 4, filteredOut: 3, batchesInvoked: 1 });
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      eventName: "INSERT",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      eventSourceARN: table.streamArn,
      dynamodb: {
        Keys: { pk: { S: "INC#1" } },
        NewImage: { pk: { S: "INC#1" }, gsi2pk: { S: "PENDING#3" }, pending: { N: "1" } },
        StreamViewType: "NEW_IMAGE",
      },
    });
    expect(typeof record?.awsRegion).toBe("string");
    expect(record?.dynamodb?.ApproximateCreationDateTime).toBeTypeOf("number");
    expect(record?.dynamodb?.SequenceNumber).toMatch(/^\d+$/);
    // The dispatcher parses its event with Powertools' schema: this one passes it.
    expect(DynamoDBStreamSchema.parse(events[0]).Records[0]?.dynamodb.NewImage).toEqual({
      pk: "INC#1",
      gsi2pk: "PENDING#3",
      pending: 1,
    });
  });

  it("runs the dispatcher's source as the topology deploys it: pending incidents only", async () => {
    const deployed = topology({ options: deployOptions(DEPLOY), alarmPrefix: "firebreak-" });
    const dispatch = deployed.streamSources.find((source) => source.function === "dispatch");
    if (!dispatch) throw new Error("the topology has no dispatch stream source");
    const table = await streamTable();
    // From LATEST as deployed: what was written before the mapping started stays unread.
    await table.put(item("INC#old", { gsi2pk: { S: "PENDING#0" } }));
    const { esm, events } = mapping(table.streamArn, mappingSettings(dispatch));
    await esm.start();
    await table.put(item("INC#1", { gsi2pk: { S: "PENDING#2" }, pending: { N: "1" } }));
    await table.put(item("INC#1#T#0001", { pending: { N: "1" } }));
    await table.put(item("INC#2", { pending: { N: "0" } }));
    await esm.settled();

    expect(events.flatMap(pks)).toEqual(["INC#1"]);
    expect(esm.counts).toMatchObject({ recordsRead: 3, filteredOut: 2 });
  });

  it("delivers nothing through the numeric filter first deployed: stream numbers are strings", async () => {
    const table = await streamTable();
    const { esm, events } = mapping(table.streamArn, {
      StartingPosition: "LATEST",
      FilterCriteria: { Filters: [{ Pattern: NUMERIC_PENDING_FILTER }] },
    });
    await esm.start();
    await table.put(item("INC#1", { pending: { N: "1" } }));
    await table.put(item("INC#2", { pending: { N: "2" } }));
    await esm.settled();

    expect(events).toEqual([]);
    expect(esm.counts).toMatchObject({ recordsRead: 2, filteredOut: 2, batchesInvoked: 0 });
  });

  it("hands over batches of at most BatchSize, one at a time, each item's changes in order", async () => {
    const table = await streamTable();
    for (let version = 1; version <= 5; version += 1) {
      for (const key of ["a", "b", "c", "d", "e"]) {
        await table.put(item(key, { version: { N: String(version) } }));
      }
    }
    const { esm, events, mostInFlight } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 10,
    });
    await esm.start();
    await esm.settled();

    expect(events.map((event) => event.Records.length)).toEqual([10, 10, 5]);
    expect(mostInFlight()).toBe(1);
    const records = events.flatMap((event) => event.Records);
    const sequence = records.map((record) => BigInt(sequenceNumber(record) ?? -1));
    expect(sequence).toEqual([...sequence].sort((x, y) => (x < y ? -1 : 1)));
    const versionsOfA = records
      .filter((record) => pk(record) === "a")
      .map((record) => record.dynamodb?.NewImage?.version?.N);
    expect(versionsOfA).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("holds a partial batch for the batching window, and invokes at once when a batch is full", async () => {
    const table = await streamTable();
    const { esm, events } = mapping(table.streamArn, {
      StartingPosition: "LATEST",
      BatchSize: 4,
      MaximumBatchingWindowInSeconds: 300,
    });
    await esm.start();
    await table.putAll(["a", "b", "c", "d", "e", "f", "g", "h", "i"].map((key) => item(key)));
    await until(() => esm.counts.recordsRead === 9 && events.length === 2);

    expect(events.map(pks)).toEqual([
      ["a", "b", "c", "d"],
      ["e", "f", "g", "h"],
    ]);
    // "i" waits for more records or for the five minutes: it has not been invoked.
    expect(esm.counts.batchesInvoked).toBe(2);
  });

  it("retries a batch whose function throws, then sends its batch info to the destination", async () => {
    const table = await streamTable();
    for (const key of ["poison-1", "poison-2", "poison-3"]) await table.put(item(key));
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      MaximumRetryAttempts: 2,
      respond: (event) => {
        if (pks(event).some((key) => key?.startsWith("poison"))) throw new Error("poisoned");
      },
    });
    await esm.start();
    await esm.settled();
    await table.put(item("fine"));
    await esm.settled();

    // One invocation and two retries of the same batch; then the mapping moved on.
    expect(events.map(pks)).toEqual([
      ["poison-1", "poison-2", "poison-3"],
      ["poison-1", "poison-2", "poison-3"],
      ["poison-1", "poison-2", "poison-3"],
      ["fine"],
    ]);
    expect(esm.counts).toMatchObject({ retries: 2, sentToDestination: 1, recordsDiscarded: 3 });
    const poisoned = events[0]?.Records ?? [];
    expect(failures).toEqual([
      {
        requestContext: {
          requestId: expect.any(String),
          functionArn: expect.stringMatching(/^arn:aws:lambda:[^:]+:\d{12}:function:dispatch$/),
          condition: "RetryAttemptsExhausted",
          approximateInvokeCount: 3,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: "$LATEST",
          functionError: "Unhandled",
        },
        version: "1.0",
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        DDBStreamBatchInfo: {
          shardId: table.shardId,
          startSequenceNumber: sequenceNumber(poisoned[0]),
          endSequenceNumber: sequenceNumber(poisoned[2]),
          approximateArrivalOfFirstRecord: expect.stringMatching(
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
          ),
          approximateArrivalOfLastRecord: expect.stringMatching(
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
          ),
          batchSize: 3,
          streamArn: table.streamArn,
        },
      },
    ]);
  });

  it("bisects a failing batch until the bad record is alone, without spending retries", async () => {
    const table = await streamTable();
    for (const key of ["a", "b", "bad", "d"]) await table.put(item(key));
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 4,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 0,
      respond: (event) => {
        if (pks(event).includes("bad")) throw new Error("bad record");
      },
    });
    await esm.start();
    await esm.settled();

    expect(events.map(pks)).toEqual([
      ["a", "b", "bad", "d"],
      ["a", "b"],
      ["bad", "d"],
      ["bad"],
      ["d"],
    ]);
    expect(esm.counts).toMatchObject({ bisects: 2, retries: 0, sentToDestination: 1 });
    const bad = events[3]?.Records[0];
    expect(failures[0]?.requestContext).toMatchObject({
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 3,
    });
    expect(failures[0]?.DDBStreamBatchInfo).toMatchObject({
      startSequenceNumber: sequenceNumber(bad),
      endSequenceNumber: sequenceNumber(bad),
      batchSize: 1,
    });
  });

  it("retries from the lowest sequence number a function reports, never before it", async () => {
    const table = await streamTable();
    for (const key of ["r1", "r2", "r3", "r4", "r5"]) await table.put(item(key));
    let calls = 0;
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 3,
      respond: (event) => {
        calls += 1;
        if (calls > 1) return { batchItemFailures: [] };
        const [, , r3, r4] = event.Records;
        // Reported out of order: Lambda takes the lowest sequence number.
        return {
          batchItemFailures: [
            { itemIdentifier: sequenceNumber(r4) },
            { itemIdentifier: sequenceNumber(r3) },
          ],
        };
      },
    });
    await esm.start();
    await esm.settled();

    expect(events.map(pks)).toEqual([
      ["r1", "r2", "r3", "r4", "r5"],
      ["r3", "r4", "r5"],
    ]);
    expect(esm.counts.retries).toBe(1);
    expect(failures).toEqual([]);
  });

  it("sends what is left from the failed record to the destination when retries run out", async () => {
    const table = await streamTable();
    for (const key of ["r1", "r2", "r3", "r4"]) await table.put(item(key));
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 1,
      respond: (event) => ({
        batchItemFailures: event.Records.filter((record) => pk(record) === "r3").map((record) => ({
          itemIdentifier: sequenceNumber(record),
        })),
      }),
    });
    await esm.start();
    await esm.settled();

    // A partial failure is no function error: no halving, the batch is cut at the reported record.
    expect(events.map(pks)).toEqual([
      ["r1", "r2", "r3", "r4"],
      ["r3", "r4"],
    ]);
    const [, , r3, r4] = events[0]?.Records ?? [];
    expect(failures).toHaveLength(1);
    expect(failures[0]?.requestContext).toMatchObject({ approximateInvokeCount: 2 });
    expect(failures[0]?.responseContext).toEqual({ statusCode: 200, executedVersion: "$LATEST" });
    expect(failures[0]?.DDBStreamBatchInfo).toMatchObject({
      startSequenceNumber: sequenceNumber(r3),
      endSequenceNumber: sequenceNumber(r4),
      batchSize: 2,
    });
  });

  it("fails the whole batch on an empty or unknown itemIdentifier, and succeeds on an empty list", async () => {
    const table = await streamTable();
    for (const key of ["r1", "r2", "r3"]) await table.put(item(key));
    const responses: unknown[] = [
      { batchItemFailures: [{ itemIdentifier: "" }] },
      { batchItemFailures: [{ itemIdentifier: "99999999999999999999999" }] },
      { batchItemFailures: [{ id: "r2" }] },
      { batchItemFailures: [] },
    ];
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 5,
      respond: () => responses.shift(),
    });
    await esm.start();
    await esm.settled();

    expect(events.map(pks)).toEqual(Array(4).fill(["r1", "r2", "r3"]));
    expect(esm.counts).toMatchObject({ retries: 3, sentToDestination: 0 });
    expect(failures).toEqual([]);
  });

  it("ignores a reported failure unless ReportBatchItemFailures is on", async () => {
    const table = await streamTable();
    await table.put(item("r1"));
    const { esm, events } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      MaximumRetryAttempts: 5,
      respond: (event) => ({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(event.Records[0]) }],
      }),
    });
    await esm.start();
    await esm.settled();

    expect(events).toHaveLength(1);
    expect(esm.counts.retries).toBe(0);
  });

  it("sends records older than MaximumRecordAgeInSeconds to the destination without invoking", async () => {
    const table = await streamTable();
    await table.put(item("old"));
    const { esm, events, failures } = mapping(table.streamArn, {
      StartingPosition: "TRIM_HORIZON",
      MaximumRecordAgeInSeconds: 60,
      // The mapping's clock runs two minutes ahead of the stream's: the record is two minutes old.
      now: () => Date.now() + 120_000,
    });
    await esm.start();
    await esm.settled();

    expect(events).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.requestContext).toMatchObject({
      condition: "RecordAgeExceeded",
      approximateInvokeCount: 0,
    });
    expect(failures[0]?.DDBStreamBatchInfo.batchSize).toBe(1);
  });

  it("stops only once the batch in flight has been handled, and invokes nothing after", async () => {
    const table = await streamTable();
    let release: (() => void) | undefined;
    let handled = false;
    const { esm, events } = mapping(table.streamArn, {
      StartingPosition: "LATEST",
      respond: async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        handled = true;
      },
    });
    await esm.start();
    await table.put(item("slow"));
    await until(() => release !== undefined);
    const stopped = esm.stop();
    setImmediate(() => release?.());
    await stopped;

    expect(handled).toBe(true);
    await table.put(item("after-stop"));
    await expect(esm.settled()).rejects.toThrow(/not running/);
    expect(events).toHaveLength(1);
  });

  it("refuses settings Lambda would refuse", () => {
    const invoke = async () => undefined;
    const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000";
    const create = (settings: Partial<StreamEventSourceMappingOptions>) =>
      new StreamEventSourceMapping(streams, arn, {
        FunctionName: "dispatch",
        StartingPosition: "LATEST",
        invoke,
        ...settings,
      });
    expect(() => create({ BatchSize: 0 })).toThrow();
    expect(() => create({ MaximumRecordAgeInSeconds: 10 })).toThrow();
    expect(() =>
      create({ FilterCriteria: { Filters: Array(6).fill({ Pattern: DISPATCH_FILTER }) } }),
    ).toThrow(/6 filters/);
    expect(() => create({ FilterCriteria: { Filters: [{ Pattern: "{not json" }] } })).toThrow();
  });
});
