import { type ChildProcess, spawn } from "node:child_process";
import {
  alertJobs,
  alertmanagerVersion,
  findAlertmanager,
  startAlertmanager,
} from "./alertmanager";
import { localEventJobs, stormEvents } from "./generators";
import { drive, type Job, LoadClient, round } from "./load";
import { cpuOf, startStack } from "./local-stack";

/**
 * The floor of any Node ingest path: a server in a process of its own that reads the body,
 * parses the JSON and answers 202 with the count, on keep-alive connections as Firebreak's does.
 */
const BARE_NODE_SERVER = `
const http = require("node:http");
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const body = JSON.stringify({ accepted: Array.isArray(parsed) ? parsed.length : 1 });
    response.writeHead(202, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.argv[1]), "127.0.0.1", () => process.send("ready"));
`;

async function startBareNode(
  port: number,
): Promise<{ process: ChildProcess; client: LoadClient; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ["-e", BARE_NODE_SERVER, String(port)], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`the bare Node server exited with ${code}`)));
  });
  const client = new LoadClient("127.0.0.1", port, 32);
  return {
    process: child,
    client,
    async stop() {
      client.close();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface IngestRates {
  /** Events accepted per second, one event per request. */
  single: number;
  /** Events accepted per second, `BATCH` events per request. */
  batched: number;
  /**
   * The server's CPU time (user + system, all its processes and threads) per event accepted,
   * in µs, over each measurement: what each event costs the cores the load generator shares.
   * 0 where /proc is not there to read it.
   */
  cpuUsPerEvent: { single: number; batched: number };
}

export interface IngestComparison {
  events: number;
  clients: number;
  perRequest: number;
  bareNode: IngestRates;
  alertmanager: (IngestRates & { version: string }) | { unavailable: string };
  /** `POST /local/events` on a fresh stack with a DATA_DIR on disk: 202 once journaled. */
  firebreak: IngestRates;
  /** The same with DATA_DIR=memory (no journal). */
  firebreakInMemory: IngestRates;
  ratioToBareNode: {
    single: number;
    batched: number;
    inMemorySingle: number;
    inMemoryBatched: number;
  };
}

/**
 * Rate of a server over the same jobs, after a short warm-up on the same connections, and the
 * server's CPU per event meanwhile (`serverCpuMs` reads its processes' CPU time so far).
 */
async function rate(
  client: LoadClient,
  jobs: Job[],
  clients: number,
  expect: number,
  serverCpuMs: () => number,
): Promise<{ perSecond: number; cpuUsPerEvent: number }> {
  const warmUp = jobs.slice(0, Math.min(jobs.length, clients * 4));
  await drive(client, warmUp, clients, expect);
  const events = jobs.reduce((sum, job) => sum + job.events, 0);
  const cpuBefore = serverCpuMs();
  const ms = await drive(client, jobs, clients, expect);
  return {
    perSecond: (events / ms) * 1000,
    cpuUsPerEvent: ((serverCpuMs() - cpuBefore) * 1000) / events,
  };
}

/** A server's rates and CPU per event, one per request and `perRequest` per request. */
async function rates(
  measure: (jobs: Job[]) => Promise<{ perSecond: number; cpuUsPerEvent: number }>,
  single: Job[],
  batched: Job[],
): Promise<IngestRates> {
  const one = await measure(single);
  const many = await measure(batched);
  return {
    single: one.perSecond,
    batched: many.perSecond,
    cpuUsPerEvent: { single: one.cpuUsPerEvent, batched: many.cpuUsPerEvent },
  };
}

/**
 * Ingest side by side, in one run on one machine: a bare Node server, Alertmanager (when its
 * binary is on PATH) and Firebreak's `POST /local/events`, each driven by `clients` keep-alive
 * connections with a storm of `count` alarm events over 50 alarms, one per request and then
 * `perRequest` per request. Firebreak's rate counts accepted events (202); its processing runs
 * meanwhile, as it would.
 */
export async function compareIngest(options: {
  count: number;
  clients: number;
  perRequest: number;
  port: () => number;
}): Promise<IngestComparison> {
  const { count, clients, perRequest } = options;
  const events = stormEvents(count, 50);
  const single = localEventJobs(events, 1);
  const batched = localEventJobs(events, perRequest);

  const bare = await startBareNode(options.port());
  let bareNode: IngestRates;
  try {
    const bareCpu = () => cpuOf(bare.process.pid);
    bareNode = await rates(
      (jobs) => rate(bare.client, jobs, clients, 202, bareCpu),
      single,
      batched,
    );
  } finally {
    await bare.stop();
  }

  const binary = findAlertmanager();
  let alertmanager: IngestComparison["alertmanager"] = {
    unavailable: "no alertmanager or prometheus-alertmanager on PATH",
  };
  if (binary) {
    const am = await startAlertmanager(binary, options.port());
    try {
      const amCpu = () => cpuOf(am.process.pid);
      alertmanager = {
        version: alertmanagerVersion(binary),
        ...(await rates(
          (jobs) => rate(am.client, jobs, clients, 200, amCpu),
          alertJobs(count, 50, 1),
          alertJobs(count, 50, perRequest),
        )),
      };
    } finally {
      await am.stop();
    }
  }

  const firebreakRates = async (extraEnv: Record<string, string>): Promise<IngestRates> => {
    // A fresh stack per form: the first form's backlog would slow the second's accepts.
    const measure = async (jobs: Job[]) => {
      const stack = await startStack(options.port(), extraEnv);
      const stackCpu = () => {
        const { stack: own, dynamodb } = stack.cpuMs();
        return own + dynamodb;
      };
      try {
        return await rate(stack.client, jobs, clients, 202, stackCpu);
      } finally {
        await stack.stop();
      }
    };
    return rates(measure, single, batched);
  };
  const firebreak = await firebreakRates({});
  const firebreakInMemory = await firebreakRates({ DATA_DIR: "memory" });

  const ratio = (value: number, floor: number) => round(value / floor, 2);
  const rounded = (rates: IngestRates): IngestRates => ({
    single: round(rates.single),
    batched: round(rates.batched),
    cpuUsPerEvent: {
      single: round(rates.cpuUsPerEvent.single),
      batched: round(rates.cpuUsPerEvent.batched),
    },
  });
  return {
    events: count,
    clients,
    perRequest,
    bareNode: rounded(bareNode),
    alertmanager:
      "unavailable" in alertmanager
        ? alertmanager
        : { version: alertmanager.version, ...rounded(alertmanager) },
    firebreak: rounded(firebreak),
    firebreakInMemory: rounded(firebreakInMemory),
    ratioToBareNode: {
      single: ratio(firebreak.single, bareNode.single),
      batched: ratio(firebreak.batched, bareNode.batched),
      inMemorySingle: ratio(firebreakInMemory.single, bareNode.single),
      inMemoryBatched: ratio(firebreakInMemory.batched, bareNode.batched),
    },
  };
}

/** The comparison as the benchmark prints it. */
export function ingestLines(result: IngestComparison): string[] {
  const am = result.alertmanager;
  // A server cannot have run on no CPU: 0 means /proc was not there to read it.
  const cpu = (us: number) => (us > 0 ? String(us) : "-");
  const row = (name: string, rates: IngestRates, ratio?: string) =>
    `${name.padEnd(44)} ${String(rates.single).padStart(8)} ev/s ${String(rates.batched).padStart(9)} ev/s   ${cpu(rates.cpuUsPerEvent.single).padStart(5)} | ${cpu(rates.cpuUsPerEvent.batched).padStart(4)} µs${ratio ?? ""}`;
  return [
    `ingest: ${result.events} storm events, ${result.clients} clients, one per request | ${result.perRequest} per request; server CPU per event (Firebreak's: the stack and its DynamoDB, processing included)`,
    row("bare Node (parse JSON, answer 202)", result.bareNode),
    "unavailable" in am
      ? `${"Alertmanager".padEnd(44)} not measured: ${am.unavailable}`
      : row(`Alertmanager ${am.version} (in memory)`, am),
    row(
      "Firebreak POST /local/events (journaled)",
      result.firebreak,
      `   ${result.ratioToBareNode.single} | ${result.ratioToBareNode.batched} of bare Node`,
    ),
    row(
      "Firebreak POST /local/events (DATA_DIR=memory)",
      result.firebreakInMemory,
      `   ${result.ratioToBareNode.inMemorySingle} | ${result.ratioToBareNode.inMemoryBatched} of bare Node`,
    ),
  ];
}
