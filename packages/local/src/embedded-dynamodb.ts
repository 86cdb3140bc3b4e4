import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type StreamViewType,
} from "@aws-sdk/client-dynamodb";
import { createTableInput } from "@firebreak/aws";
import * as z from "zod";
import { dynaliteWithStreams } from "./dynalite-streams.mjs";

export interface EmbeddedDynamoDb {
  endpoint: string;
  stop(): Promise<void>;
}

/** dynalite (pure Node, the default) or AWS's DynamoDB Local (Java 17, closer to AWS). */
export type DynamoDbEngine = "dynalite" | "dynamodb-local";

export interface EmbeddedDynamoDbOptions {
  /** A directory to persist to; undefined keeps everything in memory. */
  path?: string;
  port?: number;
  /** In its own process (a core of its own, for the local stack) or in this one (tests). */
  process?: "child" | "same";
  /**
   * Which DynamoDB: unset reads FIREBREAK_DYNAMODB (`dynalite` or `dynamodb-local`), then
   * defaults to dynalite. DynamoDB Local always runs in a child process.
   */
  engine?: DynamoDbEngine;
}

const engineSetting = z.enum(["dynalite", "dynamodb-local"]).default("dynalite");

/**
 * Starts an embedded DynamoDB on 127.0.0.1, DynamoDB Streams included on the same endpoint.
 *
 * @example
 * const dynamo = await startEmbeddedDynamoDb({ engine: "dynamodb-local" });
 * const client = localDynamoDbClient(dynamo.endpoint);
 * await dynamo.stop();
 */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions = {},
): Promise<EmbeddedDynamoDb> {
  const engine = options.engine ?? parseEngine(process.env.FIREBREAK_DYNAMODB);
  if (engine === "dynamodb-local")
    return startChildDynamoDb("./dynamodb-local-server.mjs", options);
  if (options.process === "child") return startChildDynamoDb("./dynalite-server.mjs", options);
  const server = dynaliteWithStreams({
    path: options.path,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parseEngine(value: string | undefined): DynamoDbEngine {
  const parsed = engineSetting.safeParse(value || undefined);
  if (!parsed.success) {
    throw new Error(`FIREBREAK_DYNAMODB must be "dynalite" or "dynamodb-local", not "${value}"`);
  }
  return parsed.data;
}

/** Runs `node <script> <port> <path>`, which prints "listening <port>" once it answers. */
async function startChildDynamoDb(
  script: string,
  options: EmbeddedDynamoDbOptions,
): Promise<EmbeddedDynamoDb> {
  const scriptPath = fileURLToPath(new URL(script, import.meta.url));
  // The IPC channel lets the child notice when this process goes away, and stop with it.
  const child = spawn(
    process.execPath,
    [scriptPath, String(options.port ?? 0), options.path ?? ""],
    {
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`embedded DynamoDB exited with ${code}`)));
    child.once("error", reject);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Requests sent, by operation: counted in SDK middleware, once per attempt (retries count). */
export type RequestCounts = Record<string, number>;

/** Capacity units the requests consumed, as DynamoDB bills them on demand (see `countUnits`). */
export interface CapacityUnits {
  read: number;
  write: number;
}

/** Operations that take ReturnConsumedCapacity, and whether they read or write. */
const DATA_OPERATIONS: Record<string, "read" | "write"> = {
  GetItem: "read",
  BatchGetItem: "read",
  Query: "read",
  Scan: "read",
  TransactGetItems: "read",
  PutItem: "write",
  UpdateItem: "write",
  DeleteItem: "write",
  BatchWriteItem: "write",
  TransactWriteItems: "write",
};

/**
 * A client for a local endpoint. Dummy credentials: dynalite checks only that there are some.
 * Every request is counted by operation name in `counts`, and the capacity units it consumed in
 * `units`: each data request asks for ReturnConsumedCapacity TOTAL (free on AWS too) and adds up
 * what the database answers. A conditional write that fails is billed as well, at the size of
 * the item it names (at least 1 unit); this counts a failed PutItem at its item's JSON size (a
 * little over DynamoDB's measure) and a failed UpdateItem at 1 unit.
 */
export function localDynamoDbClient(
  endpoint: string,
  counts: RequestCounts = {},
  units: CapacityUnits = { read: 0, write: 0 },
): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 5,
    // A request to a database that went away must fail (and be retried), not hang.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
  });
  const operation = (context: { commandName?: string }) =>
    (context.commandName ?? "unknown").replace(/Command$/, "");
  // Asks for the units and reads them from the deserialized answer, or bills a failed
  // conditional write.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = operation(context);
      const kind = DATA_OPERATIONS[name];
      if (!kind) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string; Item?: unknown };
      input.ReturnConsumedCapacity ??= "TOTAL";
      try {
        const result = await next(args);
        units[kind] += consumedUnits(result.output);
        return result;
      } catch (error) {
        if ((error as Error).name === "ConditionalCheckFailedException") {
          const bytes = name === "PutItem" ? JSON.stringify(input.Item ?? null).length : 0;
          units.write += Math.max(1, Math.ceil(bytes / 1024));
        }
        throw error;
      }
    },
    { step: "initialize", name: "firebreakConsumedCapacity" },
  );
  // Every attempt counts (retries too).
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = operation(context);
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: "deserialize", name: "firebreakRequestCounter" },
  );
  return client;
}

/** ConsumedCapacity of one answer: one entry, or one per table (batches, transactions). */
function consumedUnits(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return entries.reduce(
    (sum: number, entry: { CapacityUnits?: number }) => sum + (entry.CapacityUnits ?? 0),
    0,
  );
}

export interface EnsureTableOptions {
  /** What the table's stream records carry: NEW_IMAGE, as deployed without replicas. */
  streamViewType?: StreamViewType;
}

/**
 * Creates Firebreak's table, its stream enabled, unless it exists (a restart on the same DATA_DIR
 * keeps it).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: EnsureTableOptions = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        ...createTableInput(tableName),
        StreamSpecification: {
          StreamEnabled: true,
          StreamViewType: options.streamViewType ?? "NEW_IMAGE",
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
