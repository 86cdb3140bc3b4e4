import { appendFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LocalQueue, type QueuedMessage } from "../src/queue";

const queues: LocalQueue[] = [];
async function openQueue(options: Parameters<typeof LocalQueue.open>[0] = {}) {
  const queue = await LocalQueue.open({ batchWindowMs: 0, retryDelayMs: () => 1, ...options });
  queues.push(queue);
  return queue;
}
afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.stop()));
});

const journal = async () => join(await mkdtemp(join(tmpdir(), "firebreak-queue-")), "queue.log");

describe("LocalQueue", () => {
  it("hands messages over in batches no larger than batchSize", async () => {
    const queue = await openQueue({ batchSize: 3, batchWindowMs: 5 });
    const batches: string[][] = [];
    queue.start(async (messages) => {
      batches.push(messages.map((message) => message.body));
      return { failedIds: [] };
    });
    const ids = await queue.send(["a", "b", "c", "d", "e"]);
    expect(await queue.waitFor(ids)).toEqual(Array(5).fill("processed"));
    expect(batches).toEqual([
      ["a", "b", "c"],
      ["d", "e"],
    ]);
  });

  it("retries a failed message and dead-letters it after maxReceiveCount receives", async () => {
    const queue = await openQueue({ maxReceiveCount: 3 });
    const receives: number[] = [];
    queue.start(async (messages) => {
      receives.push(...messages.map((message) => message.receiveCount));
      return { failedIds: messages.filter((m) => m.body === "poison").map((m) => m.id) };
    });
    const ids = await queue.send(["poison", "fine"]);
    expect(await queue.waitFor(ids)).toEqual(["dead-lettered", "processed"]);
    expect(receives.sort()).toEqual([1, 1, 2, 3]);
    expect(queue.deadLetters().map((message) => message.body)).toEqual(["poison"]);
    expect(queue.stats()).toMatchObject({ retried: 2, deadLettered: 1, processed: 1 });
  });

  it("treats a consumer that throws as a failed batch", async () => {
    const queue = await openQueue({ maxReceiveCount: 2 });
    let calls = 0;
    queue.start(async () => {
      calls += 1;
      if (calls === 1) throw new Error("boom");
      return { failedIds: [] };
    });
    const ids = await queue.send(["x"]);
    expect(await queue.waitFor(ids)).toEqual(["processed"]);
    expect(calls).toBe(2);
  });

  it("keeps everything sent but not processed across a crash", async () => {
    const path = await journal();
    const first = await LocalQueue.open({ journalPath: path, batchWindowMs: 0 });
    const processedIds = await first.send(["done"]);
    first.start(async () => ({ failedIds: [] }));
    await first.waitFor(processedIds);
    // Simulate SIGKILL: no stop(), the process is simply gone; start a new queue on the journal.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const crashing = await LocalQueue.open({ journalPath: path });
    await crashing.send(["pending-1", "pending-2"]);
    await appendFile(path, '{"op":"put","id":"torn","bo'); // a write torn by the crash

    const restarted = await openQueue({ journalPath: path });
    const seen: QueuedMessage[] = [];
    restarted.start(async (messages) => {
      seen.push(...messages);
      return { failedIds: [] };
    });
    await waitUntil(() => seen.length >= 2);
    expect(seen.map((message) => message.body).sort()).toEqual(["pending-1", "pending-2"]);
  });

  it("keeps dead letters dead across a restart, and redrives them on request", async () => {
    const path = await journal();
    const first = await openQueue({ journalPath: path, maxReceiveCount: 1 });
    first.start(async (messages) => ({ failedIds: messages.map((message) => message.id) }));
    await first.waitFor(await first.send(["poison"]));
    await first.stop();

    const second = await openQueue({ journalPath: path });
    expect(second.deadLetters().map((message) => message.body)).toEqual(["poison"]);
    const bodies: string[] = [];
    second.start(async (messages) => {
      bodies.push(...messages.map((message) => message.body));
      return { failedIds: [] };
    });
    expect(await second.redrive()).toBe(1);
    await waitUntil(() => bodies.length === 1);
    expect(second.deadLetters()).toEqual([]);
    await second.stop();
    const third = await openQueue({ journalPath: path });
    expect(third.deadLetters()).toEqual([]);
    expect(third.stats().ready).toBe(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
