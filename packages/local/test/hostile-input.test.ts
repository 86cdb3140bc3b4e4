import { DynamoDbIncidentStore } from "@firebreak/aws";
import {
  assembleTimeline,
  buildPostmortem,
  INLINE_TIMELINE_BYTES,
  IncidentCommands,
  type IncidentRecord,
  sweep,
} from "@firebreak/core";
import { aConfig, aRecord } from "@firebreak/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../src/embedded-dynamodb";
import { client, startTestStack, TOKEN } from "./helpers";

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb({ process: "same" });
});
afterAll(() => dynamo.stop());

const OPENED_AT = "2026-11-26T10:00:00.000Z";
const config = aConfig();

/** A real DynamoDB table holding one open incident, and the commands people use on it. */
async function anIncidentInDynamoDb(source: "cloudwatch" | "logs" = "cloudwatch") {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `hostile-input-${++tables}`;
  await ensureTable(client, tableName);
  let now = Date.parse(OPENED_AT);
  // Every command a second later, so the timeline's order is the order of the commands.
  const clock = {
    now: () => (now += 1000),
    advance: (ms: number) => {
      now += ms;
    },
  };
  const store = new DynamoDbIncidentStore({ client, tableName, config, clock });
  const record = aRecord({ source, at: OPENED_AT });
  await store.save(record, null);
  const commands = new IncidentCommands({ store, config, clock, region: "us-east-1" });
  return { store, clock, commands, id: record.incident.id };
}

async function wholeTimeline(store: DynamoDbIncidentStore, id: string) {
  const record = (await store.get(id)) as IncidentRecord;
  return { record, timeline: assembleTimeline(record, await store.getTimelinePages(id)) };
}

describe("people's changes keep the incident item under DynamoDB's 400 KB", () => {
  it("takes 300 notes of 2,000 characters, and the post-mortem has all 300", async () => {
    const { store, commands, id } = await anIncidentInDynamoDb();
    for (let note = 0; note < 300; note++) {
      const text = `note ${String(note).padStart(3, "0")} ${"x".repeat(1991)}`;
      expect(text).toHaveLength(2000);
      const result = await commands.note(id, "api:test", text);
      expect(result.changed).toBe(true);
    }
    await commands.acknowledge(id, "api:test");
    await commands.resolve(id, "api:test", "fixed");
    const { record, timeline } = await wholeTimeline(store, id);
    expect(record.timelinePages).toBeGreaterThan(0);
    const notes = timeline.flatMap((entry) => (entry.type === "note" ? [entry.text] : []));
    expect(notes).toHaveLength(300);
    expect(notes.map((text) => text.slice(5, 8))).toEqual(
      Array.from({ length: 300 }, (_, note) => String(note).padStart(3, "0")),
    );
    const postmortem = buildPostmortem(record, timeline, "2026-11-27T10:00:00.000Z");
    const reported = postmortem.timeline.filter((entry) => entry.type === "note");
    expect(reported).toHaveLength(300);
    expect(timeline.at(-1)).toMatchObject({ type: "resolved", by: "api:test" });
  }, 120_000);

  it("spills by bytes too: notes whose JSON is six bytes a character", async () => {
    const { store, commands, id } = await anIncidentInDynamoDb();
    // A pasted terminal capture: control characters are escaped as \u0001 in the stored JSON,
    // so 60 such notes would be 720 KB however few entries the tail holds.
    const text = "\u0001".repeat(2000);
    for (let note = 0; note < 80; note++) {
      expect((await commands.note(id, "api:test", text)).changed).toBe(true);
    }
    const { record, timeline } = await wholeTimeline(store, id);
    expect(timeline.filter((entry) => entry.type === "note")).toHaveLength(80);
    expect(new TextEncoder().encode(JSON.stringify(record.timeline)).length).toBeLessThanOrEqual(
      INLINE_TIMELINE_BYTES + 12_100,
    );
  }, 60_000);

  it("goes through the same spill when the sweep writes", async () => {
    const { store, commands, id, clock } = await anIncidentInDynamoDb("logs");
    // Opened and 59 notes: the inline tail is full, and people's commands have not spilled yet.
    for (let note = 0; note < 59; note++) await commands.note(id, "api:test", `note ${note}`);
    expect(((await store.get(id)) as IncidentRecord).timeline).toHaveLength(60);
    // Quiet past logs' auto-resolve: the sweep resolves it, one entry more, and spills.
    clock.advance(config.incidents.autoResolve.logs as number);
    const report = await sweep({ store, clock, config, region: "us-east-1" });
    expect(report.autoResolved).toEqual([id]);
    const { record, timeline } = await wholeTimeline(store, id);
    expect(record.timelinePages).toBe(1);
    expect(record.timeline.length).toBeLessThanOrEqual(60);
    expect(timeline.filter((entry) => entry.type === "note")).toHaveLength(59);
    expect(timeline.at(-1)).toMatchObject({ type: "resolved" });
  });

  it("is a real limit: the store refuses an item past 400 KB", async () => {
    const { store, id } = await anIncidentInDynamoDb();
    const record = (await store.get(id)) as IncidentRecord;
    const big = structuredClone(record);
    big.version += 1;
    for (let note = 0; note < 210; note++) {
      big.timeline.push({ type: "note", at: OPENED_AT, by: "api:test", text: "z".repeat(2000) });
    }
    await expect(store.save(big, null)).rejects.toThrow(/size/i);
  });
});

describe("the API refuses a silence that matches everything", () => {
  it("answers POST /silences with an empty match 400, naming the problem, and stores nothing", async () => {
    const stack = await startTestStack();
    try {
      const api = client(stack);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const refused = await api.post("/silences", { match: {}, duration: "1h" }, auth);
      expect(refused.status).toBe(400);
      const { error } = (await refused.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_request");
      expect(error.message).toContain("match: a silence must name at least one of source");
      const blank = await api.post("/silences", { matcher: "   ", duration: "1h" }, auth);
      expect(blank.status).toBe(400);
      const listed = (await (await api.get("/silences", auth)).json()) as { items: unknown[] };
      expect(listed.items).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});
