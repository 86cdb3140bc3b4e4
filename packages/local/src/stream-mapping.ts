import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type _Record,
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import type { Logger } from "@firebreak/core";
import type { StreamEventSource } from "@firebreak/stacks/topology";
import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
} from "aws-lambda";
import * as z from "zod";
import { matchesAnyFilter } from "./content-filter";

/**
 * What Lambda sends an on-failure destination when it gives up on a stream batch: where the
 * batch sits in the stream, never its records (read them from the stream while it keeps them).
 */
export interface StreamInvocationRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: "RetryAttemptsExhausted" | "RecordAgeExceeded";
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: "Unhandled" };
  version: "1.0";
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** The mapping's settings, named and bounded as Lambda's CreateEventSourceMapping has them. */
const settingsSchema = z.object({
  FunctionName: z.string().min(1),
  StartingPosition: z.enum(["TRIM_HORIZON", "LATEST"]),
  BatchSize: z.number().int().min(1).max(10_000).default(100),
  MaximumBatchingWindowInSeconds: z.number().int().min(0).max(300).default(0),
  FilterCriteria: z.object({ Filters: z.array(z.object({ Pattern: z.string() })) }).optional(),
  FunctionResponseTypes: z.array(z.literal("ReportBatchItemFailures")).default([]),
  BisectBatchOnFunctionError: z.boolean().default(false),
  /** -1: retry until the record leaves the stream. */
  MaximumRetryAttempts: z.number().int().min(-1).max(10_000).default(-1),
  MaximumRecordAgeInSeconds: z
    .number()
    .int()
    .refine((age) => age === -1 || (age >= 60 && age <= 604_800), "-1, or 60 to 604800")
    .default(-1),
});

export type StreamMappingSettings = z.input<typeof settingsSchema>;

export interface StreamEventSourceMappingOptions extends StreamMappingSettings {
  /** The function: its resolved value is its response, a rejection is a function error. */
  invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  DestinationConfig?: { OnFailure: (record: StreamInvocationRecord) => Promise<void> | void };
  /** Pause between reads of a shard that had nothing new (Lambda: about 4 reads a second). */
  pollIntervalMs?: number;
  logger?: Logger;
  /** Milliseconds since the epoch: the clock that ages records. */
  now?: () => number;
}

/**
 * A topology stream source in CreateEventSourceMapping's names: the settings the stacks deploy,
 * so the local mapping runs with exactly those (filters as the JSON strings Lambda stores).
 */
export function mappingSettings(source: StreamEventSource): StreamMappingSettings {
  return {
    FunctionName: source.function,
    StartingPosition: source.startingPosition,
    BatchSize: source.batchSize,
    MaximumBatchingWindowInSeconds: source.batchingWindowSeconds,
    FilterCriteria: {
      Filters: source.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
    },
    FunctionResponseTypes: source.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
    BisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
    MaximumRetryAttempts: source.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: source.maximumRecordAgeSeconds,
  };
}

/** Lambda's synchronous invocation payload limit, which also closes a batch. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The most records one GetRecords call returns. */
const GET_RECORDS_LIMIT = 1000;
/** Bytes of `{"Records":[]}` around the records. */
const EVENT_ENVELOPE_BYTES = 14;

interface BufferedRecord {
  record: DynamoDBRecord;
  bytes: number;
  readAt: number;
}

interface ShardState {
  shardId: string;
  parentShardId: string | undefined;
  /** Where a fresh iterator starts when there is no record read yet to continue after. */
  startType: "TRIM_HORIZON" | "LATEST";
  iterator: string | undefined;
  lastReadSequenceNumber: string | undefined;
  /** GetRecords answered without a next iterator: the shard is closed and read to its end. */
  closed: boolean;
  /** Closed and every record handled: the child shards may start. */
  finished: boolean;
  running: boolean;
  buffer: BufferedRecord[];
  /** The tick at which the last read found nothing new with nothing left to hand over. */
  caughtUpAt: number;
}

/** A run of consecutive records on its way through invocations, retries and halvings. */
interface Attempt {
  records: DynamoDBRecord[];
  retries: number;
  invokes: number;
  functionError: boolean;
}

type Outcome =
  | { kind: "success" }
  | { kind: "partial"; from: number }
  | { kind: "failure"; functionError: boolean };

const batchResponseSchema = z
  .object({
    batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })).nullish(),
  })
  .nullish();

/**
 * Lambda's event source mapping for a DynamoDB stream, run locally against any endpoint with the
 * Streams API (DynamoDB Local, the embedded dynalite). It reads every shard in order, parents
 * before children, with one batch in flight per shard; skips records no filter matches; gathers
 * batches up to `BatchSize`, the batching window or 6 MB; and handles failures as Lambda does:
 * a function error retries the whole batch (halved first with `BisectBatchOnFunctionError`, which
 * costs no retry), `ReportBatchItemFailures` retries from the lowest reported sequence number,
 * and a batch out of retries or too old goes to the on-failure destination as batch info.
 *
 * @example
 * const mapping = new StreamEventSourceMapping(streams, streamArn, {
 *   FunctionName: "dispatch", StartingPosition: "LATEST", BatchSize: 10,
 *   FunctionResponseTypes: ["ReportBatchItemFailures"], invoke: (event) => handler(event),
 * });
 * await mapping.start();
 * await table.put(item);
 * await mapping.settled(); // the handler has seen the item's record (or it did not match)
 */
export class StreamEventSourceMapping {
  readonly counts = {
    recordsRead: 0,
    filteredOut: 0,
    batchesInvoked: 0,
    retries: 0,
    bisects: 0,
    sentToDestination: 0,
    /** Records given up on (out of retries or too old), with or without a destination. */
    recordsDiscarded: 0,
    readErrors: 0,
  };
  private readonly settings: z.output<typeof settingsSchema>;
  private readonly filters: string[];
  private readonly reportItemFailures: boolean;
  private readonly functionArn: string;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly shards = new Map<string, ShardState>();
  private readonly loops = new Set<Promise<void>>();
  private readonly waiters: Array<{
    since: number;
    resolve: () => void;
    reject: (error: Error) => void;
  }> = [];
  private readonly stopping = new AbortController();
  /** Orders reads and settled() calls: a read with a higher tick started after the call. */
  private tick = 0;
  /** The tick at which the last complete listing of the stream's shards began. */
  private listedAt = -1;
  private started = false;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
    private readonly options: StreamEventSourceMappingOptions,
  ) {
    this.settings = settingsSchema.parse(options);
    this.filters = (this.settings.FilterCriteria?.Filters ?? []).map((filter) => filter.Pattern);
    // Refuses too many filters or a pattern AWS would refuse, as CreateEventSourceMapping does.
    matchesAnyFilter(this.filters, {});
    this.reportItemFailures =
      this.settings.FunctionResponseTypes.includes("ReportBatchItemFailures");
    this.functionArn = functionArn(this.settings.FunctionName, streamArn);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /**
   * Finds the stream's shards and starts reading them. With LATEST the position is fixed before
   * this resolves: everything written afterwards is delivered, nothing written before.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error("the mapping is already started");
    this.started = true;
    await this.listShards(this.settings.StartingPosition);
    if (this.settings.StartingPosition === "LATEST") {
      await Promise.all([...this.shards.values()].map((shard) => this.openIterator(shard)));
    }
    this.launchReadyShards();
    this.track(this.discoverLoop());
  }

  /** Stops reading; resolves once the batches in flight have been handled. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.loops.size > 0) await Promise.all([...this.loops]);
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new Error("the mapping stopped before it settled"));
    }
  }

  /**
   * Resolves once every record written before the call has been read and either skipped by the
   * filters, delivered, or given up on: a condition to wait on instead of a sleep.
   */
  settled(): Promise<void> {
    if (!this.started || this.stopping.signal.aborted) {
      return Promise.reject(new Error("the mapping is not running"));
    }
    const since = ++this.tick;
    return new Promise((resolve, reject) => {
      this.waiters.push({ since, resolve, reject });
    });
  }

  private track(loop: Promise<void>): void {
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** New shards appear as DynamoDB splits them (every few hours on AWS): look now and then. */
  private async discoverLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await this.pause(this.pollIntervalMs);
      if (this.stopping.signal.aborted) return;
      try {
        await this.listShards("TRIM_HORIZON");
        this.launchReadyShards();
        this.checkSettled();
      } catch (error) {
        this.counts.readErrors += 1;
        this.options.logger?.warn("stream shards could not be listed", { error: String(error) });
      }
    }
  }

  /** Records shards not seen before; `startType` is where a new shard's reading starts. */
  private async listShards(startType: ShardState["startType"]): Promise<void> {
    const listingStartedAt = ++this.tick;
    const found: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.client.send(
        new DescribeStreamCommand({
          StreamArn: this.streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      found.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    for (const shard of found) {
      if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
      this.shards.set(shard.ShardId, {
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        startType,
        iterator: undefined,
        lastReadSequenceNumber: undefined,
        closed: false,
        finished: false,
        running: false,
        buffer: [],
        caughtUpAt: -1,
      });
    }
    this.listedAt = listingStartedAt;
  }

  /** A shard is read once its parent is finished (or gone from the stream): order per item. */
  private launchReadyShards(): void {
    for (const shard of this.shards.values()) {
      if (shard.running || shard.finished) continue;
      const parent = shard.parentShardId ? this.shards.get(shard.parentShardId) : undefined;
      // Under LATEST the shards open at start hold nothing older to order against.
      const parentPending =
        parent !== undefined && !parent.finished && shard.iterator === undefined;
      if (parentPending) continue;
      shard.running = true;
      this.track(this.readShard(shard));
    }
  }

  private async readShard(shard: ShardState): Promise<void> {
    while (!this.stopping.signal.aborted && !shard.finished) {
      let readSome = false;
      try {
        readSome = await this.step(shard);
      } catch (error) {
        this.counts.readErrors += 1;
        this.options.logger?.warn("stream shard read failed", {
          shardId: shard.shardId,
          error: String(error),
        });
      }
      this.checkSettled();
      if (shard.finished) {
        this.launchReadyShards();
        this.checkSettled();
        return;
      }
      if (!readSome) await this.pause(this.pollIntervalMs);
    }
  }

  /** One read of the shard and the batches it completes; true when the read found records. */
  private async step(shard: ShardState): Promise<boolean> {
    const readStartedAt = ++this.tick;
    const reads = !shard.closed && shard.buffer.length < this.settings.BatchSize;
    const readCount = reads ? await this.read(shard) : 0;
    while (!this.stopping.signal.aborted && this.batchIsDue(shard)) {
      await this.handle(shard, this.takeBatch(shard));
    }
    if (shard.closed && shard.buffer.length === 0) shard.finished = true;
    if (reads && readCount === 0 && shard.buffer.length === 0) shard.caughtUpAt = readStartedAt;
    return readCount > 0;
  }

  private async read(shard: ShardState): Promise<number> {
    if (shard.iterator === undefined) await this.openIterator(shard);
    let page: Awaited<ReturnType<typeof this.getRecords>>;
    try {
      page = await this.getRecords(shard.iterator);
    } catch (error) {
      // An iterator lasts 15 minutes (a long run of retries outlives it): read on after the last
      // record read. Trimmed records are past the stream's 24 hours: go on from the oldest kept.
      if (error instanceof ExpiredIteratorException) shard.iterator = undefined;
      if (error instanceof TrimmedDataAccessException) {
        shard.iterator = undefined;
        shard.lastReadSequenceNumber = undefined;
        shard.startType = "TRIM_HORIZON";
      }
      throw error;
    }
    shard.iterator = page.NextShardIterator;
    if (!page.NextShardIterator) shard.closed = true;
    const readAt = this.now();
    for (const streamRecord of page.Records ?? []) {
      this.counts.recordsRead += 1;
      shard.lastReadSequenceNumber = streamRecord.dynamodb?.SequenceNumber;
      // Through JSON, as on the wire: a field the stream did not send is absent, not undefined.
      const record: DynamoDBRecord = JSON.parse(JSON.stringify(toLambdaRecord(streamRecord)));
      // Lambda matches the record as the stream holds it: the event source ARN is added after.
      if (!matchesAnyFilter(this.filters, record)) {
        this.counts.filteredOut += 1;
        continue;
      }
      record.eventSourceARN = this.streamArn;
      const bytes = Buffer.byteLength(JSON.stringify(record));
      shard.buffer.push({ record, bytes, readAt });
    }
    return page.Records?.length ?? 0;
  }

  private getRecords(iterator: string | undefined) {
    return this.client.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }),
    );
  }

  private async openIterator(shard: ShardState): Promise<void> {
    const after = shard.lastReadSequenceNumber;
    const { ShardIterator } = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shard.shardId,
        ShardIteratorType: after ? "AFTER_SEQUENCE_NUMBER" : shard.startType,
        SequenceNumber: after,
      }),
    );
    shard.iterator = ShardIterator;
    if (!ShardIterator) shard.closed = true;
  }

  /** Lambda invokes when the batch is full, 6 MB, the window has passed, or the shard ended. */
  private batchIsDue(shard: ShardState): boolean {
    const oldest = shard.buffer[0];
    if (!oldest) return false;
    if (shard.closed || shard.buffer.length >= this.settings.BatchSize) return true;
    const bytes = shard.buffer.reduce((sum, entry) => sum + entry.bytes + 1, EVENT_ENVELOPE_BYTES);
    if (bytes >= MAX_PAYLOAD_BYTES) return true;
    return this.now() - oldest.readAt >= this.settings.MaximumBatchingWindowInSeconds * 1000;
  }

  private takeBatch(shard: ShardState): DynamoDBRecord[] {
    let bytes = EVENT_ENVELOPE_BYTES;
    let count = 0;
    for (const entry of shard.buffer) {
      if (count === this.settings.BatchSize) break;
      if (count > 0 && bytes + entry.bytes + 1 > MAX_PAYLOAD_BYTES) break;
      bytes += entry.bytes + 1;
      count += 1;
    }
    return shard.buffer.splice(0, count).map((entry) => entry.record);
  }

  /**
   * Invokes the function with a batch until it succeeds or is given up on. The runs waiting are
   * kept in stream order and handled one at a time, so records of the shard stay in order.
   */
  private async handle(shard: ShardState, records: DynamoDBRecord[]): Promise<void> {
    const attempts: Attempt[] = [{ records, retries: 0, invokes: 0, functionError: false }];
    while (attempts.length > 0) {
      const attempt = attempts[0] as Attempt;
      const expired = this.expiredPrefix(attempt.records);
      if (expired > 0) {
        await this.giveUp(
          shard,
          { ...attempt, records: attempt.records.slice(0, expired) },
          "RecordAgeExceeded",
        );
        attempt.records = attempt.records.slice(expired);
        if (attempt.records.length === 0) attempts.shift();
        continue;
      }
      // Stopping lets the invocation in flight finish but starts no new one.
      if (this.stopping.signal.aborted) return;
      const outcome = await this.invoke(attempt.records);
      attempt.invokes += 1;
      if (outcome.kind === "success") {
        attempts.shift();
        continue;
      }
      if (outcome.kind === "partial") {
        // Records before the lowest failure are checkpointed; the rest is retried.
        attempt.records = attempt.records.slice(outcome.from);
        attempt.functionError = false;
      } else {
        attempt.functionError = outcome.functionError;
        if (this.settings.BisectBatchOnFunctionError && attempt.records.length > 1) {
          // Halving costs no retry: each half goes on with the retries the batch had used.
          const middle = Math.ceil(attempt.records.length / 2);
          attempts.splice(
            0,
            1,
            { ...attempt, records: attempt.records.slice(0, middle) },
            { ...attempt, records: attempt.records.slice(middle) },
          );
          this.counts.bisects += 1;
          continue;
        }
      }
      const limit = this.settings.MaximumRetryAttempts;
      if (limit !== -1 && attempt.retries >= limit) {
        await this.giveUp(shard, attempt, "RetryAttemptsExhausted");
        attempts.shift();
        continue;
      }
      attempt.retries += 1;
      this.counts.retries += 1;
      await this.pause(this.pollIntervalMs);
    }
  }

  /** How many records at the head of the batch are older than MaximumRecordAgeInSeconds. */
  private expiredPrefix(records: DynamoDBRecord[]): number {
    const maximumAge = this.settings.MaximumRecordAgeInSeconds;
    if (maximumAge === -1) return 0;
    const oldestAllowed = this.now() / 1000 - maximumAge;
    const firstLive = records.findIndex(
      (record) => (record.dynamodb?.ApproximateCreationDateTime ?? Infinity) >= oldestAllowed,
    );
    return firstLive === -1 ? records.length : firstLive;
  }

  private async invoke(records: DynamoDBRecord[]): Promise<Outcome> {
    this.counts.batchesInvoked += 1;
    let response: unknown;
    try {
      // The function gets its own copy, as it would over the wire: a retry resends the original.
      response = await this.options.invoke(structuredClone({ Records: records }));
    } catch (error) {
      this.options.logger?.debug("stream batch failed", { error: String(error) });
      return { kind: "failure", functionError: true };
    }
    if (!this.reportItemFailures) return { kind: "success" };
    return this.readBatchResponse(response, records);
  }

  /**
   * Lambda's rules for a partial batch response: nothing, an empty object or an empty list is a
   * success; an identifier that is empty, missing or not in the batch, or a response of another
   * shape, fails the whole batch; otherwise it retries from the lowest sequence number reported.
   */
  private readBatchResponse(response: unknown, records: DynamoDBRecord[]): Outcome {
    let parsed: z.infer<typeof batchResponseSchema>;
    try {
      // What the runtime sends back is the response's JSON: undefined fields vanish, dates are strings.
      parsed = batchResponseSchema.parse(
        response === undefined ? null : JSON.parse(JSON.stringify(response)),
      );
    } catch {
      return { kind: "failure", functionError: false };
    }
    const failures = parsed?.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: "success" };
    const positions = failures.map((failure) =>
      records.findIndex((record) => record.dynamodb?.SequenceNumber === failure.itemIdentifier),
    );
    if (positions.some((position) => position === -1)) {
      return { kind: "failure", functionError: false };
    }
    // Records are in sequence order, so the lowest sequence number is the earliest position.
    return { kind: "partial", from: Math.min(...positions) };
  }

  private async giveUp(
    shard: ShardState,
    attempt: Attempt,
    condition: StreamInvocationRecord["requestContext"]["condition"],
  ): Promise<void> {
    this.counts.recordsDiscarded += attempt.records.length;
    const onFailure = this.options.DestinationConfig?.OnFailure;
    if (!onFailure) return;
    const invocationRecord = this.invocationRecord(shard, attempt, condition);
    // The batch info is all that is left of these records: keep trying to hand it over.
    while (!this.stopping.signal.aborted) {
      try {
        await onFailure(invocationRecord);
        this.counts.sentToDestination += 1;
        return;
      } catch (error) {
        this.options.logger?.warn("on-failure destination refused a stream batch", {
          error: String(error),
        });
        await this.pause(this.pollIntervalMs);
      }
    }
  }

  private invocationRecord(
    shard: ShardState,
    attempt: Attempt,
    condition: StreamInvocationRecord["requestContext"]["condition"],
  ): StreamInvocationRecord {
    const first = attempt.records[0]?.dynamodb;
    const last = attempt.records.at(-1)?.dynamodb;
    return {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.functionArn,
        condition,
        approximateInvokeCount: attempt.invokes,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: "$LATEST",
        ...(attempt.functionError ? { functionError: "Unhandled" as const } : {}),
      },
      version: "1.0",
      timestamp: new Date(this.now()).toISOString(),
      DDBStreamBatchInfo: {
        shardId: shard.shardId,
        startSequenceNumber: first?.SequenceNumber ?? "",
        endSequenceNumber: last?.SequenceNumber ?? "",
        approximateArrivalOfFirstRecord: arrival(first?.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: arrival(last?.ApproximateCreationDateTime),
        batchSize: attempt.records.length,
        streamArn: this.streamArn,
      },
    };
  }

  private checkSettled(): void {
    for (let index = this.waiters.length - 1; index >= 0; index -= 1) {
      const waiter = this.waiters[index];
      if (waiter && this.settledSince(waiter.since)) {
        this.waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Settled since a tick: the shards were listed after it, and every unfinished shard has since
   * had a read that found nothing new, with no batch waiting or in flight.
   */
  private settledSince(since: number): boolean {
    if (this.listedAt < since) return false;
    for (const shard of this.shards.values()) {
      if (!shard.finished && shard.caughtUpAt < since) return false;
    }
    return true;
  }
}

/** `dispatch` on `arn:aws:dynamodb:us-east-1:123456789012:table/...` in that region and account. */
function functionArn(name: string, streamArn: string): string {
  if (name.startsWith("arn:")) return name;
  const [, partition = "aws", , region = "", account = ""] = streamArn.split(":");
  return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
}

/** Seconds since the epoch as the batch info writes them, to the second. */
function arrival(seconds: number | undefined): string {
  if (seconds === undefined) return "";
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * A stream record as Lambda's event carries it: the wire JSON the SDK parsed, put back
 * (`ApproximateCreationDateTime` in epoch seconds, binary attributes in base64, a lower-case
 * `userIdentity`).
 */
function toLambdaRecord(record: _Record): DynamoDBRecord {
  const change = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    dynamodb: change && {
      ApproximateCreationDateTime: change.ApproximateCreationDateTime
        ? change.ApproximateCreationDateTime.getTime() / 1000
        : undefined,
      Keys: change.Keys && toWireImage(change.Keys),
      NewImage: change.NewImage && toWireImage(change.NewImage),
      OldImage: change.OldImage && toWireImage(change.OldImage),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
    ...(record.userIdentity
      ? {
          userIdentity: {
            type: record.userIdentity.Type,
            principalId: record.userIdentity.PrincipalId,
          },
        }
      : {}),
  };
}

function toWireImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toWire(value)]));
}

function toWire(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
  if (value.BS !== undefined) {
    return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString("base64")) };
  }
  if (value.M !== undefined) return { M: toWireImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toWire) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  return { NULL: true };
}
