import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LoadClient } from "./load";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BENCH_TOKEN = "bench-token-0123456789abcdef";
export const BENCH_SENTRY_SECRET = "bench-sentry-client-secret";
export const BENCH_SLACK_SECRET = "bench-slack-signing-secret";

export interface RunningStack {
  port: number;
  client: LoadClient;
  process: ChildProcess;
  /**
   * With `settle`, once the dispatcher has seen every stream record written so far; with
   * `pending`, also the incidents with actions not yet run (a DynamoDB query per shard).
   */
  metrics(options?: { settle?: boolean; pending?: boolean }): Promise<StackMetrics>;
  /** Peak resident memory (VmHWM) of the stack and of its embedded DynamoDB, in MB. */
  peakMemoryMb(): { stack: number; dynamodb: number };
  /** CPU time (user + system, all threads) the stack and its embedded DynamoDB have used, in ms. */
  cpuMs(): { stack: number; dynamodb: number };
  stop(): Promise<void>;
}

export interface StackMetrics {
  dynamodbRequests: Record<string, number>;
  /** Capacity units those requests consumed, as DynamoDB reported them (on-demand billing). */
  dynamodbUnits: { read: number; write: number };
  queue: {
    ready: number;
    inFlight: number;
    delayed: number;
    processed: number;
    sent: number;
    batches: number;
    deadLettered: number;
  };
  invocations: Record<string, number>;
  /** Milliseconds each function has run, summed. */
  invocationMs: Record<string, number>;
  pendingIncidents?: number;
  memory: { rss: number };
}

/** VmHWM (peak RSS) of a process from /proc, in MB; 0 where /proc is not there. */
function peakOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, 100 on Linux everywhere. */
const USER_HZ = 100;

/** CPU time (utime + stime) of a process from /proc, in ms; 0 where /proc is not there. */
export function cpuOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // The command name, in parentheses, may hold spaces: fields are counted after it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return 0;
  }
}

/** A figure of the stack's process, and the sum of its children's (its embedded DynamoDB). */
function byProcess(
  pid: number | undefined,
  read: (pid: number | undefined) => number,
): { stack: number; dynamodb: number } {
  const dynamodb = childrenOf(pid)
    .map(read)
    .reduce((sum, value) => sum + value, 0);
  return { stack: read(pid), dynamodb };
}

function childrenOf(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the local stack as a user would (`npm start`'s entry point), on a free port with a fresh
 * DATA_DIR on disk (durable queue journal and LevelDB included), and waits for /health.
 */
export async function startStack(
  port: number,
  extraEnv: Record<string, string> = {},
): Promise<RunningStack> {
  // Not `firebreak-*`: a test run anywhere on the machine removes those it saw appear as it ends
  // (vitest.global-setup.ts), and a benchmark beside it would lose its data mid-run.
  const dataDir = mkdtempSync(join(tmpdir(), "fbbench-"));
  // BENCH_PROFILE=<dir> writes a CPU profile of the stack there (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, "--import", "tsx", "packages/local/src/main.ts"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        MONITORING_CONFIG: "bench/bench.config.ts",
        DEPLOY_OPTIONS: "bench/bench.deploy.ts",
        API_TOKENS: `bench:${BENCH_TOKEN}`,
        SENTRY_CLIENT_SECRET: BENCH_SENTRY_SECRET,
        SLACK_SIGNING_SECRET: BENCH_SLACK_SECRET,
        // The escalation sweep on AWS's schedule (every minute), not the local default of every
        // second, which reads every open incident each time.
        ESCALATIONS_INTERVAL_MS: "60000",
        ...extraEnv,
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const client = new LoadClient("127.0.0.1", port, 32);
  // tsx compiles the stack as it starts: seconds on a quiet machine, a minute on a busy one.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await client.request("GET", "/health")).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      client.close();
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error("the local stack did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    client,
    process: child,
    async metrics(options) {
      const query = new URLSearchParams();
      if (options?.settle) query.set("settle", "true");
      if (options?.pending) query.set("pending", "true");
      const path = `/local/metrics${query.size > 0 ? `?${query}` : ""}`;
      return JSON.parse((await client.request("GET", path)).body) as StackMetrics;
    },
    peakMemoryMb: () => byProcess(child.pid, peakOf),
    cpuMs: () => byProcess(child.pid, cpuOf),
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until every queued message has been processed (or dead-lettered) and the dispatcher has
 * run every action (sent every page) it was given. Once the queue is idle, each poll first waits
 * in the stack for the dispatcher to see every stream record written so far, then counts pending
 * actions: the polling adds a query per shard a poll, a few polls a run, to the figures (counting
 * every 10 ms while the dispatcher worked through a storm's pages added hundreds a second).
 */
export async function drained(stack: RunningStack, timeoutMs = 300_000): Promise<StackMetrics> {
  const deadline = Date.now() + timeoutMs;
  let queueIdle = false;
  for (;;) {
    const metrics = await stack.metrics({ settle: queueIdle, pending: queueIdle });
    const { queue } = metrics;
    queueIdle =
      queue.processed + queue.deadLettered >= queue.sent &&
      queue.ready === 0 &&
      queue.inFlight === 0 &&
      queue.delayed === 0;
    if (queueIdle && metrics.pendingIncidents === 0) return metrics;
    if (Date.now() > deadline) throw new Error(`not drained: ${JSON.stringify(queue)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
