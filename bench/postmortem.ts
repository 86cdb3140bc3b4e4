/**
 * The post-mortem of a storm, against the proof issue's target: an incident with 10,000 timeline
 * entries reported in at most 250 ms.
 *
 * The incident is written through the real store (`DynamoDbIncidentStore`) to the embedded
 * DynamoDB, in a process of its own as DynamoDB is remote, with its timeline spilled into pages
 * as the processor spills it. Each iteration then does what `GET /incidents/{id}/postmortem`
 * does: (a) reads the incident and its timeline pages back, (b) builds the report and renders
 * it as Markdown and as JSON. The first (cold) call is shown apart; then 3 warm-ups and 20
 * measured iterations. Prints min / median / p99 / max and writes bench/results/postmortem.json.
 *
 *   npx tsx bench/postmortem.ts
 */

import { DynamoDbIncidentStore } from "@firebreak/aws";
import {
  assembleTimeline,
  buildPostmortem,
  type ClassifiedSignal,
  type IncidentRecord,
  IncidentRecordSchema,
  normalizeEvent,
  openIncident,
  Policy,
  parseConfig,
  renderPostmortemMarkdown,
  spillTimeline,
  type TimelineEntry,
} from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { ensureTable, localDynamoDbClient, startEmbeddedDynamoDb } from "@firebreak/local";
import monitoringConfig from "../monitoring.config";
import { percentile, round } from "./load";
import { MACHINE, writeResult } from "./results";

const ENTRIES = 10_000;
const WARMUPS = 3;
const ITERATIONS = 20;
const TARGET_MS = 250;
const TABLE_NAME = "firebreak-bench-postmortem";
const REGION = "us-east-1";
const SECOND = 1000;
const iso = (time: number) => new Date(time).toISOString();

/**
 * A storm as the processor records one: the real alarm fixture opens the incident (policy from
 * monitoring.config.ts), then an entry a second, each a run of signals with a note every 100
 * (so the report merges 100 runs between 99 notes, as the core's storm test does), someone
 * acknowledges after two minutes and the last entry resolves it.
 */
function stormIncident(): { record: IncidentRecord; entries: TimelineEntry[] } {
  const config = parseConfig(monitoringConfig, "monitoring.config.ts");
  const policy = new Policy(config);
  const [signal] = normalizeEvent(loadEvent("cloudwatch/eventbridge-alarm.json"), {
    policy,
    region: REGION,
  }).signals;
  if (!signal) throw new Error("cloudwatch/eventbridge-alarm.json made no signal");
  const { severity, rule } = policy.classify(signal);
  if (severity === "ignore") throw new Error("the policy ignores the sample alarm");
  const classified: ClassifiedSignal = { ...signal, severity, rule: rule?.name ?? null };
  const start = Date.parse(signal.at);
  const opened = openIncident(null, classified, config.incidents, start);

  const entries: TimelineEntry[] = [...opened.timeline];
  const acknowledgedAt = iso(start + 120 * SECOND + 500);
  let total = opened.incident.count;
  for (let index = 1; entries.length < ENTRIES - 1; index++) {
    const at = iso(start + index * SECOND);
    if (index === 120)
      entries.push({ type: "acknowledged", at: acknowledgedAt, by: "slack:steve" });
    if (index % 100 === 0) {
      entries.push({ type: "note", at, by: "api:ops", text: `note ${index}: still throttled` });
      continue;
    }
    total += 2;
    entries.push({
      type: "signals",
      at,
      count: 2,
      firstAt: iso(start + index * SECOND - 500),
      lastAt: at,
      total,
      detail: signal.detail,
    });
  }
  const lastSignalAt = entries.at(-1)?.at ?? signal.at;
  const resolvedAt = iso(Date.parse(lastSignalAt) + 30 * SECOND);
  entries.push({ type: "resolved", at: resolvedAt, by: "slack:steve", reason: "throttle raised" });

  // The store parses every record it reads: a record it would refuse measures nothing.
  const record = IncidentRecordSchema.parse({
    ...opened,
    incident: {
      ...opened.incident,
      status: "resolved",
      count: total,
      lastSeenAt: lastSignalAt,
      acknowledgedAt,
      acknowledgedBy: "slack:steve",
      resolvedAt,
      resolvedBy: "slack:steve",
    },
    signalEntries: entries.filter((entry) => entry.type === "signals").length,
    lastSignalEntryAt: lastSignalAt,
  });
  return { record, entries };
}

/**
 * Writes the incident as the processor would have, entry by entry: the inline tail spills a
 * page whenever it outgrows its limit (`spillTimeline`), and each spill is one versioned save.
 */
async function writeStorm(
  store: DynamoDbIncidentStore,
  { record, entries }: { record: IncidentRecord; entries: TimelineEntry[] },
): Promise<{ pages: number; inline: number }> {
  let current: IncidentRecord = { ...record, version: 1, timeline: entries.slice(0, 1) };
  await store.save(current, null);
  for (const entry of entries.slice(1)) {
    const { record: next, page } = spillTimeline({
      ...current,
      timeline: [...current.timeline, entry],
    });
    current = next;
    if (page) {
      current = { ...current, version: current.version + 1 };
      await store.save(current, page);
    }
  }
  current = { ...current, version: current.version + 1 };
  await store.save(current, null);
  return { pages: current.timelinePages, inline: current.timeline.length };
}

interface Timing {
  getMs: number;
  pagesMs: number;
  readMs: number;
  buildMs: number;
  markdownMs: number;
  jsonMs: number;
  totalMs: number;
}

const stats = (values: number[]) => ({
  min: round(Math.min(...values), 2),
  median: round(percentile(values, 50), 2),
  p99: round(percentile(values, 99), 2),
  max: round(Math.max(...values), 2),
});

const dynamo = await startEmbeddedDynamoDb({ process: "child" });
/** DynamoDB requests by operation, counted by the client (attempts, retries included). */
const requests: Record<string, number> = {};
const client = localDynamoDbClient(dynamo.endpoint, requests);
try {
  await ensureTable(client, TABLE_NAME);
  const store = new DynamoDbIncidentStore({ client, tableName: TABLE_NAME });
  const storm = stormIncident();
  const id = storm.record.incident.id;
  const writeStarted = performance.now();
  const layout = await writeStorm(store, storm);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  console.log(
    `incident ${id}: ${storm.entries.length} timeline entries stored as ${layout.pages} pages ` +
      `and ${layout.inline} inline, in ${round(writeSeconds, 1)} s`,
  );

  const now = iso(Date.now());
  let shape = { lines: 0, markdownKb: 0, jsonKb: 0 };
  /** One `GET /incidents/{id}/postmortem`, both renderings, timed stage by stage. */
  const once = async (): Promise<Timing> => {
    const started = performance.now();
    const stored = await store.get(id);
    if (!stored) throw new Error(`incident ${id} is not in the store`);
    const got = performance.now();
    const timeline = assembleTimeline(stored, await store.getTimelinePages(id));
    const read = performance.now();
    const report = buildPostmortem(stored, timeline, now);
    const built = performance.now();
    const markdown = renderPostmortemMarkdown(report);
    const rendered = performance.now();
    const json = JSON.stringify(report);
    const done = performance.now();
    if (timeline.length !== storm.entries.length) {
      throw new Error(`read ${timeline.length} entries back, wrote ${storm.entries.length}`);
    }
    shape = {
      lines: report.timeline.length,
      markdownKb: round(Buffer.byteLength(markdown) / 1024, 1),
      jsonKb: round(Buffer.byteLength(json) / 1024, 1),
    };
    return {
      getMs: got - started,
      pagesMs: read - got,
      readMs: read - started,
      buildMs: built - read,
      markdownMs: rendered - built,
      jsonMs: done - rendered,
      totalMs: done - started,
    };
  };

  const before = { ...requests };
  const cold = await once();
  const perRead = Object.entries(requests)
    .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
    .filter(([, count]) => count > 0);
  for (let warmup = 1; warmup < WARMUPS; warmup++) await once();
  const timings: Timing[] = [];
  for (let iteration = 0; iteration < ITERATIONS; iteration++) timings.push(await once());

  const stages = [
    "getMs",
    "pagesMs",
    "readMs",
    "buildMs",
    "markdownMs",
    "jsonMs",
    "totalMs",
  ] as const;
  const figures = Object.fromEntries(
    stages.map((stage) => [stage, stats(timings.map((timing) => timing[stage]))]),
  ) as Record<(typeof stages)[number], ReturnType<typeof stats>>;

  console.log(
    `report: ${shape.lines} timeline lines, Markdown ${shape.markdownKb} KB, JSON ${shape.jsonKb} KB; ` +
      `each read: ${perRead.map(([operation, count]) => `${count} ${operation}`).join(", ")}`,
  );
  console.log(
    `\nPost-mortem of ${ENTRIES} entries: the first call, then ${ITERATIONS} calls after ${WARMUPS} warm-ups (the first included), ${MACHINE.cpu}, ${MACHINE.cores} cores, node ${MACHINE.node}\n`,
  );
  const cell = (value: string | number, width = 10) => String(value).padStart(width);
  console.log(
    `${"stage".padEnd(26)}${cell("first")}${cell("min")}${cell("median")}${cell("p99")}${cell("max")}`,
  );
  const labels: Record<(typeof stages)[number], string> = {
    getMs: "(a) get the incident",
    pagesMs: "(a) timeline pages",
    readMs: "(a) read",
    buildMs: "(b) build report",
    markdownMs: "(b) render Markdown",
    jsonMs: "(b) render JSON",
    totalMs: "total (a) + (b)",
  };
  for (const stage of stages) {
    const figure = figures[stage];
    console.log(
      `${labels[stage].padEnd(26)}${cell(round(cold[stage], 2))}${cell(figure.min)}${cell(figure.median)}${cell(figure.p99)}${cell(figure.max)}`,
    );
  }
  const verdict = figures.totalMs.median <= TARGET_MS ? "within" : "over";
  console.log(
    `\nmedian total ${figures.totalMs.median} ms: ${verdict} the ${TARGET_MS} ms target ` +
      `(all times in ms; of ${ITERATIONS} samples, p99 is the slowest)`,
  );

  writeResult("postmortem.json", {
    target: { entries: ENTRIES, totalMs: TARGET_MS },
    incident: {
      entries: storm.entries.length,
      pages: layout.pages,
      inline: layout.inline,
      reportLines: shape.lines,
      markdownKb: shape.markdownKb,
      jsonKb: shape.jsonKb,
    },
    dynamodbRequestsPerRead: Object.fromEntries(perRead),
    warmups: WARMUPS,
    iterations: ITERATIONS,
    firstCallMs: Object.fromEntries(stages.map((stage) => [stage, round(cold[stage], 2)])),
    ms: figures,
  });
  console.log("wrote bench/results/postmortem.json");
} finally {
  client.destroy();
  await dynamo.stop();
}
