import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  type StreamViewType,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  ListStreamsCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynaliteWithStreams } from "../src/dynalite-streams.mjs";
import {
  type EmbeddedDynamoDb,
  type EmbeddedDynamoDbOptions,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

function streamsClient(endpoint: string): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ endpoint, region: "us-east-1", credentials });
}

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: "INC" } });

const backends: Array<{ name: string; options: EmbeddedDynamoDbOptions }> = [
  { name: "dynalite in this process", options: { engine: "dynalite", process: "same" } },
  { name: "dynalite in a child process", options: { engine: "dynalite", process: "child" } },
  { name: "DynamoDB Local", options: { engine: "dynamodb-local" } },
];

describe.each(backends)("DynamoDB Streams on $name", ({ options }) => {
  let dynamo: EmbeddedDynamoDb;
  let client: DynamoDBClient;
  let streams: DynamoDBStreamsClient;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamoDb(options);
    client = localDynamoDbClient(dynamo.endpoint);
    streams = streamsClient(dynamo.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    streams?.destroy();
    await dynamo?.stop();
  });

  /** A Firebreak table of its own, as ensureTable creates it, and its stream's ARN and shard. */
  async function table(streamViewType?: StreamViewType) {
    const tableName = `streams-${++tables}`;
    await ensureTable(client, tableName, streamViewType ? { streamViewType } : {});
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const StreamArn = Table?.LatestStreamArn ?? "";
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
    const ShardId = StreamDescription?.Shards?.[0]?.ShardId ?? "";
    return { tableName, StreamArn, ShardId };
  }

  async function iterator(input: GetShardIteratorCommandInput): Promise<string> {
    const { ShardIterator } = await streams.send(new GetShardIteratorCommand(input));
    if (!ShardIterator) throw new Error("no shard iterator");
    return ShardIterator;
  }

  /** Reads from an iterator until `count` records came (a stream may lag its table). */
  async function read(shardIterator: string, count: number, limit?: number) {
    const records: StreamRecord[] = [];
    const pages: number[] = [];
    let next: string | undefined = shardIterator;
    while (records.length < count && next) {
      const page: GetRecordsCommandOutput = await streams.send(
        new GetRecordsCommand({ ShardIterator: next, Limit: limit }),
      );
      records.push(...(page.Records ?? []));
      if (page.Records?.length) pages.push(page.Records.length);
      next = page.NextShardIterator;
    }
    return { records, pages, next };
  }

  async function readAll(shard: { StreamArn: string; ShardId: string }, count: number) {
    const start = await iterator({ ...shard, ShardIteratorType: "TRIM_HORIZON" });
    return (await read(start, count)).records;
  }

  const put = (tableName: string, item: Record<string, AttributeValue>) =>
    client.send(new PutItemCommand({ TableName: tableName, Item: item }));
  const add = (tableName: string, pk: string) =>
    client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key(pk),
        UpdateExpression: "ADD signals :one",
        ExpressionAttributeValues: { ":one": { N: "1" } },
      }),
    );

  it("creates the table with its stream: DescribeTable, ListStreams and DescribeStream agree", async () => {
    const t = await table();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: t.tableName }));
    expect(Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: "NEW_IMAGE",
    });
    expect(Table?.LatestStreamArn).toMatch(
      new RegExp(
        `^arn:aws:dynamodb:[^:]+:\\d+:table/${t.tableName}/stream/${Table?.LatestStreamLabel}$`,
      ),
    );
    const listed = await streams.send(new ListStreamsCommand({ TableName: t.tableName }));
    expect(listed.Streams).toEqual([
      { StreamArn: t.StreamArn, TableName: t.tableName, StreamLabel: Table?.LatestStreamLabel },
    ]);
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: t.StreamArn }),
    );
    expect(StreamDescription).toMatchObject({
      StreamArn: t.StreamArn,
      StreamStatus: "ENABLED",
      StreamViewType: "NEW_IMAGE",
      TableName: t.tableName,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    });
    expect(StreamDescription?.Shards).toHaveLength(1);
    expect(StreamDescription?.Shards?.[0]?.ShardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
    expect(StreamDescription?.Shards?.[0]?.SequenceNumberRange?.StartingSequenceNumber).toMatch(
      /^\d{21,40}$/,
    );
  });

  it("records puts, updates, deletes and batch writes with their images, and nothing for writes that change nothing", async () => {
    const t = await table("NEW_AND_OLD_IMAGES");
    const incident = { ...key("INC#1"), status: { S: "OPEN" }, signals: { N: "1" } };
    await put(t.tableName, incident);
    await add(t.tableName, "INC#1");
    await expect(
      client.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: key("INC#1"),
          UpdateExpression: "SET #status = :resolved",
          ConditionExpression: "#status = :resolved",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":resolved": { S: "RESOLVED" } },
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    // Documented: "If you perform a PutItem or UpdateItem operation that does not change any data
    // in an item, DynamoDB Streams does not write a stream record for that operation."
    await client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: key("INC#1"),
        UpdateExpression: "SET #status = :open",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":open": { S: "OPEN" } },
      }),
    );
    await put(t.tableName, { ...incident, signals: { N: "2.0" } });
    await client.send(new DeleteItemCommand({ TableName: t.tableName, Key: key("INC#1") }));
    await client.send(new DeleteItemCommand({ TableName: t.tableName, Key: key("INC#missing") }));
    await put(t.tableName, { ...key("INC#3"), status: { S: "OPEN" } });
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [t.tableName]: [
            { PutRequest: { Item: { ...key("INC#2"), status: { S: "OPEN" } } } },
            { PutRequest: { Item: { ...key("INC#3"), status: { S: "RESOLVED" } } } },
            { DeleteRequest: { Key: key("INC#missing") } },
          ],
        },
      }),
    );
    await put(t.tableName, { ...key("INC#sentinel") });

    const records = await readAll(t, 7);
    const summary = records.map((record) => ({
      eventName: record.eventName,
      Keys: record.dynamodb?.Keys,
      NewImage: record.dynamodb?.NewImage,
      OldImage: record.dynamodb?.OldImage,
      // Its keys and images, sized as DynamoDB sizes items.
      SizeBytes: record.dynamodb?.SizeBytes,
    }));
    expect(summary.slice(0, 4)).toEqual([
      {
        eventName: "INSERT",
        Keys: key("INC#1"),
        NewImage: incident,
        OldImage: undefined,
        SizeBytes: 43,
      },
      {
        eventName: "MODIFY",
        Keys: key("INC#1"),
        NewImage: { ...incident, signals: { N: "2" } },
        OldImage: incident,
        SizeBytes: 74,
      },
      {
        eventName: "REMOVE",
        Keys: key("INC#1"),
        NewImage: undefined,
        OldImage: { ...incident, signals: { N: "2" } },
        SizeBytes: 43,
      },
      {
        eventName: "INSERT",
        Keys: key("INC#3"),
        NewImage: { ...key("INC#3"), status: { S: "OPEN" } },
        OldImage: undefined,
        SizeBytes: 34,
      },
    ]);
    // A batch's items commit in no particular order (AWS orders records per item only).
    const batch = summary
      .slice(4, 6)
      .sort((a, b) => (a.Keys?.pk?.S ?? "").localeCompare(b.Keys?.pk?.S ?? ""));
    expect(batch).toEqual([
      {
        eventName: "INSERT",
        Keys: key("INC#2"),
        NewImage: { ...key("INC#2"), status: { S: "OPEN" } },
        OldImage: undefined,
        SizeBytes: 34,
      },
      {
        eventName: "MODIFY",
        Keys: key("INC#3"),
        NewImage: { ...key("INC#3"), status: { S: "RESOLVED" } },
        OldImage: { ...key("INC#3"), status: { S: "OPEN" } },
        SizeBytes: 60,
      },
    ]);
    expect(summary[6]?.Keys).toEqual(key("INC#sentinel"));
    expect(records).toHaveLength(7);

    const sequences = records.map((record) => BigInt(record.dynamodb?.SequenceNumber ?? "0"));
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(sequences).size).toBe(records.length);
    expect(new Set(records.map((record) => record.eventID)).size).toBe(records.length);
    for (const record of records) {
      expect(record).toMatchObject({
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: expect.any(String),
      });
      expect(record.dynamodb?.SequenceNumber).toMatch(/^\d{21,40}$/);
      expect(record.dynamodb?.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
      expect(record.dynamodb?.ApproximateCreationDateTime).toBeInstanceOf(Date);
      expect(record.dynamodb?.ApproximateCreationDateTime?.getTime()).toBeLessThanOrEqual(
        Date.now(),
      );
    }
  });

  it.each([
    ["KEYS_ONLY", false, false],
    ["NEW_IMAGE", true, false],
    ["OLD_IMAGE", false, true],
  ] as const)("carries what %s says", async (viewType, withNew, withOld) => {
    const t = await table(viewType);
    await put(t.tableName, { ...key("INC#1"), signals: { N: "1" } });
    await add(t.tableName, "INC#1");
    await client.send(new DeleteItemCommand({ TableName: t.tableName, Key: key("INC#1") }));
    const records = await readAll(t, 3);
    expect(records.map((record) => record.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE"]);
    const images = [
      [{ ...key("INC#1"), signals: { N: "1" } }, undefined],
      [
        { ...key("INC#1"), signals: { N: "2" } },
        { ...key("INC#1"), signals: { N: "1" } },
      ],
      [undefined, { ...key("INC#1"), signals: { N: "2" } }],
    ];
    expect(records.map((record) => [record.dynamodb?.NewImage, record.dynamodb?.OldImage])).toEqual(
      images.map(([newImage, oldImage]) => [
        withNew ? newImage : undefined,
        withOld ? oldImage : undefined,
      ]),
    );
    for (const record of records) {
      expect(record.dynamodb?.Keys).toEqual(key("INC#1"));
      expect(record.dynamodb?.StreamViewType).toBe(viewType);
    }
  });

  it("keeps commit order per item under 20 concurrent writers", async () => {
    const t = await table("NEW_AND_OLD_IMAGES");
    await Promise.all(Array.from({ length: 20 }, () => add(t.tableName, "INC#hot")));
    const records = await readAll(t, 20);
    expect(records.map((record) => record.dynamodb?.NewImage?.signals?.N)).toEqual(
      Array.from({ length: 20 }, (_, index) => String(index + 1)),
    );
    expect(records.map((record) => record.dynamodb?.OldImage?.signals?.N)).toEqual(
      Array.from({ length: 20 }, (_, index) => (index === 0 ? undefined : String(index))),
    );
    expect(records[0]?.eventName).toBe("INSERT");
    expect(records.slice(1).every((record) => record.eventName === "MODIFY")).toBe(true);
  });

  it("positions iterators at TRIM_HORIZON, LATEST, AT and AFTER a sequence number, and pages with Limit", async () => {
    const t = await table();
    for (let n = 1; n <= 5; n++) await put(t.tableName, { ...key(`INC#${n}`) });
    const all = await readAll(t, 5);
    const pks = (records: StreamRecord[]) => records.map((record) => record.dynamodb?.Keys?.pk?.S);
    expect(pks(all)).toEqual(["INC#1", "INC#2", "INC#3", "INC#4", "INC#5"]);

    const paged = await read(await iterator({ ...t, ShardIteratorType: "TRIM_HORIZON" }), 5, 2);
    expect(paged.pages).toEqual([2, 2, 1]);
    expect(pks(paged.records)).toEqual(pks(all));
    // An open shard always has a next iterator, even with nothing new behind it.
    const caughtUp = await streams.send(new GetRecordsCommand({ ShardIterator: paged.next }));
    expect(caughtUp.Records).toEqual([]);
    expect(caughtUp.NextShardIterator).toEqual(expect.any(String));

    const third = all[2]?.dynamodb?.SequenceNumber;
    const after = await read(
      await iterator({ ...t, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: third }),
      2,
    );
    expect(pks(after.records)).toEqual(["INC#4", "INC#5"]);
    const at = await read(
      await iterator({ ...t, ShardIteratorType: "AT_SEQUENCE_NUMBER", SequenceNumber: third }),
      3,
    );
    expect(pks(at.records)).toEqual(["INC#3", "INC#4", "INC#5"]);

    const latest = await iterator({ ...t, ShardIteratorType: "LATEST" });
    await put(t.tableName, { ...key("INC#6") });
    expect(pks((await read(latest, 1)).records)).toEqual(["INC#6"]);
    expect(pks((await read(caughtUp.NextShardIterator ?? "", 1)).records)).toEqual(["INC#6"]);
  });

  it("answers bad requests as DynamoDB Streams does", async () => {
    const t = await table();
    const missingArn = t.StreamArn.replace(`table/${t.tableName}/`, "table/no-such-table/");
    await expect(
      streams.send(new DescribeStreamCommand({ StreamArn: missingArn })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(
      iterator({
        ...t,
        ShardId: "shardId-00000000000000000000-00000000",
        ShardIteratorType: "LATEST",
      }),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(iterator({ ...t, ShardIteratorType: "AT_SEQUENCE_NUMBER" })).rejects.toMatchObject(
      { name: "ValidationException" },
    );
    const start = await iterator({ ...t, ShardIteratorType: "TRIM_HORIZON" });
    for (const input of [
      { ShardIterator: start, Limit: 1001 },
      { ShardIterator: start, Limit: 0 },
      { ShardIterator: "not an iterator" },
    ]) {
      await expect(streams.send(new GetRecordsCommand(input))).rejects.toMatchObject({
        name: "ValidationException",
      });
    }
  });

  it("disables the stream of a deleted table and closes its shard at the last record", async () => {
    const t = await table();
    await put(t.tableName, { ...key("INC#1") });
    const [record] = await readAll(t, 1);
    await client.send(new DeleteTableCommand({ TableName: t.tableName }));
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: t.StreamArn }),
    );
    expect(StreamDescription?.StreamStatus).toBe("DISABLED");
    expect(StreamDescription?.Shards?.[0]?.SequenceNumberRange?.EndingSequenceNumber).toBe(
      record?.dynamodb?.SequenceNumber,
    );
    const again = await readAll(t, 1);
    expect(again.map((r) => r.eventID)).toEqual([record?.eventID]);
  });
});

describe("dynalite's stream limits", () => {
  let server: ReturnType<typeof dynaliteWithStreams>;
  let client: DynamoDBClient;
  let streams: DynamoDBStreamsClient;

  beforeAll(async () => {
    server = dynaliteWithStreams({ createTableMs: 0, deleteTableMs: 0, maxStreamRecords: 3 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = localDynamoDbClient(endpoint);
    streams = streamsClient(endpoint);
  });
  afterAll(async () => {
    client.destroy();
    streams.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("trims the oldest records past its cap and says so to readers left behind", async () => {
    await ensureTable(client, "trimmed");
    const { Table } = await client.send(new DescribeTableCommand({ TableName: "trimmed" }));
    const streamArn = Table?.LatestStreamArn ?? "";
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    const shard = { StreamArn: streamArn, ShardId: StreamDescription?.Shards?.[0]?.ShardId ?? "" };
    const early = await streams.send(
      new GetShardIteratorCommand({ ...shard, ShardIteratorType: "TRIM_HORIZON" }),
    );
    await client.send(new PutItemCommand({ TableName: "trimmed", Item: key("INC#1") }));
    const [first] =
      (await streams.send(new GetRecordsCommand({ ShardIterator: early.ShardIterator }))).Records ??
      [];
    for (let n = 2; n <= 5; n++) {
      await client.send(new PutItemCommand({ TableName: "trimmed", Item: key(`INC#${n}`) }));
    }

    const horizon = await streams.send(
      new GetShardIteratorCommand({ ...shard, ShardIteratorType: "TRIM_HORIZON" }),
    );
    const kept = await streams.send(
      new GetRecordsCommand({ ShardIterator: horizon.ShardIterator }),
    );
    expect(kept.Records?.map((record) => record.dynamodb?.Keys?.pk?.S)).toEqual([
      "INC#3",
      "INC#4",
      "INC#5",
    ]);
    await expect(
      streams.send(new GetRecordsCommand({ ShardIterator: early.ShardIterator })),
    ).rejects.toMatchObject({ name: "TrimmedDataAccessException" });
    await expect(
      streams.send(
        new GetShardIteratorCommand({
          ...shard,
          ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
          SequenceNumber: first?.dynamodb?.SequenceNumber,
        }),
      ),
    ).rejects.toMatchObject({ name: "TrimmedDataAccessException" });
  });
});

describe("DynamoDB Local's process", () => {
  it("stops with the process that started it, even one killed outright", async () => {
    const module = fileURLToPath(new URL("../src/embedded-dynamodb.ts", import.meta.url));
    const parent = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const { startEmbeddedDynamoDb } = await import(${JSON.stringify(module)});
         const dynamo = await startEmbeddedDynamoDb({ engine: "dynamodb-local" });
         console.log(dynamo.endpoint);`,
      ],
      {
        stdio: ["ignore", "pipe", "ignore"],
        // No tsx compile cache left in the temp directory.
        env: { ...process.env, NODE_NO_WARNINGS: "1", TSX_DISABLE_CACHE: "1" },
      },
    );
    const answers = (endpoint: URL) =>
      new Promise<boolean>((resolve) => {
        const socket = connect(Number(endpoint.port), endpoint.hostname);
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
    let endpoint: URL;
    try {
      endpoint = await new Promise<URL>((resolve, reject) => {
        let output = "";
        parent.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const match = /http:\/\/\S+/.exec(output);
          if (match) resolve(new URL(match[0]));
        });
        parent.once("exit", (code) => reject(new Error(`parent exited with ${code}`)));
      });
      expect(await answers(endpoint)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
    while (await answers(endpoint)) await new Promise((resolve) => setTimeout(resolve, 100));
    // Java alone takes seconds to start, more with both cores busy.
  }, 120_000);
});
