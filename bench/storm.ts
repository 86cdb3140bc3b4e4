import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { localEventJobs, stormEvents } from "./generators";
import { drive, round } from "./load";
import { drained, type RunningStack, type StackMetrics, startStack } from "./local-stack";

/**
 * The storm target of issue 15, measured on its own: `events` alarm state changes over 50
 * alarms, 100 per request from 16 clients, through the deployed queue settings (batch size,
 * window, concurrency: stacks/topology.ts). What counts is how long after the last accept the
 * last signal is processed, and what the processor spends per signal.
 */
export interface StormDrain {
  events: number;
  alarms: number;
  acceptSeconds: number;
  /** From the last 202 until the queue is empty and every page is sent. */
  drainSeconds: number;
  /** Signals still to process when the last request was answered. */
  pendingAtLastAccept: number;
  processor: {
    invocations: number;
    meanBatch: number;
    /** The handler's wall time per signal (I/O waits and interleaved batches included). */
    invocationUsPerSignal: number;
    dynamodbRequestsPerBatch: number;
    dynamodbWritesPerBatch: number;
    /** Requests per batch by operation. */
    dynamodbPerBatch: Record<string, number>;
  };
  /** CPU of the stack's process (not its DynamoDB) per signal processed after the last accept. */
  drainCpuUsPerSignal: number;
  /**
   * The stack's CPU from its profile (BENCH_PROFILE only), in µs per signal by stage: over the
   * whole storm (accepting included, as its own stage), and after the last accept only (batches
   * already decoded then count among the pending signals, so decoding shows less there).
   */
  profile: {
    file: string;
    wholeRun: Record<string, number>;
    afterLastAccept: Record<string, number>;
  } | null;
  loadAverage: number[];
}

const ALARMS = 50;
const PER_REQUEST = 100;
const CLIENTS = 16;
const WRITES = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];

/** CPU time (user + system) of a process, in µs, from /proc (clock ticks of 10 ms). */
function cpuUs(pid: number | undefined): number {
  if (!pid) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The monotonic clock V8's profiler stamps samples with, in µs. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

const delta = (after: Record<string, number>, before: Record<string, number>, name: string) =>
  (after[name] ?? 0) - (before[name] ?? 0);

/** One storm on a fresh stack. */
export async function stormDrain(events: number, port: number): Promise<StormDrain> {
  const jobs = localEventJobs(stormEvents(events, ALARMS), PER_REQUEST);
  const stack = await startStack(port);
  let stopped = false;
  try {
    const before = await stack.metrics();
    const startUs = monotonicUs();
    const acceptMs = await drive(stack.client, jobs, CLIENTS, 202);
    const lastAccept = performance.now();
    const lastAcceptUs = monotonicUs();
    const cpuAtLastAccept = cpuUs(stack.process.pid);
    const atLastAccept = await stack.metrics();
    const after = await drained(stack);
    const drainSeconds = (performance.now() - lastAccept) / 1000;
    const doneUs = monotonicUs();
    const drainCpu = cpuUs(stack.process.pid) - cpuAtLastAccept;
    const pendingAtLastAccept =
      atLastAccept.queue.sent - atLastAccept.queue.processed - before.queue.sent;
    const processor = processorFigures(before, after, events);
    const loadAverage = (await import("node:os")).loadavg().map((load) => round(load, 2));
    await stack.stop();
    stopped = true;
    const samples = process.env.BENCH_PROFILE
      ? readProfile(process.env.BENCH_PROFILE, stack)
      : null;
    const profile = samples && {
      file: samples.file,
      wholeRun: split(samples, startUs, doneUs, events),
      afterLastAccept: split(samples, lastAcceptUs, doneUs, pendingAtLastAccept),
    };
    return {
      events,
      alarms: ALARMS,
      acceptSeconds: round(acceptMs / 1000, 2),
      drainSeconds: round(drainSeconds, 2),
      pendingAtLastAccept,
      processor,
      drainCpuUsPerSignal: round(drainCpu / Math.max(1, pendingAtLastAccept)),
      profile,
      loadAverage,
    };
  } finally {
    if (!stopped) await stack.stop();
  }
}

function processorFigures(before: StackMetrics, after: StackMetrics, signals: number) {
  const invocations = delta(after.invocations, before.invocations, "process");
  const requests = Object.keys(after.dynamodbRequests).reduce(
    (sum, name) => sum + delta(after.dynamodbRequests, before.dynamodbRequests, name),
    0,
  );
  const writes = WRITES.reduce(
    (sum, name) => sum + delta(after.dynamodbRequests, before.dynamodbRequests, name),
    0,
  );
  const batches = Math.max(1, invocations);
  return {
    invocations,
    meanBatch: round((after.queue.processed - before.queue.processed) / batches),
    invocationUsPerSignal: round(
      (delta(after.invocationMs, before.invocationMs, "process") * 1000) / signals,
    ),
    dynamodbRequestsPerBatch: round(requests / batches, 1),
    dynamodbWritesPerBatch: round(writes / batches, 1),
    dynamodbPerBatch: Object.fromEntries(
      Object.keys(after.dynamodbRequests).map((name) => [
        name,
        round(delta(after.dynamodbRequests, before.dynamodbRequests, name) / batches, 1),
      ]),
    ),
  };
}

interface ProfileNode {
  id: number;
  parent?: number;
  children?: number[];
  callFrame: { functionName: string; url: string };
}

/**
 * Stages of the processor side, tried in order against a sample's whole stack (leaf first), so
 * that zod under decoding counts as decoding and the SDK under the store as DynamoDB.
 */
const STAGES: ReadonlyArray<[string, (frame: ProfileNode["callFrame"]) => boolean]> = [
  // The local server's own handling of /local/events: what AWS's SQS and ingest edge do.
  [
    "accept (HTTP, validate, enqueue)",
    (frame) => /localEvents|node:_http_(server|incoming)/.test(frame.functionName + frame.url),
  ],
  ["GC", (frame) => frame.functionName === "(garbage collector)"],
  [
    "decode + validate",
    (frame) =>
      /decodeQueue(Message|Body)|normalizeEvent/.test(frame.functionName) ||
      frame.url.includes("/core/src/signals/"),
  ],
  ["DynamoDB (SDK + adapter)", (frame) => /@smithy|@aws-sdk|packages\/aws\/src/.test(frame.url)],
  [
    "classify + correlate + reduce",
    (frame) => /core\/src\/(incidents|policy|actions)\//.test(frame.url),
  ],
  ["queue emulation", (frame) => frame.url.includes("local/src/queue.ts")],
  // The stack's only HTTP client is the DynamoDB clients'; its server answers the polls.
  [
    "DynamoDB (SDK + adapter)",
    (frame) => /node:_http_(client|agent|outgoing)|node:net/.test(frame.url),
  ],
];

interface Profile {
  file: string;
  byId: Map<number, ProfileNode>;
  parentOf: Map<number, number>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The stack process's main-thread profile, written as it stopped. */
function readProfile(dir: string, stack: RunningStack): Profile | null {
  const file = readdirSync(dir).find((name) => name.includes(`.${stack.process.pid}.0.`));
  if (!file) return null;
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    nodes: ProfileNode[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  return {
    file,
    byId: new Map(profile.nodes.map((node) => [node.id, node])),
    parentOf,
    startTime: profile.startTime,
    samples: profile.samples,
    timeDeltas: profile.timeDeltas,
  };
}

/**
 * CPU between two instants by stage, in µs per signal. Samples are stamped on the monotonic
 * clock this process reads too; idle samples are left out.
 */
function split(
  profile: Profile,
  fromUs: number,
  toUs: number,
  signals: number,
): Record<string, number> {
  const frame = (id: number) => (profile.byId.get(id) as ProfileNode).callFrame;
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    let stage = frame(id).functionName === "(idle)" ? "idle" : "other";
    for (const [name, matches] of stage === "idle" ? [] : STAGES) {
      let at: number | undefined = id;
      while (at !== undefined && !matches(frame(at))) at = profile.parentOf.get(at);
      if (at !== undefined) {
        stage = name;
        break;
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const totals: Record<string, number> = {};
  let at = profile.startTime;
  for (const [index, id] of profile.samples.entries()) {
    const step = profile.timeDeltas[index] ?? 0;
    at += step;
    if (at < fromUs || at > toUs) continue;
    const stage = classify(id);
    if (stage !== "idle") totals[stage] = (totals[stage] ?? 0) + step;
  }
  const all = Object.values(totals).reduce((sum, us) => sum + us, 0);
  return Object.fromEntries(
    [...Object.entries(totals), ["total", all] as const]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => [name, round(us / Math.max(1, signals), 1)]),
  );
}

export function stormLines(result: StormDrain): string[] {
  const { processor } = result;
  const lines = [
    `storm ${result.events} events / ${result.alarms} alarms: accepted in ${result.acceptSeconds} s, processed ${result.drainSeconds} s after the last accept (${result.pendingAtLastAccept} left then); load ${result.loadAverage.join(" ")}`,
    `  processor: ${processor.invocations} invocations, mean batch ${processor.meanBatch}, ${processor.invocationUsPerSignal} µs/signal handler wall time, ${processor.dynamodbRequestsPerBatch} DynamoDB req/batch (${processor.dynamodbWritesPerBatch} writes: ${JSON.stringify(processor.dynamodbPerBatch)}); stack CPU after the last accept ${result.drainCpuUsPerSignal} µs/signal`,
  ];
  if (result.profile) {
    const stages = (figures: Record<string, number>) =>
      Object.entries(figures)
        .map(([name, us]) => `${name} ${us}`)
        .join(", ");
    lines.push(`  profile, whole storm, µs/signal: ${stages(result.profile.wholeRun)}`);
    lines.push(
      `  profile after the last accept, µs/signal: ${stages(result.profile.afterLastAccept)}`,
    );
  }
  return lines;
}

// `tsx bench/storm.ts 10000 50000`: the storms alone, without the rest of the benchmark.
if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  let port = 4600 + Math.floor(Math.random() * 300);
  for (const size of sizes.length ? sizes : [10_000, 50_000]) {
    for (const line of stormLines(await stormDrain(size, port++))) console.log(line);
  }
}
