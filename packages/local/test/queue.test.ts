import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { InvalidPatternError } from "../src/content-filter";
import { LocalQueue, type LocalQueueOptions, type QueuedMessage } from "../src/queue";

const queues: LocalQueue[] = [];
/** A queue whose batches are invoked as soon as gathered, unless the test says otherwise. */
async function openQueue(options: LocalQueueOptions = {}) {
  const queue = await LocalQueue.open({ batchWindowMs: 0, visibilityTimeoutMs: 20, ...options });
  queues.push(queue);
  return queue;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(queues.splice(0).map((queue) => queue.stop()));
});

const directories: string[] = [];
async function journal(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "firebreak-queue-"));
  directories.push(directory);
  return join(directory, "queue.log");
}
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true })));
});

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const succeed = async () => ({ batchItemFailures: [] });
const failing = (messages: QueuedMessage[], body: string) => ({
  batchItemFailures: messages
    .filter((message) => message.body === body)
    .map((message) => ({ itemIdentifier: message.id })),
});

describe("LocalQueue: concurrency", () => {
  it("invokes up to maximumConcurrency batches at once, never more", async () => {
    const queue = await openQueue({ batchSize: 2, maximumConcurrency: 3 });
    const allIn = deferred();
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    queue.start(async (messages) => {
      running += 1;
      most = Math.max(most, running);
      sizes.push(messages.length);
      // The first batches wait for each other: only concurrent invocations get past this.
      if (running === 3) allIn.resolve();
      await allIn.promise;
      running -= 1;
      return { batchItemFailures: [] };
    });
    const ids = await queue.send(Array.from({ length: 12 }, (_, index) => `m${index}`));
    expect(await queue.waitFor(ids)).toEqual(Array(12).fill("processed"));
    expect(most).toBe(3);
    expect(sizes).toEqual(Array(6).fill(2));
    expect(queue.stats()).toMatchObject({ batches: 6, receives: 12, processed: 12 });
  });

  it("processes messages out of order across batches", async () => {
    const queue = await openQueue({ batchSize: 1, maximumConcurrency: 2 });
    const firstHeld = deferred();
    const order: string[] = [];
    queue.start(async ([message]) => {
      if (message?.body === "first") await firstHeld.promise;
      order.push(message?.body ?? "");
      if (message?.body === "second") firstHeld.resolve();
      return {};
    });
    await queue.waitFor(await queue.send(["first", "second"]));
    expect(order).toEqual(["second", "first"]);
  });
});

describe("LocalQueue: visibility timeout, retries and the dead-letter queue", () => {
  it("brings a failed message back after the visibility timeout, then dead-letters it", async () => {
    const visibilityTimeoutMs = 40;
    const queue = await openQueue({ visibilityTimeoutMs, maxReceiveCount: 3 });
    const receives: Array<{ body: string; count: number; at: number; first?: number }> = [];
    queue.start(async (messages) => {
      for (const message of messages) {
        receives.push({
          body: message.body,
          count: message.receiveCount,
          at: Date.now(),
          first: message.firstReceivedAt,
        });
      }
      return failing(messages, "poison");
    });
    const ids = await queue.send(["poison", "fine"]);
    expect(await queue.waitFor(ids)).toEqual(["dead-lettered", "processed"]);

    const poison = receives.filter((receive) => receive.body === "poison");
    expect(poison.map((receive) => receive.count)).toEqual([1, 2, 3]);
    expect(receives.filter((receive) => receive.body === "fine")).toHaveLength(1);
    // Not before the timeout, which runs from each receive (timers may round by 1 ms).
    const firstReceive = poison[0]?.first ?? 0;
    for (const [index, receive] of poison.entries()) {
      expect(receive.first).toBe(firstReceive);
      expect(receive.at - firstReceive).toBeGreaterThanOrEqual(index * visibilityTimeoutMs - 1);
    }
    expect(queue.deadLetters()).toMatchObject([{ body: "poison", receiveCount: 3 }]);
    // Visible again after each failed receive; the fourth receive moved it to the DLQ instead.
    expect(queue.stats()).toMatchObject({
      retried: 3,
      deadLettered: 1,
      processed: 1,
      receives: 4,
      deadLetters: 1,
      visible: 0,
      invisible: 0,
    });
  });

  it("scales the deployed visibility timeout with timeScale", async () => {
    // 360 s as deployed, times 1/3600: 100 ms.
    const queue = await openQueue({ visibilityTimeoutMs: undefined, timeScale: 1 / 3600 });
    const at: number[] = [];
    let firstReceivedAt = 0;
    queue.start(async (messages) => {
      at.push(Date.now());
      firstReceivedAt = messages[0]?.firstReceivedAt ?? 0;
      return at.length === 1 ? failing(messages, "again") : {};
    });
    await queue.waitFor(await queue.send(["again"]));
    expect(at).toHaveLength(2);
    // The timeout runs from the receive, not from when the consumer got round to the batch
    // (later on a busy machine): the message is back no sooner than 100 ms after its receive.
    expect((at[1] ?? 0) - firstReceivedAt).toBeGreaterThanOrEqual(100);
  });

  it("deletes the messages a partial failure does not name", async () => {
    const queue = await openQueue({ batchSize: 3 });
    const batches: Array<Array<[string, number]>> = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => [message.body, message.receiveCount]));
      return batches.length === 1 ? failing(messages, "b") : {};
    });
    await queue.waitFor(await queue.send(["a", "b", "c"]));
    expect(batches).toEqual([
      [
        ["a", 1],
        ["b", 1],
        ["c", 1],
      ],
      [["b", 2]],
    ]);
  });

  it("leaves the whole batch in the queue when the consumer throws", async () => {
    const queue = await openQueue({ batchSize: 2 });
    const batches: Array<Array<[string, number]>> = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => [message.body, message.receiveCount]));
      if (batches.length === 1) throw new Error("boom");
      return {};
    });
    await queue.waitFor(await queue.send(["x", "y"]));
    expect(batches).toEqual([
      [
        ["x", 1],
        ["y", 1],
      ],
      [
        ["x", 2],
        ["y", 2],
      ],
    ]);
  });

  it.each([
    ["an unknown itemIdentifier", () => ({ batchItemFailures: [{ itemIdentifier: "nope" }] })],
    ["an empty itemIdentifier", () => ({ batchItemFailures: [{ itemIdentifier: "" }] })],
    ["a null itemIdentifier", () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ["a bad key name", (id: string) => ({ batchItemFailures: [{ messageId: id }] })],
    ["batchItemFailures that is not a list", () => ({ batchItemFailures: "x" })],
    ["a response that is not an object", () => "ok"],
  ])("fails the whole batch on %s, as Lambda does", async (_, response) => {
    const queue = await openQueue({ batchSize: 2 });
    const counts: number[] = [];
    queue.start(async (messages) => {
      counts.push(...messages.map((message) => message.receiveCount));
      return counts.length === 2 ? response(messages[0]?.id ?? "") : null;
    });
    await queue.waitFor(await queue.send(["p", "q"]));
    expect(counts).toEqual([1, 1, 2, 2]);
  });

  it.each([
    ["nothing", undefined],
    ["null", null],
    ["an empty response", {}],
    ["a null list", { batchItemFailures: null }],
    ["an empty list", { batchItemFailures: [] }],
  ])("reads %s as a complete success", async (_, response) => {
    const queue = await openQueue();
    let calls = 0;
    queue.start(async () => {
      calls += 1;
      return response;
    });
    expect(await queue.waitFor(await queue.send(["ok"]))).toEqual(["processed"]);
    expect(calls).toBe(1);
  });

  it("delivers a message again when its batch outlives the visibility timeout (at least once)", async () => {
    const queue = await openQueue({ batchSize: 1, visibilityTimeoutMs: 30 });
    const secondDelivery = deferred();
    const counts: number[] = [];
    queue.start(async ([message]) => {
      counts.push(message?.receiveCount ?? 0);
      if (counts.length === 1) await secondDelivery.promise;
      else secondDelivery.resolve();
      return {};
    });
    expect(await queue.waitFor(await queue.send(["slow"]))).toEqual(["processed"]);
    await queue.settled();
    expect(counts).toEqual([1, 2]);
    // Deleted once: the second deletion finds it gone.
    expect(queue.stats()).toMatchObject({ processed: 1, receives: 2, retried: 1 });
  });

  it("redrives dead letters with a fresh receive count, and keeps them dead across a restart", async () => {
    const path = await journal();
    const first = await openQueue({ journalPath: path, maxReceiveCount: 1 });
    first.start(async (messages) => failing(messages, "poison"));
    expect(await first.waitFor(await first.send(["poison"]))).toEqual(["dead-lettered"]);
    await first.stop();

    const second = await openQueue({ journalPath: path });
    expect(second.deadLetters()).toMatchObject([{ body: "poison", receiveCount: 1 }]);
    const counts: number[] = [];
    second.start(async (messages) => {
      counts.push(...messages.map((message) => message.receiveCount));
      return {};
    });
    expect(await second.redrive()).toBe(1);
    await second.settled();
    expect(counts).toEqual([1]);
    await second.stop();
    const third = await openQueue({ journalPath: path });
    expect(third.deadLetters()).toEqual([]);
    expect(third.idle()).toBe(true);
  });
});

describe("LocalQueue: batching", () => {
  it("gathers for the batching window from the first message, as AWS does for a lone event", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const queue = await openQueue({ batchWindowMs: 1000 });
    const batches: string[][] = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => message.body));
      return {};
    });
    await queue.send(["a"]);
    await vi.advanceTimersByTimeAsync(500);
    await queue.send(["b"]);
    await vi.advanceTimersByTimeAsync(499);
    expect(batches).toEqual([]);
    expect(queue.stats()).toMatchObject({ inFlight: 2, inFlightBatches: 1, visible: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([["a", "b"]]);
  });

  it("invokes at once when the batch is full", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const queue = await openQueue({ batchWindowMs: 1000, batchSize: 3 });
    const batches: string[][] = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => message.body));
      return {};
    });
    await queue.send(["a", "b", "c", "d"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([["a", "b", "c"]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("invokes a lone event at once when idle only under lingerWhenIdle: false", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const queue = await openQueue({
      batchWindowMs: 1000,
      lingerWhenIdle: false,
      visibilityTimeoutMs: 60_000,
    });
    const held = deferred();
    const batches: string[][] = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => message.body));
      if (batches.length === 1) await held.promise;
      return {};
    });
    await queue.send(["alone"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([["alone"]]);
    // Under load (a batch in flight) the window applies again.
    await queue.send(["x", "y"]);
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([["alone"], ["x", "y"]]);
    held.resolve();
  });

  it("closes a batch before it passes the payload limit", async () => {
    const body = "z".repeat(100_000);
    // Two records fit (body, its JSON quotes and the record's overhead), three do not.
    const queue = await openQueue({ maxPayloadBytes: 250_000, maximumConcurrency: 1 });
    const sizes: number[] = [];
    queue.start(async (messages) => {
      sizes.push(messages.length);
      return {};
    });
    await queue.waitFor(await queue.send(Array(5).fill(body)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});

describe("LocalQueue: filter criteria", () => {
  it("deletes messages that match no filter without invoking", async () => {
    const queue = await openQueue({
      filters: ['{"body":{"kind":["keep"]}}', '{"body":["ping"]}'],
    });
    const bodies: string[] = [];
    queue.start(async (messages) => {
      bodies.push(...messages.map((message) => message.body));
      return {};
    });
    const ids = await queue.send(['{"kind":"keep"}', '{"kind":"drop"}', "ping", "pong"]);
    expect(await queue.waitFor(ids)).toEqual(["processed", "filtered", "processed", "filtered"]);
    expect(bodies).toEqual(['{"kind":"keep"}', "ping"]);
    expect(queue.stats()).toMatchObject({ filtered: 2, processed: 2, receives: 2 });
  });

  it("refuses settings the mapping would refuse when opened", async () => {
    await expect(LocalQueue.open({ batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(LocalQueue.open({ maximumConcurrency: 1.5 })).rejects.toThrow(
      /maximumConcurrency/,
    );
  });

  it("refuses a pattern AWS would refuse when opened", async () => {
    await expect(LocalQueue.open({ filters: ['{"body":{"kind":"keep"}}'] })).rejects.toThrow(
      InvalidPatternError,
    );
  });
});

describe("LocalQueue: durability", () => {
  it("keeps what was sent, and what was in flight, across a crash", async () => {
    const path = await journal();
    // A long visibility timeout: the crashed queue must not receive again before the restart.
    const crashed = await openQueue({ journalPath: path, visibilityTimeoutMs: 60_000 });
    const processed = await crashed.send(["done"]);
    const stuck = deferred();
    const held = deferred();
    crashed.start(async (messages) => {
      if (messages.some((message) => message.body === "in-flight")) {
        stuck.resolve();
        await held.promise;
      }
      return {};
    });
    await crashed.waitFor(processed);
    await crashed.send(["in-flight"]);
    await stuck.promise;
    // SIGKILL: the process is gone mid-invocation, and a write was torn on its way out.
    await crashed.flush();
    await appendFile(path, '{"op":"put","id":"torn","bo');

    const restarted = await openQueue({ journalPath: path });
    expect(restarted.stats()).toMatchObject({ visible: 1 });
    const seen: QueuedMessage[] = [];
    restarted.start(async (messages) => {
      seen.push(...messages);
      return {};
    });
    await restarted.settled();
    expect(seen.map((message) => [message.body, message.receiveCount])).toEqual([["in-flight", 2]]);
    held.resolve();
  });

  it("journals a batch of bodies as the lines a restart reads back, byte for byte", async () => {
    const path = await journal();
    const bodies = [
      '{"alarm":"checkout-5xx","reason":"a \\"quoted\\" value"}',
      "line one\nline two\ttabbed",
      "Überlast: 3 von 3 Datenpunkten über dem Schwellenwert ⚠️",
      "",
    ];
    const sent = await openQueue({ journalPath: path });
    const ids = await sent.send(bodies);
    // Every line is one JSON value, as replay reads it; its bytes are what the stats count.
    const text = await readFile(path, "utf8");
    const lines = text.trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      ids.map((id, index) => ({ op: "put", id, body: bodies[index], at: expect.any(Number) })),
    );
    expect(sent.stats().journalBytes).toBe(Buffer.byteLength(text));

    const restarted = await openQueue({ journalPath: path });
    const seen: QueuedMessage[] = [];
    restarted.start(async (messages) => {
      seen.push(...messages);
      return {};
    });
    await restarted.settled();
    expect(seen.map((message) => [message.id, message.body])).toEqual(
      ids.map((id, index) => [id, bodies[index]]),
    );
  });

  it("dead-letters a message that keeps killing the process, by its journaled receives", async () => {
    const path = await journal();
    const reopen = () =>
      openQueue({ journalPath: path, maxReceiveCount: 2, visibilityTimeoutMs: 60_000 });
    let opened = await reopen();
    await opened.send(["crasher"]);
    const holds = [deferred(), deferred()];
    for (const hold of holds) {
      const received = deferred();
      opened.start(async () => {
        received.resolve();
        await hold.promise;
        return {};
      });
      await received.promise;
      await opened.flush();
      opened = await reopen();
    }
    expect(opened.deadLetters()).toEqual([]);
    opened.start(succeed);
    await opened.settled();
    expect(opened.deadLetters()).toMatchObject([{ body: "crasher", receiveCount: 2 }]);
    for (const hold of holds) hold.resolve();
  });

  it("compacts by bytes: big deleted messages do not pile up in the journal", async () => {
    const path = await journal();
    const compactAfterBytes = 1024 * 1024;
    const queue = await openQueue({ journalPath: path, compactAfterBytes });
    queue.start(succeed);
    // A 200 KB body, such as one decompressed Logs batch: 40 of them write 8 MB of journal.
    const body = JSON.stringify({ lines: "x".repeat(200_000) });
    let largest = 0;
    for (let index = 0; index < 40; index++) {
      await queue.waitFor(await queue.send([body]));
      await queue.flush();
      largest = Math.max(largest, (await stat(path)).size);
    }
    expect(queue.stats().compactions).toBeGreaterThanOrEqual(5);
    expect(largest).toBeLessThan(compactAfterBytes + 2 * body.length);
    expect(queue.stats().journalBytes).toBe((await stat(path)).size);
  });

  it("keeps pending, in-flight and just-sent messages through compactions", async () => {
    const path = await journal();
    const options = {
      journalPath: path,
      compactAfterBytes: 64 * 1024,
      visibilityTimeoutMs: 60_000,
    };
    const churn = () => Array.from({ length: 30 }, (_, index) => `${index}:${"y".repeat(10_000)}`);
    const first = await openQueue(options);
    first.start(async (messages) => failing(messages, "keep"));
    const kept = await first.send(["keep"]);
    await first.until((stats) => stats.receives === 1);
    await first.waitFor(await first.send(churn()));
    await first.stop();
    expect(first.stats().compactions).toBeGreaterThan(0);

    // Nothing consumes here: 300 KB of puts arrive while the journal is over its threshold.
    const second = await openQueue(options);
    expect(second.stats()).toMatchObject({ visible: 1 });
    await second.send(churn());
    await second.stop();

    const third = await openQueue(options);
    expect(third.stats()).toMatchObject({ visible: 31 });
    const seen = new Map<string, number>();
    third.start(async (messages) => {
      for (const message of messages) seen.set(message.id, message.receiveCount);
      return {};
    });
    await third.settled();
    expect(seen.size).toBe(31);
    expect(seen.get(kept[0] ?? "")).toBe(2);
  });
});

describe("LocalQueue: counters", () => {
  it("counts visible, invisible and in-flight messages as they move", async () => {
    const queue = await openQueue({
      batchSize: 2,
      maximumConcurrency: 1,
      visibilityTimeoutMs: 60_000,
    });
    const held = deferred();
    queue.start(async (messages) => {
      await held.promise;
      return failing(messages, "bad");
    });
    await queue.send(["bad", "good", "later"]);
    await queue.until((stats) => stats.inFlightBatches === 1);
    expect(queue.stats()).toMatchObject({ visible: 1, invisible: 2, inFlight: 2, delayed: 0 });
    held.resolve();
    await queue.until((stats) => stats.processed === 2);
    // "bad" waits out its 60 s visibility timeout; "later" went in the next batch.
    expect(queue.stats()).toMatchObject({ visible: 0, invisible: 1, inFlight: 0, delayed: 1 });
    expect(queue.idle()).toBe(false);
  });
});
