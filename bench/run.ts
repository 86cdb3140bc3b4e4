import { availableParallelism } from "node:os";
import { signSlackRequest } from "@firebreak/core";
import { loadRawEvent } from "@firebreak/events";
import type { FunctionName } from "../stacks/topology";
import { type CostPerMillion, costLines, costPerMillion, type UsageCounts } from "./cost";
import { localEventJobs, logsEvents, sentryJobs, stormEvents } from "./generators";
import { compareIngest, type IngestComparison, ingestLines } from "./ingest";
import { drive, type Job, percentile, round } from "./load";
import {
  BENCH_SLACK_SECRET,
  BENCH_TOKEN,
  drained,
  type RunningStack,
  startStack,
} from "./local-stack";
import { alarmToFirstPage, type PageLatency, pageStormJobs } from "./page-latency";
import { MACHINE, writeResult } from "./results";
import { type StormDrain, stormDrain, stormLines } from "./storm";

const quick = process.argv.includes("--quick");
const only = process.argv[process.argv.indexOf("--only") + 1];
const runs = (part: string) => !process.argv.includes("--only") || only === part;
const scale = quick ? 0.1 : 1;
const CLIENTS = 16;
const BATCH = 100;
let nextPort = 4100 + Math.floor(Math.random() * 500);

interface FirebreakResult {
  scenario: string;
  form: "single" | "batched";
  events: number;
  requests: number;
  acceptedPerSecond: number;
  processedPerSecond: number;
  latencyMs: { median: number; p99: number; samples: number } | null;
  incidents: number;
  pages: number;
  pagesPerIncident: number;
  dynamodbRequestsPerEvent: number;
  dynamodbWritesPerEvent: number;
  lambdaInvocationsPerEvent: number;
  peakMemoryMb: { stack: number; dynamodb: number };
  /**
   * CPU time per event from the first request to drained, by process: the stack, its embedded
   * DynamoDB and this load generator (with its probes and polling). `ceilingPerSecond` is what
   * the machine's cores allow at that cost, the physical limit of the run's processed rate. Null
   * where /proc is not there to read the stack's CPU from.
   */
  cpu: { stackMs: number; dynamodbMs: number; loadMs: number; ceilingPerSecond: number } | null;
  /** What the run used, for dollars per million signals. */
  usage: UsageCounts;
}

const CORES = availableParallelism();

/** CPU per event by process, and the rate the machine's cores allow at that cost. */
function cpuPerEvent(
  totalMs: { stackMs: number; dynamodbMs: number; loadMs: number },
  events: number,
): FirebreakResult["cpu"] {
  // The stack cannot have run on no CPU: it was not read.
  if (totalMs.stackMs <= 0) return null;
  const per = (ms: number) => round(ms / Math.max(1, events), 3);
  const all = totalMs.stackMs + totalMs.dynamodbMs + totalMs.loadMs;
  return {
    stackMs: per(totalMs.stackMs),
    dynamodbMs: per(totalMs.dynamodbMs),
    loadMs: per(totalMs.loadMs),
    ceilingPerSecond: round((CORES * 1000 * events) / all),
  };
}

/** The API token: the incidents API and the local routes that show payloads want it. */
const BENCH_AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };

/**
 * Distinct incidents listed. Counted by id: the sweep may resolve an incident while the listing
 * pages through the open ones, and it then shows again among the resolved.
 */
async function paged(stack: RunningStack, path: string): Promise<number> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const answer = await stack.client.request(
      "GET",
      `${path}?limit=200${query}`,
      undefined,
      BENCH_AUTH,
    );
    const page = JSON.parse(answer.body) as {
      items: Array<{ id: string }>;
      nextCursor: string | null;
    };
    for (const { id } of page.items) ids.add(id);
    cursor = page.nextCursor;
  } while (cursor);
  return ids.size;
}

/**
 * One scenario in one form on a fresh stack: drive the load with CLIENTS connections, meanwhile
 * probe request-to-incident latency with single `?wait=true` requests on one more connection.
 */
async function firebreak(
  scenario: string,
  form: "single" | "batched",
  jobs: Job[],
  probes: Job[],
): Promise<FirebreakResult> {
  const stack = await startStack(nextPort++);
  try {
    const baseline = await stack.metrics();
    const latencies: number[] = [];
    let loading = true;
    const probing = (async () => {
      for (const probe of probes) {
        if (!loading) break;
        const started = performance.now();
        const answer = await stack.client.request(
          "POST",
          `${probe.path}?wait=true`,
          probe.body,
          probe.headers,
        );
        if (answer.status >= 300) throw new Error(`probe: HTTP ${answer.status} ${answer.body}`);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // When the load fails, its error is the one to report: the probe in flight then fails as the
    // stack stops, which must not end the run first as an unhandled rejection.
    probing.catch(() => undefined);
    const started = performance.now();
    const cpuBefore = { ...stack.cpuMs(), load: process.cpuUsage() };
    const acceptMs = await drive(stack.client, jobs, CLIENTS, 202).finally(() => {
      loading = false;
    });
    await probing;
    const metrics = await drained(stack);
    const processedMs = performance.now() - started;
    const cpuAfter = stack.cpuMs();
    const loadCpu = process.cpuUsage(cpuBefore.load);

    const perProbe = probes[0]?.events ?? 1;
    const events = jobs.reduce((sum, job) => sum + job.events, 0) + latencies.length * perProbe;
    const requests = Object.fromEntries(
      Object.entries(metrics.dynamodbRequests).map(([name, count]) => [
        name,
        count - (baseline.dynamodbRequests[name] ?? 0),
      ]),
    );
    const total = Object.values(requests).reduce((sum, count) => sum + count, 0);
    const count = (names: string[]) => names.reduce((sum, name) => sum + (requests[name] ?? 0), 0);
    const writes = count(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);
    const incidents = await paged(stack, "/incidents");
    const outbox = JSON.parse(
      (await stack.client.request("GET", "/local/outbox", undefined, BENCH_AUTH)).body,
    ) as {
      items: unknown[];
    };
    const invoked = (name: string) =>
      (metrics.invocations[name] ?? 0) - (baseline.invocations[name] ?? 0);
    // What runs per signal on AWS; the API and the escalation sweep (a schedule) are left out.
    const billed: FunctionName[] = ["ingest", "sentry-webhook", "process", "dispatch"];
    const lambdaInvocations = billed.reduce((sum, name) => sum + invoked(name), 0);
    const ranMs = (name: string) =>
      (metrics.invocationMs[name] ?? 0) - (baseline.invocationMs[name] ?? 0);
    const usage: UsageCounts = {
      signals: events,
      httpRequests: jobs[0]?.path.startsWith("/webhooks/") ? jobs.length + latencies.length : 0,
      invocations: Object.fromEntries(billed.map((name) => [name, invoked(name)])),
      invocationMs: Object.fromEntries(billed.map((name) => [name, ranMs(name)])),
      dynamodb: {
        readUnits: metrics.dynamodbUnits.read - baseline.dynamodbUnits.read,
        writeUnits: metrics.dynamodbUnits.write - baseline.dynamodbUnits.write,
      },
      sqs: {
        sent: metrics.queue.sent - baseline.queue.sent,
        batches: metrics.queue.batches - baseline.queue.batches,
      },
      pages: outbox.items.length,
    };
    const result: FirebreakResult = {
      scenario,
      form,
      events,
      requests: jobs.length + latencies.length,
      acceptedPerSecond: round((jobs.reduce((sum, job) => sum + job.events, 0) / acceptMs) * 1000),
      processedPerSecond: round((events / processedMs) * 1000),
      latencyMs: latencies.length
        ? {
            median: round(percentile(latencies, 50), 1),
            p99: round(percentile(latencies, 99), 1),
            samples: latencies.length,
          }
        : null,
      incidents,
      pages: outbox.items.length,
      pagesPerIncident: round(outbox.items.length / Math.max(1, incidents), 2),
      dynamodbRequestsPerEvent: round(total / events, 4),
      dynamodbWritesPerEvent: round(writes / events, 4),
      lambdaInvocationsPerEvent: round(lambdaInvocations / events, 4),
      peakMemoryMb: stack.peakMemoryMb(),
      cpu: cpuPerEvent(
        {
          stackMs: cpuAfter.stack - cpuBefore.stack,
          dynamodbMs: cpuAfter.dynamodb - cpuBefore.dynamodb,
          loadMs: (loadCpu.user + loadCpu.system) / 1000,
        },
        events,
      ),
      usage,
    };
    console.log(
      `${scenario.padEnd(8)} ${form.padEnd(7)} ${String(result.acceptedPerSecond).padStart(6)} ev/s accepted, ${String(result.processedPerSecond).padStart(6)} ev/s processed, ` +
        `latency p50 ${result.latencyMs?.median ?? "-"} ms p99 ${result.latencyMs?.p99 ?? "-"} ms (${result.latencyMs?.samples ?? 0} probes), ${incidents} incidents, ${result.pages} pages, ` +
        `${result.dynamodbWritesPerEvent} writes/ev, ${result.dynamodbRequestsPerEvent} DynamoDB req/ev, ${result.lambdaInvocationsPerEvent} Lambda inv/ev, ` +
        `peak ${result.peakMemoryMb.stack}+${result.peakMemoryMb.dynamodb} MB`,
    );
    const { cpu } = result;
    console.log(
      `${"".padEnd(17)}CPU per event: ${cpu ? `stack ${cpu.stackMs} ms, DynamoDB ${cpu.dynamodbMs} ms, load generator ${cpu.loadMs} ms; ${CORES} cores allow ${cpu.ceilingPerSecond} ev/s at that cost` : "not measured (no /proc)"}`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

interface SlackResult {
  commands: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The slash command's response time: signed `/incident` commands one after another, as people
 * type them (list, show, acknowledge, note), on a stack holding 50 open incidents.
 */
async function slackCommands(): Promise<SlackResult> {
  const stack = await startStack(nextPort++);
  try {
    const opened = await stack.client.request(
      "POST",
      "/local/events?wait=true",
      JSON.stringify(stormEvents(50, 50)),
    );
    const { incidents } = JSON.parse(opened.body) as { incidents: string[] };
    const texts = incidents.flatMap((id) => [
      "list",
      `show ${id}`,
      `ack ${id}`,
      `note ${id} looking at the writer`,
    ]);
    const times: number[] = [];
    for (const [index, text] of texts.entries()) {
      const body = new URLSearchParams({
        command: "/incident",
        text,
        user_id: "U012AB3CD",
        user_name: "bench",
        team_id: "T0001",
        channel_id: "C0001",
        response_url: "https://hooks.slack.com/commands/T0001/1/abc",
        trigger_id: `${index}.bench`,
      }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const started = performance.now();
      const answer = await stack.client.request("POST", "/slack/commands", body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signSlackRequest(BENCH_SLACK_SECRET, timestamp, body),
      });
      times.push(performance.now() - started);
      if (answer.status !== 200) throw new Error(`slack: HTTP ${answer.status} ${answer.body}`);
    }
    const result = {
      commands: times.length,
      medianMs: round(percentile(times, 50), 1),
      p99Ms: round(percentile(times, 99), 1),
      maxMs: round(Math.max(...times), 1),
    };
    console.log(
      `slack    ${result.commands} commands (list, show, ack, note): median ${result.medianMs} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

interface ResponsesResult {
  alarms: number;
  toScaleCallMs: number;
  toPageMs: { median: number; max: number };
}

/**
 * Alarm to response, with the repository's own policy out of dry run (bench/responses.config.ts):
 * an `*5xx*` alarm scales an ECS service out (simulated) and pages oncall. Ten incidents one after
 * another, each alarm resolved by its OK before the next: the first scales, the others are held
 * by the cooldown or, flapping, for a person, and page. Timed from sending the event until the call and the page
 * show in /local/aws and /local/outbox (polled every 2 ms).
 */
async function responses(): Promise<ResponsesResult> {
  const stack = await startStack(nextPort++, { MONITORING_CONFIG: "bench/responses.config.ts" });
  const get = async <T>(path: string) =>
    JSON.parse((await stack.client.request("GET", path, undefined, BENCH_AUTH)).body) as T;
  const until = async (what: string, done: () => Promise<boolean>) => {
    const deadline = performance.now() + 60_000;
    while (!(await done())) {
      if (performance.now() > deadline) throw new Error(`responses: no ${what} within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  try {
    const template = JSON.parse(loadRawEvent("cloudwatch/sns-lambda-single-metric.json")) as {
      Records: Array<{ Sns: { MessageId: string; Message: string } }>;
    };
    let toScaleCallMs = 0;
    const toPage: number[] = [];
    let sends = 0;
    /** The alarm's state change through SNS, as CloudWatch sends it, timed now. */
    const send = async (state: "ALARM" | "OK") => {
      const event = structuredClone(template);
      const record = event.Records[0] as { Sns: { MessageId: string; Message: string } };
      const message = JSON.parse(record.Sns.Message) as Record<string, unknown>;
      Object.assign(message, {
        NewStateValue: state,
        OldStateValue: state === "OK" ? "ALARM" : "OK",
        StateChangeTime: new Date().toISOString().replace("Z", "+0000"),
      });
      record.Sns.Message = JSON.stringify(message);
      record.Sns.MessageId = `00000000-0000-4000-8000-${String(sends++).padStart(12, "0")}`;
      const sent = await stack.client.request("POST", "/local/events", JSON.stringify(event));
      if (sent.status !== 202) throw new Error(`responses: HTTP ${sent.status} ${sent.body}`);
    };
    // Incidents paged, in order: a flapping incident's page that its remediation is held for a
    // person is a second page of the same incident.
    const pages = async () => [
      ...new Set(
        (await get<{ items: Array<{ kind: string; incidentId: string }> }>("/local/outbox")).items
          .filter((item) => item.kind === "page")
          .map((item) => item.incidentId),
      ),
    ];
    // The service's alarms join one incident, which pages once: each round opens a new incident
    // (the alarm, then its OK resolving it), so every alarm is a first page. From the third
    // round the alarm is flapping, which holds the scale-out for a person as the cooldown would.
    for (let index = 0; index < 10; index++) {
      const started = performance.now();
      await send("ALARM");
      if (index === 0) {
        await until("scale-out call", async () =>
          (await get<{ calls: Array<{ changes: boolean }> }>("/local/aws")).calls.some(
            (call) => call.changes,
          ),
        );
        toScaleCallMs = performance.now() - started;
      }
      await until(`page ${index + 1}`, async () => (await pages()).length > index);
      toPage.push(performance.now() - started);
      const incident = (await pages())[index] as string;
      await send("OK");
      await until(
        `resolution of ${incident}`,
        async () => (await get<{ status: string }>(`/incidents/${incident}`)).status === "resolved",
      );
    }
    const result = {
      alarms: toPage.length,
      toScaleCallMs: round(toScaleCallMs, 1),
      toPageMs: { median: round(percentile(toPage, 50), 1), max: round(Math.max(...toPage), 1) },
    };
    console.log(
      `responses alarm to scale-out call ${result.toScaleCallMs} ms; alarm to page median ${result.toPageMs.median} ms, max ${result.toPageMs.max} ms (${result.alarms} alarms)`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

async function main() {
  const results: FirebreakResult[] = [];
  const stormCount = Math.round(10_000 * scale);
  if (runs("storm")) {
    const probes = localEventJobs(stormEvents(200, 50), 1);
    const single = localEventJobs(stormEvents(stormCount, 50), 1);
    results.push(await firebreak("storm", "single", single, probes));
    const batched = localEventJobs(stormEvents(stormCount, 50), BATCH);
    results.push(await firebreak("storm", "batched", batched, probes));
  }
  // Issue 15's storm target, at its own sizes whatever the scale: 10,000 and 50,000 events.
  const storms: StormDrain[] = [];
  if (runs("storm")) {
    for (const size of [10_000, 50_000]) {
      const storm = await stormDrain(size, nextPort++);
      for (const line of stormLines(storm)) console.log(line);
      storms.push(storm);
    }
  }
  if (runs("distinct")) {
    // Probes are issues of their own, so each opens an incident as the load's do.
    const probes = sentryJobs(200, 1_000_000);
    results.push(
      await firebreak("distinct", "single", sentryJobs(Math.round(5000 * scale)), probes),
    );
  }
  if (runs("logs")) {
    // Log events count as lines: 50 per subscription batch, one ingest invocation each.
    const batches = Math.round(1000 * scale);
    const probes = localEventJobs(logsEvents(100, 50), 1, 50);
    const single = localEventJobs(logsEvents(batches, 50), 1, 50);
    results.push(await firebreak("logs", "single", single, probes));
    const batched = localEventJobs(logsEvents(batches, 50), 10, 50);
    results.push(await firebreak("logs", "batched", batched, probes));
  }

  const slack = runs("slack") ? await slackCommands() : null;
  const response = runs("responses") ? await responses() : null;

  const ingest = runs("ingest") ? await ingestComparison(stormCount) : null;
  const pages = runs("pages") ? await firstPages(stormCount) : null;

  // Dollars per million signals, from the storm (one per request) and distinct runs' counts.
  const costs: Array<{ shape: string; cost: CostPerMillion }> = [];
  const storm = results.find((result) => result.scenario === "storm" && result.form === "single");
  const distinct = results.find((result) => result.scenario === "distinct");
  if (storm) costs.push({ shape: "storm-shaped (50 alarms)", cost: costPerMillion(storm.usage) });
  if (distinct) {
    costs.push({
      shape: "distinct-shaped (new Sentry issues)",
      cost: costPerMillion(distinct.usage),
    });
  }
  if (costs.length) for (const line of costLines(costs)) console.log(line);

  const report = {
    at: new Date().toISOString(),
    quick,
    machine: MACHINE,
    clients: CLIENTS,
    results,
    storms,
    slack,
    responses: response,
    ingest,
    pages,
    costs,
  };
  writeResult("latest.json", report);
  writeResult("latest.md", markdown(report));
  console.log("written: bench/results/latest.json, bench/results/latest.md");
}

/** Ingest side by side (bare Node, Alertmanager, Firebreak) with the storm's events. */
async function ingestComparison(count: number): Promise<IngestComparison> {
  const result = await compareIngest({
    count,
    clients: CLIENTS,
    perRequest: BATCH,
    port: () => nextPort++,
  });
  for (const line of ingestLines(result)) console.log(line);
  return result;
}

interface FirstPages {
  alone: PageLatency;
  inStorm: PageLatency & { stormEvents: number };
}

/** Alarm to first page, alone on an idle stack and during a storm, each on a fresh stack. */
async function firstPages(stormCount: number): Promise<FirstPages> {
  const quiet = await startStack(nextPort++);
  let alone: PageLatency;
  try {
    alone = await alarmToFirstPage(quiet, { probes: quick ? 10 : 30, label: "alone" });
  } finally {
    await quiet.stop();
  }
  const busy = await startStack(nextPort++);
  let inStorm: PageLatency;
  try {
    inStorm = await alarmToFirstPage(busy, {
      probes: quick ? 10 : 50,
      label: "storm",
      storm: pageStormJobs(stormCount),
      clients: CLIENTS,
    });
  } finally {
    await busy.stop();
  }
  const line = (name: string, figure: PageLatency) =>
    `alarm to first page, ${name}: p50 ${figure.p50Ms} ms, p99 ${figure.p99Ms} ms, max ${figure.maxMs} ms (${figure.probes} alarms)`;
  console.log(line("alone", alone));
  console.log(line(`in a storm of ${stormCount} events`, inStorm));
  return { alone, inStorm: { ...inStorm, stormEvents: stormCount } };
}

function markdown(report: {
  at: string;
  machine: typeof MACHINE;
  results: FirebreakResult[];
  storms: StormDrain[];
  slack: SlackResult | null;
  responses: ResponsesResult | null;
  ingest: IngestComparison | null;
  pages: FirstPages | null;
  costs: Array<{ shape: string; cost: CostPerMillion }>;
}): string {
  const lines = [
    `Measured ${report.at} on ${report.machine.cores} × ${report.machine.cpu}, ${report.machine.memoryGb} GB, Node ${report.machine.node}; ${CLIENTS} clients over HTTP keep-alive.`,
    "",
    "| scenario | form | events | accepted ev/s | processed ev/s | latency p50 / p99 ms (probes) | incidents | pages | DynamoDB writes/ev | DynamoDB req/ev | Lambda inv/ev | peak MB (stack + db) | CPU ms/ev (stack + db + load) | cores allow ev/s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...report.results.map(
      (result) =>
        `| ${result.scenario} | ${result.form} | ${result.events} | ${result.acceptedPerSecond} | ${result.processedPerSecond} | ${result.latencyMs ? `${result.latencyMs.median} / ${result.latencyMs.p99} (${result.latencyMs.samples})` : "-"} | ${result.incidents} | ${result.pages} | ${result.dynamodbWritesPerEvent} | ${result.dynamodbRequestsPerEvent} | ${result.lambdaInvocationsPerEvent} | ${result.peakMemoryMb.stack} + ${result.peakMemoryMb.dynamodb} | ${result.cpu ? `${result.cpu.stackMs} + ${result.cpu.dynamodbMs} + ${result.cpu.loadMs} | ${result.cpu.ceilingPerSecond}` : "- | -"} |`,
    ),
    "",
  ];
  if (report.storms.length) lines.push("```", ...report.storms.flatMap(stormLines), "```", "");
  if (report.ingest) lines.push("```", ...ingestLines(report.ingest), "```", "");
  if (report.pages) {
    const { alone, inStorm } = report.pages;
    lines.push(
      `Alarm to first page: alone p50 ${alone.p50Ms} ms, p99 ${alone.p99Ms} ms (${alone.probes} alarms); in a storm of ${inStorm.stormEvents} events p50 ${inStorm.p50Ms} ms, p99 ${inStorm.p99Ms} ms (${inStorm.probes} alarms).`,
      "",
    );
  }
  if (report.costs.length) lines.push("```", ...costLines(report.costs), "```", "");
  if (report.slack) {
    lines.push(
      `Slack slash command, ${report.slack.commands} signed commands one after another (list, show, ack, note): median ${report.slack.medianMs} ms, p99 ${report.slack.p99Ms} ms, max ${report.slack.maxMs} ms (Slack allows 3 s).`,
      "",
    );
  }
  if (report.responses) {
    lines.push(
      `Alarm to response (the repository's policy, ${report.responses.alarms} alarms): scale-out call ${report.responses.toScaleCallMs} ms; page median ${report.responses.toPageMs.median} ms, max ${report.responses.toPageMs.max} ms.`,
      "",
    );
  }
  return `${lines.join("\n")}\n`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
