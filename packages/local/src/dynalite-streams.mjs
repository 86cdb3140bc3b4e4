// DynamoDB Streams for dynalite, which has none: every item change is captured inside dynalite's
// per-item lock, with its old and new image, and served on dynalite's own endpoint through the
// DynamoDB Streams API (DescribeStream, GetShardIterator, GetRecords, ListStreams), so
// `new DynamoDBStreamsClient({ endpoint })` reads it as it reads AWS.
//
// Also what dynalite 4 ignores of a conditional write: `ReturnValuesOnConditionCheckFailure:
// "ALL_OLD"` on PutItem, UpdateItem and DeleteItem puts the item that failed the condition (as it
// was checked, inside the same lock) in the ConditionalCheckFailedException's `Item`, absent when
// there was no item; any value but ALL_OLD or NONE is a ValidationException, as on AWS.
// BatchWriteItem has no such parameter; dynalite has no TransactWriteItems.
//
// Limits, by design: one shard per table (AWS orders records per item, not across items, so one
// shard keeps every guarantee); records live in memory only, the newest MAX_RECORDS (or MAX_BYTES
// of record size, 256 MB) per stream, where AWS keeps 24 hours; a restart starts every stream empty, and
// a reader resuming from a sequence number of the previous process is told its data was trimmed.
// UpdateTable cannot switch a stream on or off.
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { crc32 } from "node:zlib";
import * as z from "zod";

const require = createRequire(import.meta.url);
// dynalite, its store and its validation tables through one CommonJS cache, so the store we wrap
// is the one dynalite's actions use.
const dynalite = require("dynalite");
const dynaliteDb = require("dynalite/db/index.js");
const createTableValidation = require("dynalite/validations/createTable.js");
const conditionalWriteValidations = ["putItem", "updateItem", "deleteItem"].map((action) =>
  require(`dynalite/validations/${action}.js`),
);

const MAX_RECORDS = 100_000;
// AWS keeps records 24 hours, whatever their size. A storm of 5,000 new incidents writes about
// 60 MB of images, faster than the dispatcher reads them: at a 64 MB ceiling unread records were
// trimmed, and those incidents waited for the sweep instead of being dispatched.
const MAX_BYTES = 256 * 1024 * 1024;
/** AWS's limits: 1,000 records or 1 MB per GetRecords; iterators expire after 15 minutes. */
const MAX_GET_RECORDS = 1000;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const ITERATOR_LIFETIME_MS = 15 * 60 * 1000;
const VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"];
const TARGET_PREFIX = "DynamoDBStreams_20120810.";

/**
 * dynalite with DynamoDB Streams on the same endpoint. Tables created with
 * `StreamSpecification: { StreamEnabled: true, StreamViewType }` get a stream, named in
 * DescribeTable's `LatestStreamArn`.
 *
 * @example
 * const server = dynaliteWithStreams({ createTableMs: 0 });
 * server.listen(0, "127.0.0.1");
 */
export function dynaliteWithStreams(options = {}) {
  acceptStreamSpecification();
  returnItemOnConditionCheckFailure();
  const createStore = dynaliteDb.create;
  let store;
  dynaliteDb.create = (storeOptions) => {
    store = createStore(storeOptions);
    return store;
  };
  let server;
  try {
    server = dynalite(options);
  } finally {
    dynaliteDb.create = createStore;
  }
  const streams = new Streams(store, {
    maxRecords: options.maxStreamRecords ?? MAX_RECORDS,
    maxBytes: MAX_BYTES,
  });
  const [dynamoDbHandler] = server.listeners("request");
  server.removeAllListeners("request");
  // A stopping database answers what it already received and then drops each connection. Node's
  // close() ends only the connections idle at that moment: a client that keeps its keep-alive
  // connections busy (a sweep, a stream poller) would be served for as long as it stays busy, and
  // an outage would never begin.
  let closing = false;
  const close = server.close.bind(server);
  server.close = (callback) => {
    closing = true;
    close(callback);
    server.closeIdleConnections();
    return server;
  };
  server.on("request", (req, res) => {
    if (closing) res.setHeader("Connection", "close");
    res.once("finish", () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.startsWith(TARGET_PREFIX)) return dynamoDbHandler(req, res);
    serveStreams(streams, target.slice(TARGET_PREFIX.length), req, res);
  });
  return server;
}

// dynalite's CreateTable drops members it does not know; teach it StreamSpecification, so the
// table record keeps it (and DescribeTable returns it).
function acceptStreamSpecification() {
  if (createTableValidation.types.StreamSpecification) return;
  createTableValidation.types.StreamSpecification = {
    type: "FieldStruct<StreamSpecification>",
    children: {
      StreamEnabled: { type: "Boolean", notNull: true },
      StreamViewType: { type: "String", enum: VIEW_TYPES },
    },
  };
  const custom = createTableValidation.custom;
  createTableValidation.custom = (data, store) => {
    const spec = data.StreamSpecification;
    if (spec?.StreamEnabled && !spec.StreamViewType) {
      return "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true";
    }
    if (spec && !spec.StreamEnabled && spec.StreamViewType) {
      return "One or more parameter values were invalid: StreamViewType cannot be set when StreamEnabled is false";
    }
    return custom(data, store);
  };
}

// dynalite's validation drops members it does not know, and its PutItem, UpdateItem and DeleteItem
// check the condition against the item they read under the item's lock (db.checkConditional,
// looked up on the module at each call): a failure there gets that very item, as AWS returns it.
function returnItemOnConditionCheckFailure() {
  if (dynaliteDb.checkConditional.returnsItem) return;
  for (const validation of conditionalWriteValidations) {
    validation.types.ReturnValuesOnConditionCheckFailure = {
      type: "String",
      enum: ["ALL_OLD", "NONE"],
    };
  }
  const checkConditional = dynaliteDb.checkConditional;
  const checkReturningItem = (data, existingItem) => {
    const failure = checkConditional(data, existingItem);
    if (failure && existingItem && data.ReturnValuesOnConditionCheckFailure === "ALL_OLD") {
      failure.body.Item = existingItem;
    }
    return failure;
  };
  checkReturningItem.returnsItem = true;
  dynaliteDb.checkConditional = checkReturningItem;
}

class StreamsError extends Error {
  constructor(type, message) {
    super(message);
    this.name = "StreamsError";
    this.type = type;
  }
}

const notFound = (message) =>
  new StreamsError("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", message);
const invalid = (message) =>
  new StreamsError("com.amazon.coral.validate#ValidationException", message);

const formatSequence = (sequence) => String(sequence).padStart(21, "0");

/** The streams of one dynalite store: the hooks on its writes and the records they produce. */
class Streams {
  constructor(store, limits) {
    this.store = store;
    this.limits = limits;
    /** By ARN, including the disabled streams of deleted tables (AWS keeps them 24 h). */
    this.byArn = new Map();
    /** The current stream of each table, or null for a table without one. */
    this.byTable = new Map();
    // Sequence numbers keep growing across restarts of a persistent store: a later process
    // starts above anything an earlier one can have issued (1,000 records per ms of its life).
    this.firstSequence = Date.now() * 1000;
    this.lastSequence = this.firstSequence;
    this.hookTables(store.tableDb);
    this.hookItems(store);
    this.loaded = this.loadTables(store.tableDb);
  }

  // Table records pass through tableDb.put as they are created, made ACTIVE and deleted.
  hookTables(tableDb) {
    const put = tableDb.put.bind(tableDb);
    tableDb.put = (name, table, callback) => {
      this.observeTable(table);
      put(name, table, callback);
    };
  }

  hookItems(store) {
    const getItemDb = store.getItemDb;
    const hooked = new WeakSet();
    store.getItemDb = (tableName) => {
      const itemDb = getItemDb(tableName);
      if (!hooked.has(itemDb)) {
        hooked.add(itemDb);
        const put = itemDb.put.bind(itemDb);
        const del = itemDb.del.bind(itemDb);
        itemDb.put = (key, item, callback) =>
          this.capture(tableName, itemDb, key, item, (done) => put(key, item, done), callback);
        itemDb.del = (key, callback) =>
          this.capture(tableName, itemDb, key, undefined, (done) => del(key, done), callback);
      }
      return itemDb;
    };
  }

  async loadTables(tableDb) {
    for await (const table of tableDb.createValueStream()) this.observeTable(table);
  }

  observeTable(table) {
    if (!table || typeof table !== "object" || !table.TableName) return;
    const spec = table.StreamSpecification;
    if (!spec?.StreamEnabled) {
      delete table.StreamSpecification;
      this.byTable.set(table.TableName, null);
      return;
    }
    if (!table.LatestStreamArn) {
      table.LatestStreamLabel = new Date(table.CreationDateTime * 1000).toISOString().slice(0, -1);
      table.LatestStreamArn = `${table.TableArn}/stream/${table.LatestStreamLabel}`;
    }
    let stream = this.byArn.get(table.LatestStreamArn);
    if (!stream) {
      stream = new Stream(table, this.lastSequence);
      this.byArn.set(stream.arn, stream);
    }
    this.byTable.set(table.TableName, stream);
    if (table.TableStatus === "DELETING") stream.disable();
  }

  async streamOf(tableName) {
    if (!this.byTable.has(tableName)) {
      const table = await new Promise((resolve) => {
        this.store.tableDb.get(tableName, (error, found) => resolve(error ? undefined : found));
      });
      // A table created meanwhile was observed as it was written: keep that.
      if (!this.byTable.has(tableName)) this.observeTable(table);
    }
    const stream = this.byTable.get(tableName);
    return stream?.status === "ENABLED" ? stream : undefined;
  }

  // Runs inside dynalite's lock on the item: the image read here is the one the write replaces,
  // and the record is appended before the lock is released, so records follow commit order.
  capture(tableName, itemDb, key, newImage, write, callback) {
    this.streamOf(tableName).then(
      (stream) => {
        if (!stream) return write(callback);
        itemDb.get(key, (error, oldImage) => {
          if (error && error.name !== "NotFoundError") return callback(error);
          write((writeError) => {
            if (!writeError) this.append(stream, oldImage ?? undefined, newImage);
            callback(writeError);
          });
        });
      },
      (error) => callback(error),
    );
  }

  append(stream, oldImage, newImage) {
    // AWS writes no record for a write that changes nothing (a delete of a missing item, a put
    // or update that leaves the item as it was).
    if (!oldImage && !newImage) return;
    if (oldImage && newImage && sameItem(oldImage, newImage)) return;
    const keys = Object.fromEntries(
      stream.keySchema.map(({ AttributeName }) => [
        AttributeName,
        (newImage ?? oldImage)[AttributeName],
      ]),
    );
    const withNew = stream.viewType === "NEW_IMAGE" || stream.viewType === "NEW_AND_OLD_IMAGES";
    const withOld = stream.viewType === "OLD_IMAGE" || stream.viewType === "NEW_AND_OLD_IMAGES";
    const dynamodb = {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: keys,
      ...(withNew && newImage ? { NewImage: newImage } : {}),
      ...(withOld && oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: formatSequence(++this.lastSequence),
      SizeBytes: 0,
      StreamViewType: stream.viewType,
    };
    dynamodb.SizeBytes =
      dynaliteDb.itemSize(keys) +
      (dynamodb.NewImage ? dynaliteDb.itemSize(dynamodb.NewImage) : 0) +
      (dynamodb.OldImage ? dynaliteDb.itemSize(dynamodb.OldImage) : 0);
    stream.push(
      {
        eventID: randomUUID(),
        eventName: !oldImage ? "INSERT" : !newImage ? "REMOVE" : "MODIFY",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: this.store.tableDb.awsRegion,
        dynamodb,
      },
      this.lastSequence,
      this.limits,
    );
  }
}

/** One table's stream: a single shard of records, oldest first. */
class Stream {
  constructor(table, lastSequence) {
    this.arn = table.LatestStreamArn;
    this.label = table.LatestStreamLabel;
    this.tableName = table.TableName;
    this.keySchema = table.KeySchema;
    this.viewType = table.StreamSpecification.StreamViewType;
    this.createdAt = table.CreationDateTime;
    this.shardId = `shardId-${String(Math.floor(table.CreationDateTime * 1000)).padStart(20, "0")}-${createHash("sha256").update(this.arn).digest("hex").slice(0, 8)}`;
    this.status = "ENABLED";
    /** { sequence, size, record }, by increasing sequence. */
    this.entries = [];
    this.bytes = 0;
    /** Every record of this stream up to this sequence number is gone (trimmed, or never kept). */
    this.trimmedThrough = lastSequence;
    this.endingSequence = undefined;
  }

  push(record, sequence, limits) {
    const size = record.dynamodb.SizeBytes;
    this.entries.push({ sequence, size, record });
    this.bytes += size;
    let trim = 0;
    while (
      this.entries.length - trim > 1 &&
      (this.entries.length - trim > limits.maxRecords || this.bytes > limits.maxBytes)
    ) {
      this.bytes -= this.entries[trim].size;
      trim++;
    }
    if (trim > 0) {
      this.trimmedThrough = this.entries[trim - 1].sequence;
      this.entries.splice(0, trim);
    }
  }

  disable() {
    if (this.status === "DISABLED") return;
    this.status = "DISABLED";
    this.endingSequence = this.lastSequence();
  }

  lastSequence() {
    return this.entries.at(-1)?.sequence ?? this.trimmedThrough;
  }

  /** The index of the first entry after `sequence`. */
  indexAfter(sequence) {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle].sequence <= sequence) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  describe() {
    const range = {
      StartingSequenceNumber: formatSequence(this.entries[0]?.sequence ?? this.trimmedThrough + 1),
    };
    if (this.endingSequence !== undefined) {
      range.EndingSequenceNumber = formatSequence(this.endingSequence);
    }
    return {
      StreamArn: this.arn,
      StreamLabel: this.label,
      StreamStatus: this.status,
      StreamViewType: this.viewType,
      CreationRequestDateTime: this.createdAt,
      TableName: this.tableName,
      KeySchema: this.keySchema,
      Shards: [{ ShardId: this.shardId, SequenceNumberRange: range }],
    };
  }
}

// What AWS counts as "no change": the same attributes with the same values, sets in any order.
function sameItem(left, right) {
  const names = Object.keys(left);
  if (names.length !== Object.keys(right).length) return false;
  return names.every((name) => name in right && sameValue(left[name], right[name]));
}

function sameValue(left, right) {
  const [type] = Object.keys(left);
  if (Object.keys(right)[0] !== type) return false;
  const a = left[type];
  const b = right[type];
  switch (type) {
    case "SS":
    case "NS":
    case "BS":
      return a.length === b.length && a.every((member) => b.includes(member));
    case "L":
      return a.length === b.length && a.every((member, index) => sameValue(member, b[index]));
    case "M":
      return sameItem(a, b);
    default:
      return a === b;
  }
}

// Requests, parsed at the edge. Messages follow DynamoDB Streams' own.
const limit = (max) =>
  z
    .number()
    .int()
    .min(1, "Member must have value greater than or equal to 1")
    .max(max, `Member must have value less than or equal to ${max}`)
    .optional();
const arn = z
  .string()
  .min(37, "Member must have length greater than or equal to 37")
  .max(1024, "Member must have length less than or equal to 1024");
const shardId = z
  .string()
  .min(28, "Member must have length greater than or equal to 28")
  .max(65, "Member must have length less than or equal to 65");
const requests = {
  ListStreams: z.object({
    TableName: z.string().optional(),
    Limit: limit(100),
    ExclusiveStartStreamArn: arn.optional(),
  }),
  DescribeStream: z.object({
    StreamArn: arn,
    Limit: limit(100),
    ExclusiveStartShardId: shardId.optional(),
  }),
  GetShardIterator: z.object({
    StreamArn: arn,
    ShardId: shardId,
    ShardIteratorType: z.enum(
      ["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"],
      "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
    ),
    SequenceNumber: z
      .string()
      .min(21, "Member must have length greater than or equal to 21")
      .max(40, "Member must have length less than or equal to 40")
      .optional(),
  }),
  GetRecords: z.object({
    ShardIterator: z
      .string()
      .min(1, "Member must have length greater than or equal to 1")
      .max(2048, "Member must have length less than or equal to 2048"),
    // AWS checks the type's bound, then says 1,000 in words of its own.
    Limit: z.number().int().min(1, "Member must have value greater than or equal to 1").optional(),
  }),
};

const operations = {
  async ListStreams(streams, request) {
    await streams.loaded;
    const all = [...streams.byArn.values()].filter(
      (stream) => request.TableName === undefined || stream.tableName === request.TableName,
    );
    const start = request.ExclusiveStartStreamArn
      ? all.findIndex((stream) => stream.arn === request.ExclusiveStartStreamArn) + 1
      : 0;
    const page = all.slice(start, start + (request.Limit ?? 100));
    const more = start + page.length < all.length;
    return {
      Streams: page.map((stream) => ({
        StreamArn: stream.arn,
        TableName: stream.tableName,
        StreamLabel: stream.label,
      })),
      ...(more ? { LastEvaluatedStreamArn: page.at(-1)?.arn } : {}),
    };
  },

  async DescribeStream(streams, request) {
    const stream = await findStream(streams, request.StreamArn);
    if (!stream) {
      throw notFound(`Requested resource not found: Stream: ${request.StreamArn} not found`);
    }
    const description = stream.describe();
    // One shard: a page that starts after it is empty.
    if (request.ExclusiveStartShardId === stream.shardId) description.Shards = [];
    return { StreamDescription: description };
  },

  async GetShardIterator(streams, request) {
    const stream = await findStream(streams, request.StreamArn);
    if (!stream) throw notFound("Stream does not exist");
    if (request.ShardId !== stream.shardId) throw notFound("Shard does not exist");
    const type = request.ShardIteratorType;
    let after;
    if (type === "TRIM_HORIZON") after = stream.trimmedThrough;
    else if (type === "LATEST") after = stream.lastSequence();
    else {
      if (request.SequenceNumber === undefined || !/^\d+$/.test(request.SequenceNumber)) {
        throw invalid("One or more parameter values were invalid: Invalid SequenceNumber");
      }
      const sequence = Number(request.SequenceNumber);
      after = type === "AT_SEQUENCE_NUMBER" ? sequence - 1 : sequence;
      if (after < stream.trimmedThrough) throw trimmed(stream, sequence);
    }
    return { ShardIterator: encodeIterator(stream, after) };
  },

  async GetRecords(streams, request) {
    if ((request.Limit ?? 0) > MAX_GET_RECORDS) {
      throw invalid(
        `One or more parameter values were invalid: Limit should be less than or equal to ${MAX_GET_RECORDS}`,
      );
    }
    const position = decodeIterator(request.ShardIterator);
    if (Date.now() - position.issuedAt > ITERATOR_LIFETIME_MS) {
      throw new StreamsError(
        "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",
        `Iterator expired. The iterator was created at time ${new Date(position.issuedAt).toISOString()} while right now it is ${new Date().toISOString()} which is further in the future than the tolerated delay of ${ITERATOR_LIFETIME_MS} milliseconds.`,
      );
    }
    const stream = await findStream(streams, position.streamArn);
    if (!stream || stream.shardId !== position.shardId) {
      throw notFound(`Requested resource not found: Stream: ${position.streamArn} not found`);
    }
    if (position.after < stream.trimmedThrough) throw trimmed(stream, position.after + 1);
    const records = [];
    let bytes = 0;
    let next = position.after;
    for (
      let index = stream.indexAfter(position.after);
      index < stream.entries.length && records.length < (request.Limit ?? MAX_GET_RECORDS);
      index++
    ) {
      const entry = stream.entries[index];
      if (records.length > 0 && bytes + entry.size > MAX_RESPONSE_BYTES) break;
      records.push(entry.record);
      bytes += entry.size;
      next = entry.sequence;
    }
    // A closed shard read to its end has no next iterator: the reader is done with it.
    const exhausted = stream.endingSequence !== undefined && next >= stream.endingSequence;
    return {
      Records: records,
      ...(exhausted ? {} : { NextShardIterator: encodeIterator(stream, next) }),
    };
  },
};

async function findStream(streams, streamArn) {
  await streams.loaded;
  return streams.byArn.get(streamArn);
}

function trimmed(stream, sequence) {
  return new StreamsError(
    "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException",
    `The operation attempted to read past the oldest stream record in a shard: sequence number ${formatSequence(sequence)} is older than the trim horizon of ${stream.arn}`,
  );
}

// An iterator names a position in a shard: after which sequence number reading resumes.
function encodeIterator(stream, after) {
  const position = Buffer.from(
    [stream.shardId, formatSequence(after), String(Date.now())].join("|"),
  ).toString("base64");
  return `${stream.arn}|001|${position}`;
}

function decodeIterator(iterator) {
  const match = /^(arn:[^|]+)\|001\|([A-Za-z0-9+/=]+)$/.exec(iterator);
  const parts = match ? Buffer.from(match[2], "base64").toString().split("|") : [];
  const [shard, after, issuedAt] = parts;
  if (!match || parts.length !== 3 || !/^\d{21,}$/.test(after) || !/^\d+$/.test(issuedAt)) {
    throw invalid("Invalid ShardIterator");
  }
  return {
    streamArn: match[1],
    shardId: shard,
    after: Number(after),
    issuedAt: Number(issuedAt),
  };
}

function validationMessage(error, body) {
  const problems = error.issues.map((issue) => {
    const value = issue.path.reduce((parent, key) => parent?.[key], body);
    const at = issue.path.map((key) => `${String(key)[0].toLowerCase()}${String(key).slice(1)}`);
    if (value === undefined) {
      return `Value null at '${at.join(".")}' failed to satisfy constraint: Member must not be null`;
    }
    return `Value '${value}' at '${at.join(".")}' failed to satisfy constraint: ${issue.message}`;
  });
  const count =
    problems.length === 1 ? "1 validation error" : `${problems.length} validation errors`;
  return `${count} detected: ${problems.join("; ")}`;
}

function serveStreams(streams, operationName, req, res) {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const send = (status, payload) => {
      const body = JSON.stringify(payload);
      res.statusCode = status;
      res.setHeader("Content-Type", "application/x-amz-json-1.0");
      res.setHeader("x-amzn-RequestId", randomUUID());
      res.setHeader("x-amz-crc32", crc32(body));
      res.setHeader("Content-Length", Buffer.byteLength(body));
      res.end(body);
    };
    const operation = Object.hasOwn(operations, operationName) && operations[operationName];
    if (req.method !== "POST" || !operation) {
      return send(400, { __type: "com.amazon.coral.service#UnknownOperationException" });
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
    } catch {
      return send(400, { __type: "com.amazon.coral.service#SerializationException" });
    }
    const parsed = requests[operationName].safeParse(body);
    if (!parsed.success) {
      return send(400, {
        __type: "com.amazon.coral.validate#ValidationException",
        message: validationMessage(parsed.error, body),
      });
    }
    try {
      send(200, await operation(streams, parsed.data));
    } catch (error) {
      if (!(error instanceof StreamsError)) {
        return send(500, {
          __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
          message: String(error),
        });
      }
      send(400, { __type: error.type, message: error.message });
    }
  });
}
