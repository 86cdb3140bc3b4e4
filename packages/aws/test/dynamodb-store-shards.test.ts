import {
  type ActionRecord,
  type IncidentQuery,
  type IncidentRecord,
  type IncidentStore,
  type MonitoringConfig,
  nextDueAt,
  sweep,
  sweepIncident,
} from "@firebreak/core";
import { aConfig, aRecord, MemoryIncidentStore, manualClock } from "@firebreak/core/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbIncidentStore, SHARDS, shardOf } from "../src";

const T = Date.parse("2026-11-22T12:00:00.000Z");
const MINUTE = 60_000;
const iso = (time: number) => new Date(time).toISOString();
/** Property runs each write a fresh table: a busy machine may take a while, never forever. */
const PROPERTY_TIMEOUT = 180_000;

let dynamo: EmbeddedDynamoDb;
let tables = 0;
const clock = manualClock(T);

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

async function dynamoStore(config: MonitoringConfig): Promise<DynamoDbIncidentStore> {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `shards-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbIncidentStore({ client, tableName, config, clock });
}

const config = aConfig({
  channels: {
    oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" },
    managers: { sns: "arn:aws:sns:us-east-1:123456789012:managers" },
  },
  escalation: { repeatAfter: "5m", maxRepeats: 2, channels: ["oncall", "managers"] },
  incidents: { autoResolve: { logs: "30m", sentry: "2h" } },
});

describe("listing across shards", () => {
  const dynamoRecords = new Map<string, IncidentRecord>();
  let store: DynamoDbIncidentStore;
  let oracle: MemoryIncidentStore;

  beforeAll(async () => {
    store = await dynamoStore(config);
    oracle = new MemoryIncidentStore({ config, clock });
    // 120 incidents over 20 distinct first-seen times, so equal times are common.
    for (let index = 0; index < 120; index++) {
      const record = aRecord({
        fingerprint: `fp:shards:${index}`,
        at: iso(T - (index % 20) * MINUTE),
        source: (["cloudwatch", "logs", "sentry"] as const)[index % 3],
        severity: (["critical", "warning", "info"] as const)[index % 4 === 0 ? 0 : (index % 2) + 1],
      });
      const status = (["triggered", "acknowledged", "resolved"] as const)[index % 3];
      const next = structuredClone(record);
      Object.assign(next.incident, {
        status,
        resolvedAt: status === "resolved" ? iso(T) : null,
        resolvedBy: status === "resolved" ? "api:test" : null,
      });
      next.version = 2;
      for (const target of [store, oracle] as IncidentStore[]) {
        await target.save(record, null);
        await target.save(next, null);
      }
      dynamoRecords.set(next.incident.id, next);
    }
  });

  it("spreads incidents over every shard", () => {
    const counts = new Array<number>(SHARDS).fill(0);
    for (const id of dynamoRecords.keys()) counts[shardOf(id)] = (counts[shardOf(id)] ?? 0) + 1;
    expect(counts.every((count) => count > 0)).toBe(true);
  });

  const QueryArbitrary = fc.record(
    {
      status: fc.constantFrom("open", "triggered", "acknowledged", "resolved"),
      severity: fc.constantFrom("critical", "warning", "info"),
      source: fc.constantFrom("cloudwatch", "logs", "sentry"),
      since: fc.integer({ min: 0, max: 19 }).map((minutes) => iso(T - minutes * MINUTE)),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Omit<IncidentQuery, "limit" | "cursor">>;

  it(
    "property: any sequence of pages concatenates to the whole list, newest first, each page exactly full",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          QueryArbitrary,
          fc.array(fc.integer({ min: 1, max: 45 }), { minLength: 1, maxLength: 6 }),
          async (filter, limits) => {
            const expected = (await oracle.list({ ...filter, limit: 1000 })).items.map(
              (item) => item.id,
            );
            const seen: string[] = [];
            let cursor: string | undefined;
            for (let page = 0; ; page++) {
              const limit = limits[page % limits.length] as number;
              const result = await store.list({ ...filter, limit, cursor });
              // Only the last page may be short: `limit` is exact.
              if (result.nextCursor) expect(result.items).toHaveLength(limit);
              else expect(result.items.length).toBeLessThanOrEqual(limit);
              seen.push(...result.items.map((item) => item.id));
              if (!result.nextCursor) break;
              cursor = result.nextCursor;
            }
            expect(new Set(seen).size).toBe(seen.length);
            expect(seen).toEqual(expected);
          },
        ),
        { numRuns: 30 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it("resumes from a cursor whose last incident has since moved to another group", async () => {
    const moving = await dynamoStore(config);
    const ids: string[] = [];
    for (let index = 0; index < 24; index++) {
      const record = aRecord({ fingerprint: `fp:moving:${index}`, at: iso(T - index * MINUTE) });
      await moving.save(record, null);
      ids.push(record.incident.id);
    }
    const first = await moving.list({ limit: 5, status: "open" });
    const last = first.items.at(-1)?.id as string;
    const record = (await moving.get(last)) as IncidentRecord;
    const resolved = structuredClone(record);
    Object.assign(resolved.incident, { status: "resolved", resolvedAt: iso(T), resolvedBy: "x" });
    resolved.version += 1;
    await moving.save(resolved, null);
    const rest = await moving.list({
      limit: 100,
      status: "open",
      cursor: first.nextCursor as string,
    });
    expect([...first.items, ...rest.items].map((item) => item.id)).toEqual(ids);
  });
});

/** An action as the planner records it, with what decides whether it is stuck. */
function anAction(
  id: string,
  status: ActionRecord["status"],
  plannedAt: number,
  notBefore: number | null,
  claimUntil: number | null,
): ActionRecord {
  return {
    id,
    type: "page",
    rule: null,
    spec: {},
    targetKey: "page:oncall",
    trigger: "opened",
    status,
    reason: null,
    plannedAt: iso(plannedAt),
    at: iso(plannedAt),
    dryRun: false,
    requests: [],
    before: null,
    attempts: 0,
    notBefore: notBefore === null ? null : iso(notBefore),
    claim: claimUntil === null ? null : { token: "t", until: iso(claimUntil) },
    approvedBy: null,
    followUp: null,
    page: null,
  };
}

/** Minutes either side of T, with a few exact boundaries (the 5-minute stuck rule, 30m, 2h). */
const Offset = fc.oneof(
  fc.integer({ min: -200, max: 60 }).map((minutes) => minutes * MINUTE),
  fc.constantFrom(-5 * MINUTE, -5 * MINUTE - 1, -30 * MINUTE, -120 * MINUTE, 0),
);

const IncidentArbitrary = fc.record({
  source: fc.constantFrom("cloudwatch", "logs", "sentry"),
  severity: fc.constantFrom("critical", "warning"),
  status: fc.constantFrom("triggered", "acknowledged", "resolved"),
  seenAgo: Offset,
  receivedAgo: fc.option(Offset),
  repeats: fc.integer({ min: 0, max: 3 }),
  nextAt: fc.option(Offset),
  actions: fc.array(
    fc.record({
      status: fc.constantFrom("planned", "succeeded"),
      plannedAt: Offset,
      notBefore: fc.option(Offset),
      claimUntil: fc.option(Offset),
    }),
    { maxLength: 2 },
  ),
});

type IncidentShape = typeof IncidentArbitrary extends fc.Arbitrary<infer Shape> ? Shape : never;

function buildRecord(index: number, shape: IncidentShape): IncidentRecord {
  const record = aRecord({
    fingerprint: `fp:due:${index}`,
    source: shape.source,
    severity: shape.severity,
    at: iso(Math.min(T + shape.seenAgo, T - 300 * MINUTE)),
  });
  Object.assign(record.incident, {
    status: shape.status,
    lastSeenAt: iso(T + shape.seenAgo),
    resolvedAt: shape.status === "resolved" ? iso(T) : null,
    resolvedBy: shape.status === "resolved" ? "api:test" : null,
  });
  record.lastReceivedAt = shape.receivedAgo === null ? null : iso(T + shape.receivedAgo);
  record.escalation = {
    repeats: shape.repeats,
    nextAt: shape.nextAt === null ? null : iso(T + shape.nextAt),
  };
  record.actions = shape.actions.map((action, position) =>
    anAction(
      `a${position + 1}`,
      action.status,
      T + action.plannedAt,
      action.notBefore === null ? null : T + action.notBefore,
      action.claimUntil === null ? null : T + action.claimUntil,
    ),
  );
  return record;
}

/**
 * What the sweep acted on before the due index, frozen here as the reference: every open
 * incident page by page and every pending one, each run through `sweepIncident` and the
 * stuck-action rule (due more than 5 minutes ago, unclaimed or claim ended).
 */
async function fullScanSelection(store: IncidentStore, now: number): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.list({ status: "open", limit: 200, cursor });
    for (const incident of page.items) ids.add(incident.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  for (const id of await store.listPending()) ids.add(id);
  const acted = new Set<string>();
  for (const id of ids) {
    const record = (await store.get(id)) as IncidentRecord;
    const changed = sweepIncident(record, { config, now, region: "us-east-1", silences: [] });
    const latest = changed ?? record;
    const stuck = latest.actions.some(
      (action) =>
        action.status === "planned" &&
        now - Date.parse(action.notBefore ?? action.plannedAt) > 5 * MINUTE &&
        (!action.claim || Date.parse(action.claim.until) <= now),
    );
    if (changed || stuck) acted.add(id);
  }
  return acted;
}

describe("the due index", () => {
  it(
    "property: selects exactly the incidents the full scan acted on, at any time",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(IncidentArbitrary, { minLength: 1, maxLength: 12 }),
          fc.array(Offset, { minLength: 1, maxLength: 4 }),
          async (shapes, nows) => {
            clock.time = T;
            const store = await dynamoStore(config);
            for (const [index, shape] of shapes.entries()) {
              await store.save(buildRecord(index, shape), null);
            }
            for (const offset of nows) {
              const now = T + offset;
              const due = await store.listDue(now);
              expect(new Set(due)).toEqual(await fullScanSelection(store, now));
              expect(due).toHaveLength(new Set(due).size);
            }
          },
        ),
        { numRuns: 20 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    "property: the sweep changes the same incidents in the same way as the full scan would",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(IncidentArbitrary, { minLength: 1, maxLength: 10 }),
          Offset,
          async (shapes, offset) => {
            clock.time = T + offset;
            const store = await dynamoStore(config);
            const records = shapes.map((shape, index) => buildRecord(index, shape));
            for (const record of records) await store.save(record, null);
            const expected = await fullScanSelection(store, clock.time);
            const report = await sweep({ store, config, clock, region: "us-east-1" });
            const touched = [...report.escalated, ...report.autoResolved, ...report.nudged];
            expect(new Set(touched)).toEqual(expected);
            for (const id of report.autoResolved) {
              expect((await store.get(id))?.incident.status).toBe("resolved");
            }
            for (const id of report.escalated) {
              expect((await store.get(id))?.escalation.repeats).toBe(
                (records.find((record) => record.incident.id === id)?.escalation.repeats ?? 0) + 1,
              );
            }
            // After the sweep nothing is due any more that the full scan would act on now.
            expect(new Set(await store.listDue(clock.time))).toEqual(
              await fullScanSelection(store, clock.time),
            );
          },
        ),
        { numRuns: 15 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it("keeps incidents with nothing ever due out of the index", async () => {
    clock.time = T;
    const store = await dynamoStore(config);
    const alarm = aRecord({ fingerprint: "fp:quiet", source: "cloudwatch", severity: "warning" });
    await store.save(alarm, null);
    expect(nextDueAt(alarm, config)).toBeNull();
    expect(await store.listDue(Date.parse("9999-12-31T23:59:59.999Z"))).toEqual([]);
  });
});
