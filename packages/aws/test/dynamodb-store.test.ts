import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { deliveryMark, incidentId, StaleRecordError, VersionConflictError } from "@firebreak/core";
import {
  aRecord,
  describeIncidentStoreContract,
  describeSilenceStoreContract,
  manualClock,
} from "@firebreak/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  type RequestCounts,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbIncidentStore, DynamoDbSilenceStore } from "../src";

let dynamo: EmbeddedDynamoDb;
let tables = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

describeIncidentStoreContract("DynamoDB (embedded dynalite)", async (options) => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `contract-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbIncidentStore({ client, tableName, ...options });
});

describeSilenceStoreContract("DynamoDB (embedded dynalite)", async () => {
  const client = localDynamoDbClient(dynamo.endpoint);
  const tableName = `silences-${++tables}`;
  await ensureTable(client, tableName);
  return new DynamoDbSilenceStore(client, tableName);
});

describe("DynamoDbIncidentStore item format", () => {
  it("writes a generation's delivery marks as one string and reads items written as lists", async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    const tableName = `format-${++tables}`;
    await ensureTable(client, tableName);
    const store = new DynamoDbIncidentStore({ client, tableName });
    const documents = DynamoDBDocumentClient.from(client);
    const record = aRecord({ fingerprint: "fp:format" });
    record.seen = [
      { generation: 7, ids: [deliveryMark("a"), deliveryMark("b")] },
      { generation: 8, ids: [deliveryMark("c")] },
    ];
    await store.save(record, null);
    const key = { pk: `INC#${record.incident.id}`, sk: "INC" };
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key }));
    expect(JSON.parse(String(Item?.data)).seen).toEqual([
      { generation: 7, marks: `${deliveryMark("a")}${deliveryMark("b")}` },
      { generation: 8, marks: deliveryMark("c") },
    ]);
    expect(await store.get(record.incident.id)).toEqual(record);

    // As deployed tables hold them: marks as lists.
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...Item, data: JSON.stringify(record) },
      }),
    );
    expect(await store.get(record.incident.id)).toEqual(record);
  });
});

describe("DynamoDbIncidentStore lost saves", () => {
  it("learns the record that won from the failed write itself, without reading it", async () => {
    const counts: RequestCounts = {};
    const client = localDynamoDbClient(dynamo.endpoint, counts);
    const tableName = `lost-${++tables}`;
    await ensureTable(client, tableName);
    const store = new DynamoDbIncidentStore({ client, tableName });
    const record = aRecord({ fingerprint: "fp:lost-read" });
    await store.save(record, null);
    const winner = { ...structuredClone(record), version: record.version + 1 };
    winner.incident.count = 2;
    await store.save(winner, null);
    const loser = { ...structuredClone(record), version: record.version + 1 };
    const before = { ...counts };
    const lost = await store.save(loser, null).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(StaleRecordError);
    expect((lost as StaleRecordError).current).toEqual(winner);
    // One conditional PutItem, answered with the item that failed it: no GetItem after it.
    expect({
      PutItem: (counts.PutItem ?? 0) - (before.PutItem ?? 0),
      GetItem: counts.GetItem ?? 0,
    }).toEqual({ PutItem: 1, GetItem: before.GetItem ?? 0 });
  });
});

describe("DynamoDbIncidentStore first incidents", () => {
  const START = Date.parse("2026-11-22T22:00:00.000Z");
  async function setup(name: string) {
    const counts: RequestCounts = {};
    const client = localDynamoDbClient(dynamo.endpoint, counts);
    const tableName = `${name}-${++tables}`;
    await ensureTable(client, tableName);
    const clock = manualClock(START);
    const store = new DynamoDbIncidentStore({ client, tableName, clock });
    const documents = DynamoDBDocumentClient.from(client);
    const pointer = async (fingerprint: string) =>
      (
        await documents.send(
          new GetCommand({ TableName: tableName, Key: { pk: `FP#${fingerprint}`, sk: "FP" } }),
        )
      ).Item;
    return { counts, store, clock, documents, tableName, pointer };
  }

  it("writes no pointer for a fingerprint's first incident: its id is the pointer", async () => {
    const { counts, store, pointer } = await setup("first");
    const first = aRecord({ fingerprint: "fp:first" });
    expect(first.incident.id).toBe(incidentId("fp:first", 1));
    await store.save(first, null);
    const before = { ...counts };
    await store.setCurrent("fp:first", first.incident.id, 1);
    expect(counts).toEqual(before);
    expect(await pointer("fp:first")).toBeUndefined();
    expect(await store.getFingerprint("fp:first")).toEqual({ record: first, recoveredAt: null });
    // Pointer and first incident in one request.
    expect((counts.BatchGetItem ?? 0) - (before.BatchGetItem ?? 0)).toBe(1);

    // The second incident writes the pointer, which then decides.
    const second = structuredClone(first);
    second.incident.id = incidentId("fp:first", 2);
    second.incident.sequence = 2;
    await store.save(second, null);
    await store.setCurrent("fp:first", second.incident.id, 2);
    expect((await store.getCurrent("fp:first"))?.incident.id).toBe(second.incident.id);
  });

  it("does not take another fingerprint's incident at the first id for its own", async () => {
    const { store } = await setup("collide");
    // As if fp:b's first id had collided with fp:a's incident: fp:b's went to a salted id.
    const other = aRecord({ fingerprint: "fp:a" });
    other.incident.id = incidentId("fp:b", 1);
    await store.save(other, null);
    expect(await store.getFingerprint("fp:b")).toEqual({ record: null, recoveredAt: null });
    const salted = aRecord({ fingerprint: "fp:b" });
    salted.incident.id = incidentId("fp:b", 1, 1);
    await store.save(salted, null);
    await store.setCurrent("fp:b", salted.incident.id, 1);
    expect((await store.getCurrent("fp:b"))?.incident.id).toBe(salted.incident.id);
  });

  it("keeps a first incident's recovery on a pointer it then writes, until the recovery's time", async () => {
    const { store, clock, pointer } = await setup("first-recovery");
    const first = aRecord({ fingerprint: "fp:recovered" });
    await store.save(first, null);
    await store.setCurrent("fp:recovered", first.incident.id, 1);
    const until = START + 3_600_000;
    await store.rememberRecovery(
      "fp:recovered",
      "2026-11-22T22:30:00.000Z",
      first.incident.id,
      until,
    );
    expect(await pointer("fp:recovered")).toMatchObject({ incidentId: first.incident.id });
    expect(await store.getFingerprint("fp:recovered")).toEqual({
      record: first,
      recoveredAt: "2026-11-22T22:30:00.000Z",
    });
    // Not an older one; and no incident, says a stale reader: refused, the incident is there.
    await expect(
      store.rememberRecovery("fp:recovered", "2026-11-22T22:10:00.000Z", first.incident.id, until),
    ).rejects.toBeInstanceOf(VersionConflictError);
    await expect(
      store.rememberRecovery("fp:recovered", "2026-11-22T22:40:00.000Z", null, until),
    ).rejects.toBeInstanceOf(VersionConflictError);
    // Past it, the recovery is forgotten; the first incident is still the fingerprint's.
    clock.time = until + 1000;
    expect(await store.getFingerprint("fp:recovered")).toEqual({
      record: first,
      recoveredAt: null,
    });
  });

  it("finds a new first incident behind an expired pointer of an earlier one", async () => {
    const { store, clock, documents, tableName } = await setup("restart");
    // A pointer at the fifth incident, expired with it (TTL deletes it days later).
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: "FP#fp:again",
          sk: "FP",
          incidentId: incidentId("fp:again", 5),
          sequence: 5,
          expiresAt: Math.floor(START / 1000) - 60,
        },
      }),
    );
    const first = aRecord({ fingerprint: "fp:again" });
    await store.save(first, null);
    await store.setCurrent("fp:again", first.incident.id, 1);
    expect(await store.getFingerprint("fp:again")).toEqual({ record: first, recoveredAt: null });
    clock.time = START + 1000;
    await store.rememberRecovery(
      "fp:again",
      "2026-11-22T22:00:00.500Z",
      first.incident.id,
      START + 60_000,
    );
    expect(await store.getFingerprint("fp:again")).toEqual({
      record: first,
      recoveredAt: "2026-11-22T22:00:00.500Z",
    });
  });
});
