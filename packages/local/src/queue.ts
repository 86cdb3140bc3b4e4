import { randomUUID } from "node:crypto";
import { type FileHandle, open, rename } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Logger } from "@firebreak/core";
import * as z from "zod";
import { matchesAnyFilter, sqsFilterView } from "./content-filter";

/** A message as the consumer sees it, shaped like an SQS record's essentials. */
export interface QueuedMessage {
  id: string;
  body: string;
  /** SQS's ApproximateReceiveCount: receives so far, this one included. */
  receiveCount: number;
  sentAt: number;
  /** SQS's ApproximateFirstReceiveTimestamp (absent before the first receive). */
  firstReceivedAt?: number;
  /** This receive's handle: each receive of a message gets a new one, as in SQS. */
  receiptHandle?: string;
}

export type MessageOutcome = "processed" | "dead-lettered" | "filtered";

/**
 * The function the queue invokes with each batch. It resolves with what the function returned,
 * read as Lambda reads a response with ReportBatchItemFailures: nothing, or
 * `{ batchItemFailures: [{ itemIdentifier: <message id> }] }`.
 */
export type QueueConsumer = (messages: QueuedMessage[]) => Promise<unknown>;

/**
 * The deployed event source mapping and queue (stacks/ingest.ts, stacks/options.ts) are the
 * defaults. Every duration is multiplied by `timeScale`, so a test keeps the deployed ratios and
 * shrinks time: `{ timeScale: 0.001 }` makes the visibility timeout 360 ms and the window 1 ms.
 */
export interface LocalQueueOptions {
  /** Journal file; undefined keeps the queue in memory only (DATA_DIR=memory). */
  journalPath?: string;
  /** Most messages in one invocation (BatchSize). Default 1000. */
  batchSize?: number;
  /**
   * How long a batch is gathered once its first message is received, unless it fills first
   * (MaximumBatchingWindowInSeconds). Default 1000; 0 invokes with whatever is visible.
   */
  batchWindowMs?: number;
  /**
   * Whether a batch waits out the window even when nothing else is in flight, as AWS does
   * (default true). `false` is a local convenience, not AWS: a batch opened while the queue was
   * idle is invoked at once, so a lone event is processed without the window's wait, and the
   * window gathers batches only under load.
   */
  lingerWhenIdle?: boolean;
  /** Most payload in one invocation: Lambda's 6 MB synchronous invoke limit. */
  maxPayloadBytes?: number;
  /** Most batches gathered or invoked at once (ScalingConfig.MaximumConcurrency). Default 10. */
  maximumConcurrency?: number;
  /** How long a received message stays invisible (VisibilityTimeout). Default 360,000. */
  visibilityTimeoutMs?: number;
  /** Multiplies `batchWindowMs` and `visibilityTimeoutMs` (tests shrink time). Default 1. */
  timeScale?: number;
  /** Receives before a message moves to the dead-letter queue (redrive maxReceiveCount). */
  maxReceiveCount?: number;
  /**
   * Filter criteria: EventBridge patterns (JSON strings) matched against the record's body;
   * messages matching none are deleted without invoking. Empty or absent: no filtering.
   */
  filters?: ReadonlyArray<string>;
  /** Dead journal bytes (deleted messages and superseded lines) that start a compaction. */
  compactAfterBytes?: number;
  logger?: Logger;
}

/** The options, checked once at open; the defaults are the deployed mapping's settings. */
const Settings = z.object({
  batchSize: z.number().int().min(1).max(10_000).default(1000),
  batchWindowMs: z.number().min(0).default(1000),
  lingerWhenIdle: z.boolean().default(true),
  maxPayloadBytes: z
    .number()
    .int()
    .min(1)
    .default(6 * 1024 * 1024),
  maximumConcurrency: z.number().int().min(1).default(10),
  visibilityTimeoutMs: z
    .number()
    .min(0)
    .default(6 * 60_000),
  timeScale: z.number().positive().default(1),
  maxReceiveCount: z.number().int().min(1).default(5),
  filters: z.array(z.string()).readonly().default([]),
  compactAfterBytes: z
    .number()
    .int()
    .min(1)
    .default(16 * 1024 * 1024),
});

/**
 * What a record costs in the invoke payload beyond its body (ids, receipt handle, attributes,
 * md5, ARN): about this much in AWS's SQS events.
 */
const RECORD_OVERHEAD_BYTES = 700;
/** A journal's receive or dead line, counted as live bytes beside the message's put line. */
const LINE_ALLOWANCE_BYTES = 128;

const JournalLine = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), id: z.string(), body: z.string(), at: z.number() }),
  z.object({
    op: z.literal("recv"),
    id: z.string(),
    count: z.number().int().min(1),
    first: z.number(),
  }),
  z.object({ op: z.literal("ack"), id: z.string() }),
  z.object({ op: z.literal("dead"), id: z.string() }),
  z.object({ op: z.literal("redrive"), id: z.string() }),
]);
type JournalLine = z.infer<typeof JournalLine>;

/** Lambda's reading of a ReportBatchItemFailures response; anything else fails the batch. */
const BatchResponse = z.union([
  z.null(),
  z.undefined(),
  z.object({
    batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })).nullish(),
  }),
]);

interface Entry {
  id: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** Its put line's size in the journal. */
  putBytes: number;
  /** Its size in an invoke payload. */
  payloadBytes: number;
  state: "visible" | "gathering" | "invisible" | "deleted" | "dead";
  /** Which receive is current: an older delivery's failure no longer governs its visibility. */
  receipt: number;
}

interface Batch {
  entries: Entry[];
  /** The receipt each entry got in this batch. */
  receipts: Map<Entry, number>;
  payloadBytes: number;
  /** Opened while the queue was idle, under `lingerWhenIdle: false`: invoked without a window. */
  eager: boolean;
  openedAt: number;
  windowTimer: NodeJS.Timeout | null;
  visibilityTimer: NodeJS.Timeout | null;
  /** When its messages become visible again unless deleted (receive + visibility timeout). */
  visibleAt: number;
  invocation: Promise<void> | null;
}

/**
 * SQS with Lambda's event source mapping, locally. Up to `maximumConcurrency` batches are in
 * flight at once, so messages are processed out of order across batches. A received message is
 * invisible for the visibility timeout; the function's success deletes it, while a failure
 * reported in `batchItemFailures` (or the whole batch when the function throws or answers
 * something Lambda cannot read) leaves it to come back when that timeout expires, with
 * ApproximateReceiveCount + 1. A message received `maxReceiveCount` times is moved to the
 * dead-letter list on its next receive, as SQS's redrive policy does. A batch that is still
 * running when the timeout expires does not hold its messages: they are delivered again
 * (at least once).
 *
 * Batches follow the mapping: a batch opens with its first message and is invoked when it holds
 * `batchSize` messages, when the next message would take it past the 6 MB payload, or when the
 * batching window has passed since it opened, whichever comes first. Only one batch gathers at a
 * time (it takes every message that arrives), so a storm fills batches one after another.
 *
 * Durability: a message is appended to a journal and the journal synced before `send` resolves,
 * so anything answered 202 survives a SIGKILL; appends that arrive together share one sync.
 * Receives are written before the function is invoked, so a message that crashes the process
 * still counts its receives and ends in the dead-letter list. On open the journal is replayed;
 * messages in flight or waiting out a visibility timeout when the process died are visible at
 * once (the queue and its only consumer died together: nothing can still hold them). Deletions
 * are written without waiting: losing one only redelivers a message, which is a no-op
 * downstream. The journal is compacted when its dead bytes pass `compactAfterBytes` and the live
 * ones, so it stays within about twice what is pending plus that threshold.
 *
 * @example
 * const queue = await LocalQueue.open({ journalPath: "data/queue.log", timeScale: 0.001 });
 * queue.start(async (messages) => ({ batchItemFailures: [] }));
 * await queue.waitFor(await queue.send(['{"hello":1}'])); // ["processed"]
 */
export class LocalQueue {
  /** Live messages of the main queue, in arrival order. */
  private readonly entries = new Map<string, Entry>();
  /** Visible messages, oldest first (a standard queue's best-effort order). */
  private readonly visible = new Map<string, Entry>();
  private readonly dead = new Map<string, Entry>();
  /** Batches gathering or being invoked: the mapping's concurrency. */
  private readonly active = new Set<Batch>();
  /** Batches whose messages may still come back when their visibility timeout expires. */
  private readonly awaitingVisibility = new Set<Batch>();
  private gathering: Batch | null = null;
  private readonly waiters = new Map<string, Array<(outcome: MessageOutcome) => void>>();
  /** Recent outcomes, so a caller that asks just after processing still gets its answer. */
  private readonly outcomes = new Map<string, MessageOutcome>();
  private readonly watchers = new Set<{ ready: () => boolean; resolve: () => void }>();
  private readonly settings: Omit<z.output<typeof Settings>, "timeScale" | "filters">;
  private readonly filters: ReadonlyArray<string>;
  private journal: FileHandle | null = null;
  /** The journal file's size. */
  private journalBytes = 0;
  /** What the live messages' put lines take in the journal. */
  private livePutBytes = 0;
  private unsynced: Array<{
    line: string;
    durable: boolean;
    done: () => void;
    failed: (error: Error) => void;
  }> = [];
  private flushing: Promise<void> | null = null;
  private consumer: QueueConsumer | null = null;
  private stopped = false;
  private readonly counts = {
    sent: 0,
    receives: 0,
    processed: 0,
    filtered: 0,
    /** Messages visible again after a failed or expired receive. */
    retried: 0,
    deadLettered: 0,
    batches: 0,
    compactions: 0,
  };

  private constructor(
    private readonly journalPath: string | undefined,
    options: LocalQueueOptions,
    private readonly logger: Logger | undefined,
  ) {
    const { timeScale, filters, ...settings } = Settings.parse(options);
    this.settings = {
      ...settings,
      batchWindowMs: settings.batchWindowMs * timeScale,
      visibilityTimeoutMs: settings.visibilityTimeoutMs * timeScale,
    };
    this.filters = filters;
    // Bad patterns fail here, at open, as CreateEventSourceMapping refuses them.
    matchesAnyFilter(this.filters, sqsFilterView({ body: "" }));
  }

  /** Opens the queue, replaying the journal: messages not deleted before are visible again. */
  static async open(options: LocalQueueOptions = {}): Promise<LocalQueue> {
    const queue = new LocalQueue(options.journalPath, options, options.logger);
    if (options.journalPath) await queue.replay(options.journalPath);
    return queue;
  }

  /** Accepts bodies durably; resolves with their message ids. */
  async send(bodies: ReadonlyArray<string>): Promise<string[]> {
    const now = Date.now();
    const ids: string[] = [];
    // One journal write for the whole send, each body escaped once (its put line also sizes it).
    let lines = "";
    for (const body of bodies) {
      const id = randomUUID();
      const line = putLineOf(id, body, now);
      const entry = this.entry(id, body, now, line);
      this.entries.set(id, entry);
      this.visible.set(id, entry);
      this.livePutBytes += entry.putBytes;
      if (this.journalPath) lines += line.text;
      ids.push(id);
    }
    // Every change of state is appended as it happens, so that a compaction's snapshot never
    // misses a line already on its way to the journal; the caller is answered once it is synced.
    const synced = this.appendText(lines, true);
    this.counts.sent += ids.length;
    this.pump();
    await synced;
    return ids;
  }

  /** Resolves when each message has been processed, filtered out or dead-lettered. */
  waitFor(ids: ReadonlyArray<string>): Promise<MessageOutcome[]> {
    return Promise.all(
      ids.map(
        (id) =>
          new Promise<MessageOutcome>((resolve) => {
            const outcome = this.outcomes.get(id);
            if (outcome) return resolve(outcome);
            const list = this.waiters.get(id) ?? [];
            list.push(resolve);
            this.waiters.set(id, list);
          }),
      ),
    );
  }

  /** Starts invoking the consumer with batches, up to `maximumConcurrency` at once. */
  start(consumer: QueueConsumer): void {
    this.consumer = consumer;
    this.pump();
  }

  /**
   * The queue's counters. `visible` and `invisible` are SQS's ApproximateNumberOfMessages and
   * ...NotVisible; `inFlight` counts messages in batches being gathered or invoked and
   * `inFlightBatches` those batches; `delayed` the invisible messages waiting out a visibility
   * timeout. `ready` is `visible` (older name). Totals: `sent`, `receives`, `processed`,
   * `filtered`, `retried`, `deadLettered`, `batches` (invocations), `compactions`.
   */
  stats() {
    const inFlight = [...this.active].reduce((sum, batch) => sum + batch.entries.length, 0);
    const invisible = this.entries.size - this.visible.size;
    return {
      visible: this.visible.size,
      invisible,
      inFlight,
      inFlightBatches: this.active.size,
      ready: this.visible.size,
      delayed: Math.max(0, invisible - inFlight),
      deadLetters: this.dead.size,
      journalBytes: this.journalBytes,
      ...this.counts,
    };
  }

  deadLetters(): QueuedMessage[] {
    return [...this.dead.values()].map(view);
  }

  /** Moves every dead letter back to the queue with a receive count of 0 (SQS's DLQ redrive). */
  async redrive(): Promise<number> {
    const entries = [...this.dead.values()];
    const synced = entries.map((entry) => {
      this.dead.delete(entry.id);
      entry.receiveCount = 0;
      entry.firstReceivedAt = undefined;
      entry.state = "visible";
      this.entries.set(entry.id, entry);
      this.visible.set(entry.id, entry);
      this.outcomes.delete(entry.id);
      return this.append({ op: "redrive", id: entry.id }, true);
    });
    this.pump();
    await Promise.all(synced);
    return entries.length;
  }

  /** True when nothing is visible, invisible or in flight (dead letters aside). */
  idle(): boolean {
    return this.entries.size === 0 && this.active.size === 0;
  }

  /** Resolves once `condition` holds over `stats()`, checked on every change of state. */
  until(condition: (stats: ReturnType<LocalQueue["stats"]>) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const watcher = { ready: () => condition(this.stats()), resolve };
      if (watcher.ready()) return resolve();
      this.watchers.add(watcher);
    });
  }

  /** Resolves once the queue is idle: everything sent was processed, filtered or dead-lettered. */
  settled(): Promise<void> {
    return this.until(() => this.idle());
  }

  /** Resolves once every journal line appended so far is written (and any compaction done). */
  async flush(): Promise<void> {
    while (this.flushing || this.unsynced.length > 0) {
      if (!this.flushing) this.scheduleFlush();
      await this.flushing;
    }
  }

  /**
   * Stops receiving and waits for the batches being invoked. Messages of the batch still
   * gathering were not handed to anyone: they are visible again, their receive uncounted.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const gathering = this.gathering;
    if (gathering) {
      this.gathering = null;
      this.active.delete(gathering);
      if (gathering.windowTimer) clearTimeout(gathering.windowTimer);
      for (const entry of gathering.entries) {
        if (entry.state !== "gathering") continue;
        entry.state = "visible";
        this.visible.set(entry.id, entry);
      }
    }
    await Promise.all([...this.active].map((batch) => batch.invocation));
    for (const batch of this.awaitingVisibility) {
      if (batch.visibilityTimer) clearTimeout(batch.visibilityTimer);
    }
    this.awaitingVisibility.clear();
    await this.flush();
    await this.journal?.close();
    this.journal = null;
  }

  private entry(
    id: string,
    body: string,
    sentAt: number,
    line: PutLine = putLineOf(id, body, sentAt),
  ): Entry {
    return {
      id,
      body,
      sentAt,
      receiveCount: 0,
      putBytes: line.bytes,
      payloadBytes: line.bodyBytes + RECORD_OVERHEAD_BYTES,
      state: "visible",
      receipt: 0,
    };
  }

  /** Receives visible messages into batches while a poller is free. */
  private pump(): void {
    while (!this.stopped && this.consumer && this.visible.size > 0) {
      let batch = this.gathering;
      if (!batch) {
        if (this.active.size >= this.settings.maximumConcurrency) break;
        batch = this.openBatch();
      }
      const full = this.fill(batch);
      if (batch.entries.length === 0) this.closeEmpty(batch);
      else if (full || this.settings.batchWindowMs === 0 || batch.eager) this.invoke(batch);
    }
    this.notify();
  }

  private openBatch(): Batch {
    const batch: Batch = {
      eager: !this.settings.lingerWhenIdle && this.active.size === 0,
      entries: [],
      receipts: new Map(),
      payloadBytes: 0,
      openedAt: Date.now(),
      windowTimer: null,
      visibilityTimer: null,
      visibleAt: Number.POSITIVE_INFINITY,
      invocation: null,
    };
    this.gathering = batch;
    this.active.add(batch);
    if (this.settings.batchWindowMs > 0) {
      batch.windowTimer = setTimeout(() => {
        batch.windowTimer = null;
        if (batch.entries.length > 0) this.invoke(batch);
        else this.closeEmpty(batch);
        this.pump();
      }, this.settings.batchWindowMs);
    }
    return batch;
  }

  /** A batch whose messages were all filtered out or dead-lettered: nothing to invoke. */
  private closeEmpty(batch: Batch): void {
    if (batch.windowTimer) clearTimeout(batch.windowTimer);
    batch.windowTimer = null;
    if (this.gathering === batch) this.gathering = null;
    this.active.delete(batch);
  }

  /** Takes visible messages into the gathering batch; true once it is full. */
  private fill(batch: Batch): boolean {
    for (const entry of this.visible.values()) {
      if (batch.entries.length >= this.settings.batchSize) return true;
      const overPayload =
        batch.payloadBytes + entry.payloadBytes > this.settings.maxPayloadBytes &&
        batch.entries.length > 0;
      if (overPayload) return true;
      this.visible.delete(entry.id);
      // SQS moves a message to the dead-letter queue on the receive that would pass the limit.
      if (entry.receiveCount >= this.settings.maxReceiveCount) {
        this.bury(entry);
        continue;
      }
      if (!this.passesFilters(entry)) {
        this.counts.filtered += 1;
        this.remove(entry, "filtered");
        continue;
      }
      entry.state = "gathering";
      batch.entries.push(entry);
      batch.payloadBytes += entry.payloadBytes;
    }
    return batch.entries.length >= this.settings.batchSize;
  }

  /** Lambda's SQS filtering: the record as the function would see it, its body parsed. */
  private passesFilters(entry: Entry): boolean {
    if (this.filters.length === 0) return true;
    const record = {
      messageId: entry.id,
      body: entry.body,
      attributes: {
        ApproximateReceiveCount: String(entry.receiveCount + 1),
        SentTimestamp: String(entry.sentAt),
      },
      messageAttributes: {},
      eventSource: "aws:sqs",
    };
    return matchesAnyFilter(this.filters, sqsFilterView(record));
  }

  /** Receives the batch's messages and hands them to the consumer. */
  private invoke(batch: Batch): void {
    // A message deleted while gathering (an earlier delivery of it succeeded) is not handed on.
    batch.entries = batch.entries.filter((entry) => entry.state === "gathering");
    if (batch.entries.length === 0) {
      this.closeEmpty(batch);
      return;
    }
    if (batch.windowTimer) clearTimeout(batch.windowTimer);
    batch.windowTimer = null;
    if (this.gathering === batch) this.gathering = null;
    const receivedAt = batch.openedAt;
    for (const entry of batch.entries) {
      entry.state = "invisible";
      entry.receiveCount += 1;
      entry.firstReceivedAt ??= receivedAt;
      entry.receipt += 1;
      batch.receipts.set(entry, entry.receipt);
    }
    this.counts.receives += batch.entries.length;
    this.counts.batches += 1;
    batch.visibleAt = receivedAt + this.settings.visibilityTimeoutMs;
    batch.visibilityTimer = setTimeout(
      () => this.expire(batch),
      Math.max(0, batch.visibleAt - Date.now()),
    );
    this.awaitingVisibility.add(batch);
    batch.invocation = this.run(batch);
  }

  private async run(batch: Batch): Promise<void> {
    const messages = batch.entries.map((entry) => ({
      ...view(entry),
      receiptHandle: `${entry.id}:${entry.receipt}`,
    }));
    let failed: ReadonlySet<string>;
    try {
      // Written before the function runs: a message that kills the process still counts.
      await Promise.all(
        batch.entries.map((entry) =>
          this.append(
            {
              op: "recv",
              id: entry.id,
              count: entry.receiveCount,
              first: entry.firstReceivedAt ?? batch.openedAt,
            },
            false,
          ),
        ),
      );
      failed = this.failuresIn(await (this.consumer as QueueConsumer)(messages), messages);
    } catch (error) {
      // A function error leaves the whole batch to come back, as Lambda does with SQS.
      this.logger?.error("queue consumer failed", { error: String(error) });
      failed = new Set(messages.map((message) => message.id));
    }
    this.active.delete(batch);
    for (const entry of batch.entries) {
      if (failed.has(entry.id)) continue;
      // A delete with an older receipt still deletes in a standard queue; a message already in
      // the dead-letter queue is no longer in this one to delete.
      if (entry.state === "invisible" || entry.state === "visible" || entry.state === "gathering") {
        this.counts.processed += 1;
        this.remove(entry, "processed");
      }
    }
    if (!batch.entries.some((entry) => this.heldBy(batch, entry))) this.forget(batch);
    this.pump();
  }

  /**
   * The ids Lambda leaves in the queue: those reported in `batchItemFailures`, or every message
   * when the response is one Lambda treats as a complete failure (not an object, an empty or
   * missing `itemIdentifier`, an id not in the batch).
   */
  private failuresIn(response: unknown, messages: QueuedMessage[]): ReadonlySet<string> {
    const all = new Set(messages.map((message) => message.id));
    const parsed = BatchResponse.safeParse(response);
    if (!parsed.success) {
      this.logger?.error("queue consumer returned an invalid batch response: whole batch failed");
      return all;
    }
    const failures = parsed.data?.batchItemFailures ?? [];
    const ids = new Set(failures.map((failure) => failure.itemIdentifier));
    if ([...ids].some((id) => !all.has(id))) {
      this.logger?.error("queue consumer reported an unknown itemIdentifier: whole batch failed");
      return all;
    }
    return ids;
  }

  /** Whether the entry is still invisible under this batch's receive. */
  private heldBy(batch: Batch, entry: Entry): boolean {
    return entry.state === "invisible" && entry.receipt === batch.receipts.get(entry);
  }

  private forget(batch: Batch): void {
    if (batch.visibilityTimer) clearTimeout(batch.visibilityTimer);
    batch.visibilityTimer = null;
    this.awaitingVisibility.delete(batch);
  }

  /** The visibility timeout of a batch's receive expired: what it still holds is visible again. */
  private expire(batch: Batch): void {
    // Node's timers keep a monotonic clock, rounded to the millisecond: one may fire a moment
    // before the wall clock reaches its time. A message is never visible before its timeout.
    const early = batch.visibleAt - Date.now();
    if (early > 0) {
      batch.visibilityTimer = setTimeout(() => this.expire(batch), early);
      return;
    }
    batch.visibilityTimer = null;
    this.awaitingVisibility.delete(batch);
    for (const entry of batch.entries) {
      if (!this.heldBy(batch, entry)) continue;
      entry.state = "visible";
      this.visible.set(entry.id, entry);
      this.counts.retried += 1;
    }
    this.pump();
  }

  private remove(entry: Entry, outcome: "processed" | "filtered"): void {
    entry.state = "deleted";
    this.entries.delete(entry.id);
    this.visible.delete(entry.id);
    this.livePutBytes -= entry.putBytes;
    this.record({ op: "ack", id: entry.id });
    this.settle(entry.id, outcome);
  }

  private bury(entry: Entry): void {
    entry.state = "dead";
    this.entries.delete(entry.id);
    this.visible.delete(entry.id);
    this.dead.set(entry.id, entry);
    this.counts.deadLettered += 1;
    this.record({ op: "dead", id: entry.id });
    this.logger?.warn("message dead-lettered", {
      messageId: entry.id,
      receiveCount: entry.receiveCount,
    });
    this.settle(entry.id, "dead-lettered");
  }

  private settle(id: string, outcome: MessageOutcome): void {
    this.outcomes.set(id, outcome);
    if (this.outcomes.size > 100_000) {
      this.outcomes.delete(this.outcomes.keys().next().value as string);
    }
    const waiting = this.waiters.get(id);
    this.waiters.delete(id);
    for (const resolve of waiting ?? []) resolve(outcome);
  }

  private notify(): void {
    for (const watcher of this.watchers) {
      if (!watcher.ready()) continue;
      this.watchers.delete(watcher);
      watcher.resolve();
    }
  }

  /** Appends a line nobody waits for: a failed write is logged where it happens. */
  private record(entry: JournalLine): void {
    this.append(entry, false).catch(() => undefined);
  }

  private append(entry: JournalLine, durable: boolean): Promise<void> {
    return this.appendText(this.journalPath ? lineOf(entry) : "", durable);
  }

  /** Appends whole lines; resolves once they are written (and synced, when `durable`). */
  private appendText(text: string, durable: boolean): Promise<void> {
    if (!this.journalPath || !text) return Promise.resolve();
    return new Promise((done, failed) => {
      this.unsynced.push({ line: text, durable, done, failed });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let the rest of this tick's appends join the same write and sync.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.write();
      } finally {
        this.flushing = null;
        if (this.unsynced.length > 0) this.scheduleFlush();
      }
    })();
  }

  private async write(): Promise<void> {
    const pending = this.unsynced;
    if (pending.length === 0 || !this.journalPath) return;
    this.unsynced = [];
    try {
      this.journal ??= await open(this.journalPath, "a");
      const text = pending.map((entry) => entry.line).join("");
      await this.journal.write(text);
      this.journalBytes += Buffer.byteLength(text);
      if (pending.some((entry) => entry.durable)) await this.journal.datasync();
      for (const entry of pending) entry.done();
    } catch (error) {
      for (const entry of pending) entry.failed(error as Error);
      this.logger?.error("queue journal write failed", { error: String(error) });
    }
    if (this.unsynced.length === 0 && this.deadBytes() >= this.compactionThreshold()) {
      await this.compact();
    }
    this.notify();
  }

  /** Bytes in the journal that a compaction would drop. */
  private deadBytes(): number {
    const liveLines = (this.entries.size + this.dead.size) * LINE_ALLOWANCE_BYTES;
    return this.journalBytes - this.livePutBytes - liveLines;
  }

  /** Compacting when the dead bytes pass the live ones too keeps the rewrites linear. */
  private compactionThreshold(): number {
    return Math.max(this.settings.compactAfterBytes, this.livePutBytes);
  }

  private async replay(path: string): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    // Line by line: the journal is never held in memory whole.
    const lines = createInterface({
      input: handle.createReadStream({ encoding: "utf8" }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const text of lines) this.replayLine(text);
    for (const entry of this.entries.values()) this.visible.set(entry.id, entry);
    await this.compact();
    if (this.entries.size > 0) {
      this.logger?.info("queue recovered messages from the journal", {
        visible: this.entries.size,
      });
    }
  }

  private replayLine(text: string): void {
    if (!text) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // A line torn by a crash mid-write was never acknowledged to anyone: skip it.
      return;
    }
    const parsed = JournalLine.safeParse(json);
    if (!parsed.success) return;
    const line = parsed.data;
    if (line.op === "put") {
      const entry = this.entry(line.id, line.body, line.at);
      this.entries.set(entry.id, entry);
      this.livePutBytes += entry.putBytes;
      return;
    }
    const entry = this.entries.get(line.id) ?? this.dead.get(line.id);
    if (!entry) return;
    if (line.op === "recv") {
      entry.receiveCount = line.count;
      entry.firstReceivedAt = line.first;
    } else if (line.op === "ack") {
      this.entries.delete(entry.id);
      this.dead.delete(entry.id);
      this.livePutBytes -= entry.putBytes;
    } else if (line.op === "dead") {
      this.entries.delete(entry.id);
      entry.state = "dead";
      this.dead.set(entry.id, entry);
    } else {
      this.dead.delete(entry.id);
      entry.state = "visible";
      entry.receiveCount = 0;
      entry.firstReceivedAt = undefined;
      this.entries.set(entry.id, entry);
    }
  }

  /**
   * Rewrites the journal with only the live messages, atomically. The snapshot is taken at once
   * (lines appended meanwhile wait for the new file); it is written a chunk at a time, so a big
   * backlog is never held twice in memory.
   */
  private async compact(): Promise<void> {
    if (!this.journalPath) return;
    const live = [...this.entries.values(), ...this.dead.values()].map((entry) => ({
      id: entry.id,
      body: entry.body,
      sentAt: entry.sentAt,
      receiveCount: entry.receiveCount,
      firstReceivedAt: entry.firstReceivedAt,
      dead: entry.state === "dead",
    }));
    const temporary = `${this.journalPath}.tmp`;
    const handle = await open(temporary, "w");
    let written = 0;
    try {
      let chunk = "";
      for (const message of live) {
        chunk += lineOf({ op: "put", id: message.id, body: message.body, at: message.sentAt });
        if (message.receiveCount > 0) {
          chunk += lineOf({
            op: "recv",
            id: message.id,
            count: message.receiveCount,
            first: message.firstReceivedAt ?? message.sentAt,
          });
        }
        if (message.dead) chunk += lineOf({ op: "dead", id: message.id });
        if (chunk.length >= 1 << 20) {
          written += await writeAll(handle, chunk);
          chunk = "";
        }
      }
      written += await writeAll(handle, chunk);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.journal?.close();
    this.journal = null;
    await rename(temporary, this.journalPath);
    this.journalBytes = written;
    this.counts.compactions += 1;
  }
}

function lineOf(entry: JournalLine): string {
  return `${JSON.stringify(entry)}\n`;
}

/** A put line, with its size and its body's size as JSON (what the invoke payload carries). */
interface PutLine {
  text: string;
  bytes: number;
  bodyBytes: number;
}

/**
 * `lineOf({ op: "put", id, body, at })`, byte for byte, with the body escaped and measured once:
 * the line's frame and `at` are ASCII, so their bytes are their characters.
 */
function putLineOf(id: string, body: string, at: number): PutLine {
  const escaped = JSON.stringify(body);
  const idJson = JSON.stringify(id);
  const text = `{"op":"put","id":${idJson},"body":${escaped},"at":${at}}\n`;
  const bodyBytes = Buffer.byteLength(escaped);
  const frame = text.length - escaped.length - idJson.length;
  return { text, bytes: bodyBytes + Buffer.byteLength(idJson) + frame, bodyBytes };
}

async function writeAll(handle: FileHandle, text: string): Promise<number> {
  if (!text) return 0;
  const bytes = Buffer.from(text);
  await handle.write(bytes);
  return bytes.length;
}

function view(entry: Entry): QueuedMessage {
  return {
    id: entry.id,
    body: entry.body,
    receiveCount: entry.receiveCount,
    sentAt: entry.sentAt,
    ...(entry.firstReceivedAt === undefined ? {} : { firstReceivedAt: entry.firstReceivedAt }),
  };
}
