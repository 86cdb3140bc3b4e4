import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEvent } from "@firebreak/events";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedDynamoDb } from "../src/embedded-dynamodb";
import type { FaultPlan } from "../src/faults";
import type { LocalStack } from "../src/stack";
import { startTestStack, TOKEN } from "./helpers";

/** `SOAK=1` runs the full sizes (`npm run test:soak`); `npm test` runs small ones. */
const SOAK = Boolean(process.env.SOAK);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string; state: { timestamp: string } };
}

/** `count` distinct alarm deliveries over `alarms` alarms named `<prefix>-<n>`. */
function deliveries(prefix: string, count: number, alarms: number): AlarmEvent[] {
  const template = loadEvent("cloudwatch/eventbridge-alarm.json") as AlarmEvent;
  return Array.from({ length: count }, (_, index) => {
    const event = structuredClone(template);
    const name = `${prefix}-${index % alarms}`;
    event.id = `${prefix}-delivery-${index}`;
    event.detail.alarmName = name;
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
    event.detail.state.timestamp = new Date(Date.UTC(2026, 10, 26, 10, 0, 0, index)).toISOString();
    return event;
  });
}

const shuffle = <T>(items: T[]): T[] => {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
};

async function send(url: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}/local/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Sends everything with `concurrency` requests in flight; returns how many were accepted. */
async function sendAll(url: string, events: unknown[], concurrency: number): Promise<number> {
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < events.length; index = next++) {
        if ((await send(url, events[index])) === 202) accepted += 1;
      }
    }),
  );
  return accepted;
}

interface Listed {
  id: string;
  title: string;
  count: number;
}

/** Every incident whose title starts with `prefix`, through the API. */
async function incidents(url: string, prefix: string): Promise<Listed[]> {
  const found: Listed[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const response = await fetch(`${url}/incidents?limit=200${query}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const page = (await response.json()) as { items: Listed[]; nextCursor: string | null };
    found.push(...page.items.filter((item) => item.title.startsWith(prefix)));
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

const total = (items: Listed[]) => items.reduce((sum, item) => sum + item.count, 0);

/**
 * The queue as these storms need it: the deployed window and visibility timeout ten times
 * shorter. A hundred times shorter (3.6 s) is less than a batch takes on a loaded machine, so
 * messages would be received again while their batch still runs, as AWS never does (its
 * visibility timeout is six times the function's timeout), and reach the dead-letter queue.
 */
const STORM_QUEUE = { timeScale: 0.1 };

/**
 * Past the sweep's stuck-action age (5 minutes after an action was due) and a dead
 * dispatcher's claim (2 minutes): the sweep then nudges whatever still waits.
 */
const SWEEP_NUDGES_AFTER_MS = 6 * 60_000;

/** The stack's application clock, which a test moves forward. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

/**
 * Waits until every message is processed and no incident has an action waiting. Work that only
 * the sweep's safety net brings back (an action handed back after a failure, or whose stream
 * record DynamoDB's restart lost) waits minutes for it in AWS: once the stream and the sweep
 * have caught up with such work left, `clock` moves past it.
 */
async function finished(stack: LocalStack, clock?: ReturnType<typeof movableClock>) {
  await stack.queue.settled();
  for (;;) {
    await stack.settle();
    if (stack.queue.idle() && (await stack.store.listPending()).length === 0) return;
    clock?.advance(SWEEP_NUDGES_AFTER_MS);
  }
}

const directories: string[] = [];
async function temporaryDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}
afterAll(async () => {
  await Promise.all(
    directories.map((directory) => rm(directory, { recursive: true, force: true })),
  );
});

describe("reliability", () => {
  it("counts every delivery once when each is delivered three times, in any order", {
    timeout: 180_000,
  }, async () => {
    // DynamoDB on a core of its own, as the local stack runs it: in this process a storm starves it.
    const stack = await startTestStack({ queue: STORM_QUEUE, dynamodbProcess: "child" });
    try {
      const events = deliveries("thrice", SOAK ? 3000 : 300, 10);
      const accepted = await sendAll(stack.url, shuffle([...events, ...events, ...events]), 16);
      expect(accepted).toBe(events.length * 3);
      await finished(stack);
      expect(stack.queue.deadLetters()).toEqual([]);
      const found = await incidents(stack.url, "thrice-");
      expect(found).toHaveLength(10);
      expect(total(found)).toBe(events.length);
    } finally {
      await stack.stop();
    }
  });

  it("keeps exact counts and runs no action twice through throttling, 5xx, timeouts and a DynamoDB restart", {
    timeout: 300_000,
  }, async () => {
    const dataDir = await temporaryDirectory("firebreak-faults-");
    const clock = movableClock();
    // Read on every request attempt: setting the rate to 0 later ends the faults.
    const plan: FaultPlan = { rate: 0.2, kinds: ["throttle", "server", "timeout"] };
    const stack = await startTestStack({
      dataDir,
      dynamodbProcess: "child",
      faults: plan,
      clock,
      intervals: { escalationsMs: 200, actionRetryMs: 100 },
      queue: STORM_QUEUE,
      configInput: {
        rules: [
          {
            name: "faulty",
            match: { alarmName: "faulty-*" },
            severity: "critical",
            actions: [
              {
                type: "scale",
                target: { kind: "ecs-service", cluster: "prod", service: "faulty" },
                by: 1,
                max: 100,
                cooldown: "0s",
              },
              { type: "page", channel: "oncall" },
            ],
          },
        ],
        channels: {
          oncall: {
            sns: "arn:aws:sns:us-east-1:123456789012:oncall",
            pagerduty: { routingKey: "0123456789abcdef0123456789abcdef" },
          },
        },
        safety: { cooldown: "0s", maxActionsPerHour: 1000 },
        escalation: { maxRepeats: 0 },
        responders: "anyone",
        // Every incident pages here: none may fold into a digest.
        paging: { budget: { perMinute: 1000, perHour: 10_000 } },
      },
    });
    try {
      const events = deliveries("faulty", SOAK ? 2000 : 300, 20);
      const half = Math.floor(events.length / 2);
      let accepted = await sendAll(stack.url, events.slice(0, half), 8);
      await stack.restartDynamoDb(800);
      accepted += await sendAll(stack.url, events.slice(half), 8);
      expect(accepted).toBe(events.length);
      // Faults stop; whatever was retried settles, stuck work through the sweep's nudges.
      plan.rate = 0;
      await finished(stack, clock);

      const found = await incidents(stack.url, "faulty-");
      const dead = stack.queue.deadLetters().length;
      expect(total(found) + dead).toBe(events.length);
      expect(dead).toBe(0);
      // The faults happened, and the retries that absorbed them are visible.
      const injected = stack.injectedFaults ?? { throttle: 0, server: 0, timeout: 0 };
      expect(injected.throttle + injected.server + injected.timeout).toBeGreaterThan(0);
      expect(stack.dynamodbRequests.PutItem).toBeGreaterThan(0);

      // Every action finished.
      const scales = (
        await Promise.all(found.map((incident) => stack.store.get(incident.id)))
      ).flatMap((record) => record?.actions.filter((action) => action.type === "scale") ?? []);
      const ran = scales.filter((action) => action.status === "simulated");
      const unfinished = scales.filter(
        (action) => action.status !== "simulated" && action.status !== "skipped",
      );
      expect(unfinished.map((action) => `${action.id} ${action.status}: ${action.reason}`)).toEqual(
        [],
      );
      // No scale-out went out twice: every count sent is new. (A run interrupted after sending
      // checks the target before completing, and does not send again.)
      const changes = stack.simulation.calls.filter((call) => call.operation === "UpdateService");
      const counts = changes.map((call) => call.input.desiredCount);
      expect(new Set(counts).size).toBe(counts.length);
      expect(counts.length).toBeLessThanOrEqual(ran.length);
      const service = stack.simulation.snapshot().ecsServices["prod/faulty"] as {
        desiredCount: number;
      };
      expect(service.desiredCount).toBe(2 + counts.length);
      // Pages are at least once: every incident reached every transport (a delivery cut off
      // before it was recorded goes out again; PagerDuty folds repeats by dedup_key).
      const pages = stack.outbox.entries.filter((entry) => entry.kind === "page");
      const reached = new Set(pages.map((page) => `${page.incidentId}:${page.transport}`));
      expect(reached.size).toBe(found.length * 2);
    } finally {
      await stack.stop();
    }
  });

  it("keeps one incident with the exact count when two local stack processes share one DynamoDB", {
    timeout: 120_000,
  }, async () => {
    const dynamo = await startEmbeddedDynamoDb({ process: "child" });
    const stacks = await Promise.all([
      startProcess({ DYNAMODB_ENDPOINT: dynamo.endpoint }),
      startProcess({ DYNAMODB_ENDPOINT: dynamo.endpoint }),
    ]);
    try {
      const events = deliveries("shared", SOAK ? 640 : 64, 1);
      await Promise.all(
        events.map((event, index) => {
          const target = stacks[index % 2] as RunningProcess;
          return fetch(`${target.url}/local/events?wait=true`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(event),
          }).then((response) => response.arrayBuffer());
        }),
      );
      const found = await incidents(stacks[0]?.url as string, "shared-");
      expect(found).toHaveLength(1);
      expect(found[0]?.count).toBe(events.length);
    } finally {
      await Promise.all(stacks.map((stack) => stack.stop()));
      await dynamo.stop();
    }
  });

  it("loses nothing it answered 202 for when killed with SIGKILL mid-storm", {
    timeout: 180_000,
  }, async () => {
    const dataDir = await temporaryDirectory("firebreak-crash-");
    const first = await startProcess({ DATA_DIR: dataDir });
    // Listened for before the kill: the exit may come before the senders notice it.
    const firstExited = new Promise((resolve) => first.process.once("exit", resolve));
    const events = deliveries("crash", SOAK ? 5000 : 1000, 25);
    let accepted = 0;
    let next = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let index = next++; index < events.length && !killed; index = next++) {
          try {
            if ((await send(first.url, events[index])) === 202) accepted += 1;
          } catch {
            return; // the connection died with the process
          }
          if (accepted >= events.length / 2 && !killed) {
            killed = true;
            first.process.kill("SIGKILL");
          }
        }
      }),
    );
    await firstExited;

    const second = await startProcess({ DATA_DIR: dataDir });
    try {
      // The journal's messages, those in flight at the kill included, are visible again at once:
      // wait until the queue holds nothing (processed, or dead-lettered).
      let queue = await queueStats(second.url);
      while (queue.visible + queue.invisible + queue.inFlightBatches > 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        queue = await queueStats(second.url);
      }
      expect(queue.deadLetters).toBe(0);
      // Everything answered 202 is there; requests cut off mid-flight may be there too.
      const counted = total(await incidents(second.url, "crash-"));
      expect(counted).toBeGreaterThanOrEqual(accepted);
      expect(counted).toBeLessThanOrEqual(next);
    } finally {
      await second.stop();
    }
  });
});

interface QueueStats {
  visible: number;
  invisible: number;
  inFlightBatches: number;
  deadLetters: number;
}

async function queueStats(url: string): Promise<QueueStats> {
  const response = await fetch(`${url}/local/queue`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()) as QueueStats;
}

interface RunningProcess {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Local stacks started as processes, stopped after the suite if a test could not. */
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

/** The local stack as `npm start` runs it, in its own process, on a port of its choosing. */
async function startProcess(env: Record<string, string>): Promise<RunningProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "packages/local/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: "0",
      DATA_DIR: "memory",
      LOG_LEVEL: "error",
      API_TOKENS: `tests:${TOKEN}`,
      // tsx would keep its compile cache in the temp directory after the run.
      TSX_DISABLE_CACHE: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  started.add(child);
  // Its banner names the address once it listens.
  const url = await new Promise<string>((resolve, reject) => {
    let banner = "";
    const onData = (chunk: Buffer) => {
      banner += chunk.toString();
      const match = /local stack on (http:\/\/\S+)/.exec(banner);
      if (!match) return;
      child.stdout?.off("data", onData);
      child.stdout?.resume();
      resolve(match[1] as string);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the local stack exited with ${code}`)));
  });
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
