import { randomUUID } from "node:crypto";
import { type FileHandle, open, readFile, rename } from "node:fs/promises";
import type { Logger } from "@firebreak/core";

/** A message as the consumer sees it, shaped like an SQS record's essentials. */
export interface QueuedMessage {
  id: string;
  body: string;
  /** How many times it has been handed to the consumer, this time included. */
  receiveCount: number;
  sentAt: number;
}

export type MessageOutcome = "processed" | "dead-lettered";

/** What the consumer reports: the ids of the messages to retry. */
export type QueueConsumer = (messages: QueuedMessage[]) => Promise<{ failedIds: string[] }>;

export interface LocalQueueOptions {
  /** Journal file; undefined keeps the queue in memory only (DATA_DIR=memory). */
  journalPath?: string;
  /** Largest batch handed to the consumer (SQS: BatchSize). */
  batchSize?: number;
  /**
   * How long to gather a batch under load (SQS: MaximumBatchingWindowInSeconds). A longer wait
   * makes bigger batches, and a storm of repeats costs one write per fingerprint per batch.
   */
  batchWindowMs?: number;
  /** The wait when the queue was idle: a lone event is processed at once. */
  idleWindowMs?: number;
  /** Receives before a message goes to the dead-letter list (SQS redrive maxReceiveCount). */
  maxReceiveCount?: number;
  /** Delay before a failed message is visible again, by receive count (visibility timeout). */
  retryDelayMs?: (receiveCount: number) => number;
  logger?: Logger;
}

type JournalLine =
  | { op: "put"; id: string; body: string; at: number }
  | { op: "ack"; id: string }
  | { op: "retry"; id: string; receiveCount: number }
  | { op: "dead"; id: string }
  | { op: "redrive"; id: string };

/**
 * SQS, locally: batches, retries with a growing delay, a dead-letter list after
 * `maxReceiveCount` receives, and durability. A message is appended to a journal and the
 * journal synced to disk before `send` resolves, so anything answered 202 survives a SIGKILL;
 * appends that arrive together share one sync (group commit). Acks are written without waiting:
 * losing one only redelivers a message, and redeliveries are no-ops downstream.
 */
export class LocalQueue {
  private readonly ready: QueuedMessage[] = [];
  private readonly delayed = new Map<string, { message: QueuedMessage; timer: NodeJS.Timeout }>();
  private readonly dead = new Map<string, QueuedMessage>();
  private readonly inFlight = new Map<string, QueuedMessage>();
  private readonly waiters = new Map<string, Array<(outcome: MessageOutcome) => void>>();
  /** Recent outcomes, so a caller that asks just after processing still gets its answer. */
  private readonly settled = new Map<string, MessageOutcome>();
  private readonly options: Required<Omit<LocalQueueOptions, "journalPath" | "logger">>;
  private journal: FileHandle | null = null;
  private journalLines = 0;
  private unsynced: Array<{ line: string; done?: () => void; failed?: (error: Error) => void }> =
    [];
  private flushing: Promise<void> | null = null;
  private consumer: QueueConsumer | null = null;
  private wake: (() => void) | null = null;
  private stopped = false;
  /** Whether the last batch found more work waiting: the sign of sustained load. */
  private busy = false;
  private loop: Promise<void> | null = null;
  readonly counts = { sent: 0, processed: 0, retried: 0, deadLettered: 0, batches: 0 };

  private constructor(
    private readonly journalPath: string | undefined,
    options: LocalQueueOptions,
    private readonly logger: Logger | undefined,
  ) {
    this.options = {
      batchSize: options.batchSize ?? 1000,
      batchWindowMs: options.batchWindowMs ?? 1000,
      idleWindowMs: options.idleWindowMs ?? 2,
      maxReceiveCount: options.maxReceiveCount ?? 5,
      retryDelayMs: options.retryDelayMs ?? ((count) => Math.min(30_000, 250 * 2 ** count)),
    };
  }

  /** Opens the queue, replaying the journal: messages not acknowledged before are ready again. */
  static async open(options: LocalQueueOptions = {}): Promise<LocalQueue> {
    const queue = new LocalQueue(options.journalPath, options, options.logger);
    if (options.journalPath) await queue.replay(options.journalPath);
    return queue;
  }

  /** Accepts bodies durably; resolves with their message ids. */
  async send(bodies: ReadonlyArray<string>): Promise<string[]> {
    const now = Date.now();
    const messages = bodies.map((body) => ({
      id: randomUUID(),
      body,
      receiveCount: 0,
      sentAt: now,
    }));
    await Promise.all(
      messages.map((message) =>
        this.append({ op: "put", id: message.id, body: message.body, at: now }, true),
      ),
    );
    this.counts.sent += messages.length;
    this.ready.push(...messages);
    this.wake?.();
    return messages.map((message) => message.id);
  }

  /** Resolves when each message has been processed or dead-lettered. */
  waitFor(ids: ReadonlyArray<string>): Promise<MessageOutcome[]> {
    return Promise.all(
      ids.map(
        (id) =>
          new Promise<MessageOutcome>((resolve) => {
            const outcome = this.settled.get(id);
            if (outcome) return resolve(outcome);
            const list = this.waiters.get(id) ?? [];
            list.push(resolve);
            this.waiters.set(id, list);
          }),
      ),
    );
  }

  /** Starts handing batches to the consumer, one batch at a time. */
  start(consumer: QueueConsumer): void {
    this.consumer = consumer;
    this.loop = this.run();
  }

  stats() {
    return {
      ready: this.ready.length,
      inFlight: this.inFlight.size,
      delayed: this.delayed.size,
      deadLetters: this.dead.size,
      ...this.counts,
    };
  }

  deadLetters(): QueuedMessage[] {
    return [...this.dead.values()];
  }

  /** Moves every dead letter back to the queue (like SQS's DLQ redrive). */
  async redrive(): Promise<number> {
    const messages = [...this.dead.values()];
    for (const message of messages) {
      this.dead.delete(message.id);
      await this.append({ op: "redrive", id: message.id }, true);
      this.ready.push({ ...message, receiveCount: 0 });
    }
    this.wake?.();
    return messages.length;
  }

  /** True when nothing is waiting, delayed or in flight. */
  idle(): boolean {
    return this.ready.length === 0 && this.delayed.size === 0 && this.inFlight.size === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    await this.flush();
    await this.journal?.close();
    this.journal = null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const window = this.busy ? this.options.batchWindowMs : this.options.idleWindowMs;
      if (this.ready.length < this.options.batchSize && window > 0) {
        await new Promise((resolve) => setTimeout(resolve, window));
      }
      const batch = this.ready.splice(0, this.options.batchSize);
      for (const message of batch) {
        message.receiveCount += 1;
        this.inFlight.set(message.id, message);
      }
      this.counts.batches += 1;
      let failed: Set<string>;
      try {
        const result = await (this.consumer as QueueConsumer)(batch);
        failed = new Set(result.failedIds);
      } catch (error) {
        // A consumer that throws fails the whole batch, as a Lambda error does with SQS.
        this.logger?.error("queue consumer failed", { error: String(error) });
        failed = new Set(batch.map((message) => message.id));
      }
      for (const message of batch) {
        this.inFlight.delete(message.id);
        if (!failed.has(message.id)) this.settle(message, "processed");
        else this.retryOrBury(message);
      }
      this.busy = this.ready.length > 0;
    }
  }

  private settle(message: QueuedMessage, outcome: MessageOutcome): void {
    if (outcome === "processed") {
      this.counts.processed += 1;
      void this.append({ op: "ack", id: message.id }, false);
    }
    this.settled.set(message.id, outcome);
    if (this.settled.size > 100_000)
      this.settled.delete(this.settled.keys().next().value as string);
    const waiting = this.waiters.get(message.id);
    this.waiters.delete(message.id);
    for (const resolve of waiting ?? []) resolve(outcome);
  }

  private retryOrBury(message: QueuedMessage): void {
    if (message.receiveCount >= this.options.maxReceiveCount) {
      this.counts.deadLettered += 1;
      this.dead.set(message.id, message);
      void this.append({ op: "dead", id: message.id }, false);
      this.logger?.warn("message dead-lettered", {
        messageId: message.id,
        receiveCount: message.receiveCount,
      });
      this.settle(message, "dead-lettered");
      return;
    }
    this.counts.retried += 1;
    void this.append({ op: "retry", id: message.id, receiveCount: message.receiveCount }, false);
    const timer = setTimeout(() => {
      this.delayed.delete(message.id);
      this.ready.push(message);
      this.wake?.();
    }, this.options.retryDelayMs(message.receiveCount));
    this.delayed.set(message.id, { message, timer });
  }

  private append(entry: JournalLine, durable: boolean): Promise<void> {
    if (!this.journalPath) return Promise.resolve();
    const line = `${JSON.stringify(entry)}\n`;
    if (!durable) {
      this.unsynced.push({ line });
      this.scheduleFlush();
      return Promise.resolve();
    }
    return new Promise((done, failed) => {
      this.unsynced.push({ line, done, failed });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let the rest of this tick's appends join the same write and sync.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.flush();
      } finally {
        this.flushing = null;
        if (this.unsynced.length > 0) this.scheduleFlush();
      }
    })();
  }

  private async flush(): Promise<void> {
    const pending = this.unsynced;
    if (pending.length === 0 || !this.journalPath) return;
    this.unsynced = [];
    try {
      this.journal ??= await open(this.journalPath, "a");
      await this.journal.write(pending.map((entry) => entry.line).join(""));
      if (pending.some((entry) => entry.done)) await this.journal.datasync();
      this.journalLines += pending.length;
      for (const entry of pending) entry.done?.();
    } catch (error) {
      for (const entry of pending) entry.failed?.(error as Error);
      this.logger?.error("queue journal write failed", { error: String(error) });
    }
    if (this.journalLines > 200_000 && this.unsynced.length === 0) await this.compact();
  }

  private async replay(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const messages = new Map<string, QueuedMessage>();
    const deadIds = new Set<string>();
    for (const line of text.split("\n")) {
      if (!line) continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        // A line torn by a crash mid-write was never acknowledged to anyone: skip it.
        continue;
      }
      if (entry.op === "put") {
        messages.set(entry.id, {
          id: entry.id,
          body: entry.body,
          receiveCount: 0,
          sentAt: entry.at,
        });
      } else if (entry.op === "ack") {
        messages.delete(entry.id);
      } else if (entry.op === "retry") {
        const message = messages.get(entry.id);
        if (message) message.receiveCount = entry.receiveCount;
      } else if (entry.op === "dead") {
        deadIds.add(entry.id);
      } else if (entry.op === "redrive") {
        deadIds.delete(entry.id);
        const message = messages.get(entry.id);
        if (message) message.receiveCount = 0;
      }
    }
    for (const message of messages.values()) {
      if (deadIds.has(message.id)) this.dead.set(message.id, message);
      else this.ready.push(message);
    }
    this.journalLines = messages.size + this.dead.size;
    await this.compact();
    if (this.ready.length > 0) {
      this.logger?.info("queue recovered messages from the journal", { ready: this.ready.length });
    }
  }

  /** Rewrites the journal with only what is still pending or dead, atomically. */
  private async compact(): Promise<void> {
    if (!this.journalPath) return;
    const delayed = [...this.delayed.values()].map((entry) => entry.message);
    const live = [...this.ready, ...delayed, ...this.inFlight.values(), ...this.dead.values()];
    const lines = live.map((message) => {
      const put: JournalLine = {
        op: "put",
        id: message.id,
        body: message.body,
        at: message.sentAt,
      };
      const extra: JournalLine[] = [];
      if (message.receiveCount > 0) {
        extra.push({ op: "retry", id: message.id, receiveCount: message.receiveCount });
      }
      if (this.dead.has(message.id)) extra.push({ op: "dead", id: message.id });
      return [put, ...extra].map((entry) => `${JSON.stringify(entry)}\n`).join("");
    });
    const temporary = `${this.journalPath}.tmp`;
    const handle = await open(temporary, "w");
    await handle.write(lines.join(""));
    await handle.datasync();
    await handle.close();
    await this.journal?.close();
    this.journal = null;
    await rename(temporary, this.journalPath);
    this.journalLines = live.length;
  }
}
