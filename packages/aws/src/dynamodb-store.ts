import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type ArchivedMark,
  type Clock,
  DEFAULT_RETENTION_MS,
  expiresAtSeconds,
  type FingerprintState,
  type Incident,
  type IncidentPage,
  type IncidentQuery,
  type IncidentRecord,
  IncidentRecordSchema,
  type IncidentStore,
  InvalidInputError,
  isExpired,
  nextDueAt,
  incidentId as nthIncidentId,
  pendingSince,
  StaleRecordError,
  type SweepPolicy,
  storedRecord,
  systemClock,
  type TimelineEntry,
  TimelineEntrySchema,
  type TimelinePage,
  VersionConflictError,
} from "@firebreak/core";
import * as z from "zod";
import { batchGetItems } from "./batch-get";
import {
  ALL_SHARDS,
  duePartition,
  listPartition,
  pendingPartition,
  SHARDS,
  shardOf,
  TABLE,
} from "./table";

const incidentKey = (id: string) => ({ pk: `INC#${id}`, sk: "INC" });
const pointerKey = (fingerprint: string) => ({ pk: `FP#${fingerprint}`, sk: "FP" });
/**
 * A fingerprint's first incident, which needs no pointer: its id says whose first it is, so its
 * create is the only write a new incident makes (a storm of new ones writes half as many items).
 * A pointer, once written (a second incident, a recovery kept, a salted id), says more.
 */
const firstIncidentId = (fingerprint: string) => nthIncidentId(fingerprint, 1);
/** One item per archived delivery mark: its own partition, so a storm's marks spread out. */
const markKey = (fingerprint: string, mark: string) => ({
  pk: `DLV#${fingerprint}#${mark}`,
  sk: "DLV",
});
const seconds = (time: number) => Math.ceil(time / 1000);
const pageSortKey = (page: number) => `TL#${String(page).padStart(6, "0")}`;
const listGroup = (status: Incident["status"]) => (status === "resolved" ? "resolved" : "open");
const iso = (time: number) => new Date(time).toISOString();
/** The incident id at the end of an index sort key (`<time>#<id>`). */
const idOfSortKey = (key: string) => key.slice(key.lastIndexOf("#") + 1);
/** The last time `toISOString` writes with a four-digit year, so ISO keys still sort as times. */
const LAST_SORTABLE_TIME = Date.parse("9999-12-31T23:59:59.999Z");
/** How many page TTL updates are in flight at once when an incident resolves or reopens. */
const TTL_UPDATES_IN_FLIGHT = 16;

const StoredRecord = z.object({ data: z.string() });
const StoredExpiry = z.object({ expiresAt: z.number().optional() });
/** A pointer may hold only a remembered recovery (no incident yet, or the last one expired). */
const StoredPointer = StoredExpiry.extend({
  incidentId: z.string().optional(),
  sequence: z.number().optional(),
  recoveredAt: z.string().optional(),
});
const StoredMark = StoredExpiry.extend({ pk: z.string() });
const StoredPage = StoredExpiry.extend({ sk: z.string(), entries: z.string() });
const StoredIncident = StoredExpiry.extend({ status: z.string() });
/** `gsi1sk` is `<firstSeenAt>#<id>`. */
const ListSortKey = z.string().regex(/^[^#]+#[0-9A-Z]+$/);
/**
 * Where a listing stopped: the group being read (open, then resolved) and, for each shard, the
 * list sort key of the last incident returned from it (null: none yet).
 */
const CursorSchema = z.object({
  g: z.enum(["open", "resolved"]),
  k: z.array(ListSortKey.nullable()).length(SHARDS),
});
type Cursor = z.infer<typeof CursorSchema>;
const PagesSchema = z.array(TimelineEntrySchema);

export interface DynamoDbIncidentStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /**
   * The policy's auto-resolve, escalation and retention settings: they decide each incident's
   * due time and expiry. Without it, due times err early (the sweep reads more, misses nothing)
   * and resolved incidents are kept for the default 400 days.
   */
  config?: SweepPolicy;
  /** Decides what has expired; injected so tests can move it. */
  clock?: Clock;
}

/** One shard's query while a listing merges the shards. */
interface ShardReader {
  shard: number;
  /** Index rows read and not yet returned, newest first. */
  rows: Array<Record<string, unknown>>;
  startKey: Record<string, unknown> | undefined;
  done: boolean;
}

/**
 * The incident store on DynamoDB: one conditional write per item, no transactions (so it runs
 * on the embedded dynalite as on DynamoDB). The record travels as one JSON attribute, parsed
 * with its schema on the way back in; the attributes the indexes need are copied beside it.
 */
export class DynamoDbIncidentStore implements IncidentStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly config: SweepPolicy | undefined;
  private readonly retentionMs: number;
  private readonly clock: Clock;

  constructor(options: DynamoDbIncidentStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.config = options.config;
    this.retentionMs = options.config?.incidents.retention ?? DEFAULT_RETENTION_MS;
    this.clock = options.clock ?? systemClock;
  }

  async getCurrent(fingerprint: string): Promise<IncidentRecord | null> {
    return (await this.getFingerprint(fingerprint)).record;
  }

  async getFingerprint(fingerprint: string): Promise<FingerprintState> {
    return (await this.getFingerprints([fingerprint])).get(fingerprint) as FingerprintState;
  }

  /**
   * Each fingerprint's pointer and first incident are read together; an incident a pointer names
   * that is not among them (a later one) is read next, all in one BatchGetItem.
   */
  async getFingerprints(
    fingerprints: ReadonlyArray<string>,
  ): Promise<Map<string, FingerprintState>> {
    const now = this.clock.now();
    const unique = [...new Set(fingerprints)];
    const firstKeys = new Map(
      unique.map((fingerprint) => [fingerprint, firstIncidentId(fingerprint)]),
    );
    const keys = new Map<string, { pk: string; sk: string }>();
    for (const fingerprint of unique) {
      const pointer = pointerKey(fingerprint);
      const first = incidentKey(firstKeys.get(fingerprint) as string);
      keys.set(pointer.pk, pointer);
      keys.set(first.pk, first);
    }
    const items = await this.getItems([...keys.values()]);
    const states = new Map<string, FingerprintState>();
    const pointing = new Map<string, { incidentId: string; recoveredAt: string | null }>();
    for (const fingerprint of unique) {
      const item = items.get(pointerKey(fingerprint).pk);
      const stored = item ? StoredPointer.parse(item) : undefined;
      const pointer = stored && !isExpired(stored.expiresAt, now) ? stored : undefined;
      const recoveredAt = pointer?.recoveredAt ?? null;
      const firstId = firstKeys.get(fingerprint) as string;
      if (pointer?.incidentId !== undefined && pointer.incidentId !== firstId) {
        pointing.set(fingerprint, { incidentId: pointer.incidentId, recoveredAt });
        continue;
      }
      const first = items.get(incidentKey(firstId).pk);
      const live = first && !isExpired(StoredExpiry.parse(first).expiresAt, now);
      const record = live ? parseRecord(first) : null;
      // Without a pointer naming it, an item at the first id is the fingerprint's only if it
      // says so (another fingerprint's id may collide; its incident then took a salted id).
      const owned =
        pointer?.incidentId === firstId ||
        (record?.incident.fingerprint === fingerprint && record.incident.sequence === 1);
      states.set(fingerprint, { record: owned ? record : null, recoveredAt });
    }
    const ids = [...new Set([...pointing.values()].map(({ incidentId }) => incidentId))];
    const incidents = await this.getItems(ids.map(incidentKey));
    for (const [fingerprint, { incidentId, recoveredAt }] of pointing) {
      const item = incidents.get(incidentKey(incidentId).pk);
      const live = item && !isExpired(StoredExpiry.parse(item).expiresAt, now);
      states.set(fingerprint, { record: live ? parseRecord(item) : null, recoveredAt });
    }
    return states;
  }

  /** Items by key, in as few round trips as BatchGetItem allows (./batch-get.ts). */
  private getItems(
    keys: ReadonlyArray<{ pk: string; sk: string }>,
  ): Promise<Map<string, Record<string, unknown>>> {
    return batchGetItems(this.documents, this.tableName, keys);
  }

  /**
   * One conditional update of the pointer. With an incident, the recovery rides on its pointer
   * (and its expiry); with none, the pointer holds only the recovery and expires at `until`. A
   * first incident may have no pointer yet: its recovery writes one, which also expires at
   * `until` (the first incident is the fingerprint's without it).
   */
  async rememberRecovery(
    fingerprint: string,
    at: string,
    incidentId: string | null,
    until: number,
  ): Promise<void> {
    const newer = "(attribute_not_exists(recoveredAt) OR recoveredAt < :at)";
    const live = "(attribute_not_exists(#expiresAt) OR #expiresAt > :now)";
    const now = Math.floor(this.clock.now() / 1000);
    const first = incidentId !== null && incidentId === firstIncidentId(fingerprint);
    // No incident, says the caller: not while the fingerprint's first incident is there.
    if (incidentId === null && (await this.getFingerprint(fingerprint)).record) {
      throw new VersionConflictError(`pointer of ${fingerprint}`);
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pointerKey(fingerprint),
          ...(incidentId === null
            ? {
                UpdateExpression:
                  "SET recoveredAt = :at, #expiresAt = :until REMOVE incidentId, #sequence",
                // No incident, or only an expired one (its number restarts, as in setCurrent).
                ConditionExpression: `(attribute_not_exists(incidentId) AND ${newer}) OR #expiresAt <= :now`,
                ExpressionAttributeNames: {
                  "#expiresAt": TABLE.ttlAttribute,
                  "#sequence": "sequence",
                },
                ExpressionAttributeValues: { ":at": at, ":until": seconds(until), ":now": now },
              }
            : first
              ? {
                  UpdateExpression:
                    "SET recoveredAt = :at, incidentId = :id, #sequence = :one, #expiresAt = :until",
                  // No pointer, one holding only a recovery, or one at this incident; or expired.
                  ConditionExpression: `attribute_not_exists(pk) OR #expiresAt <= :now OR ((attribute_not_exists(incidentId) OR incidentId = :id) AND ${newer})`,
                  ExpressionAttributeNames: {
                    "#expiresAt": TABLE.ttlAttribute,
                    "#sequence": "sequence",
                  },
                  ExpressionAttributeValues: {
                    ":at": at,
                    ":id": incidentId,
                    ":one": 1,
                    ":until": seconds(until),
                    ":now": now,
                  },
                }
              : {
                  UpdateExpression: "SET recoveredAt = :at",
                  ConditionExpression: `incidentId = :id AND ${live} AND ${newer}`,
                  ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
                  ExpressionAttributeValues: { ":at": at, ":id": incidentId, ":now": now },
                }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(`pointer of ${fingerprint}`, { cause: error });
      }
      throw error;
    }
  }

  /** Unconditional puts in batches of 25: a mark archived twice is the same mark. */
  async archiveMarks(fingerprint: string, marks: ReadonlyArray<ArchivedMark>): Promise<void> {
    for (let start = 0; start < marks.length; start += 25) {
      let requests: Array<Record<string, unknown>> | undefined = marks
        .slice(start, start + 25)
        .map(({ mark, until }) => ({
          PutRequest: {
            Item: { ...markKey(fingerprint, mark), [TABLE.ttlAttribute]: seconds(until) },
          },
        }));
      while (requests?.length) {
        const result: BatchWriteCommandOutput = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = result.UnprocessedItems?.[this.tableName];
      }
    }
  }

  async findArchivedMarks(fingerprint: string, marks: ReadonlyArray<string>): Promise<Set<string>> {
    const byKey = new Map(marks.map((mark) => [markKey(fingerprint, mark).pk, mark]));
    const found = new Set<string>();
    const now = this.clock.now();
    const keys = [...byKey.keys()].map((pk) => ({ pk, sk: "DLV" }));
    for (let start = 0; start < keys.length; start += 100) {
      let request: Array<Record<string, unknown>> | undefined = keys.slice(start, start + 100);
      while (request?.length) {
        const result: BatchGetCommandOutput = await this.documents.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: request,
                ConsistentRead: true,
                ProjectionExpression: "pk, #expiresAt",
                ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
              },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const stored = StoredMark.parse(item);
          const mark = byKey.get(stored.pk);
          if (mark !== undefined && !isExpired(stored.expiresAt, now)) found.add(mark);
        }
        request = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: incidentKey(id), ConsistentRead: true }),
    );
    if (!Item || isExpired(StoredExpiry.parse(Item).expiresAt, this.clock.now())) return null;
    return parseRecord(Item);
  }

  async expiredAt(id: string): Promise<string | null> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: incidentKey(id),
        ConsistentRead: true,
        ProjectionExpression: "#expiresAt",
        ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
      }),
    );
    const expiresAt = Item ? StoredExpiry.parse(Item).expiresAt : undefined;
    return expiresAt !== undefined && isExpired(expiresAt, this.clock.now())
      ? iso(expiresAt * 1000)
      : null;
  }

  async save(record: IncidentRecord, page: TimelinePage | null): Promise<void> {
    const { incident } = record;
    const expiresAt = expiresAtSeconds(record, this.retentionMs) ?? undefined;
    if (page) {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `INC#${page.incidentId}`,
            sk: pageSortKey(page.page),
            entries: JSON.stringify(page.entries),
            expiresAt,
          },
        }),
      );
    }
    const first = record.version === 1;
    const now = this.clock.now();
    const item = this.incidentItem(record, expiresAt);
    if (first) {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            // Version 1 may replace an expired incident of the same id: after its pointer
            // expired, the fingerprint numbers its incidents from 1 again, and TTL deletes lazily.
            ConditionExpression: "attribute_not_exists(pk) OR #expiresAt <= :now",
            ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
            ExpressionAttributeValues: { ":now": Math.floor(now / 1000) },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          throw new VersionConflictError(`incident ${incident.id}`, { cause: error });
        }
        throw error;
      }
      // A predecessor it replaced was expired: its pages keep their own TTL.
      if (expiresAt !== undefined) await this.setExpiry(record, expiresAt);
      return;
    }
    // The usual update keeps the expiry: asking for it as a condition spares returning the old
    // item (the whole record) with every write. Only a change of expiry (resolved, reopened)
    // fails it and pays a second write that returns the old expiry.
    const sameExpiry =
      expiresAt === undefined ? "attribute_not_exists(#expiresAt)" : "#expiresAt = :expiresAt";
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: `version = :previous AND ${sameExpiry}`,
          ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ":previous": record.version - 1,
            ...(expiresAt === undefined ? {} : { ":expiresAt": expiresAt }),
          },
          // The item that failed the condition comes with the failure (DynamoDB, DynamoDB Local and
          // the embedded dynalite alike); none comes when none is stored.
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = error.Item ? failedItem(error.Item) : undefined;
      if (stored?.version !== record.version - 1)
        throw staleRecord(incident.id, stored, now, error);
    }
    let previous: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: "version = :previous",
          ExpressionAttributeValues: { ":previous": record.version - 1 },
          ReturnValues: "ALL_OLD",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      previous = result.Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw staleRecord(incident.id, error.Item ? failedItem(error.Item) : undefined, now, error);
      }
      throw error;
    }
    const stored = previous ? StoredIncident.parse(previous) : undefined;
    // An expired predecessor is not this incident's state: its expiry does not count.
    const before = stored && !isExpired(stored.expiresAt, now) ? stored.expiresAt : undefined;
    if (before !== expiresAt) await this.setExpiry(record, expiresAt);
  }

  /** The incident item: the record as JSON, with the attributes the indexes need beside it. */
  private incidentItem(
    record: IncidentRecord,
    expiresAt: number | undefined,
  ): Record<string, unknown> {
    const { incident } = record;
    const shard = shardOf(incident.id);
    const pending = record.actions.filter((action) => action.status === "planned").length;
    const due = nextDueAt(record, this.config);
    return {
      ...incidentKey(incident.id),
      [TABLE.listPartitionKey]: listPartition(listGroup(incident.status), shard),
      [TABLE.listSortKey]: `${incident.firstSeenAt}#${incident.id}`,
      status: incident.status,
      severity: incident.severity,
      source: incident.source,
      // Absent (not null) without a service: a filter on it then matches nothing.
      service: incident.service ?? undefined,
      version: record.version,
      pending,
      ...(pending > 0
        ? {
            [TABLE.pendingPartitionKey]: pendingPartition(shard),
            // Oldest waiting work first: the sweep reports its age (an alarm watches it).
            [TABLE.pendingSortKey]: `${pendingSince(record) ?? incident.lastSeenAt}#${incident.id}`,
          }
        : {}),
      // Past year 9999 an ISO time no longer sorts as text: such a time is never due.
      ...(due !== null && due <= LAST_SORTABLE_TIME
        ? {
            [TABLE.duePartitionKey]: duePartition(shard),
            [TABLE.dueSortKey]: `${iso(due)}#${incident.id}`,
          }
        : {}),
      [TABLE.ttlAttribute]: expiresAt,
      data: JSON.stringify(storedRecord(record)),
    };
  }

  /**
   * Gives the incident's timeline pages and its fingerprint's pointer the incident's expiry, or
   * removes it (reopened). Done after the incident is written: a crash in between leaves items
   * without a TTL (kept longer), never an open incident's items expiring.
   */
  private async setExpiry(record: IncidentRecord, expiresAt: number | undefined): Promise<void> {
    const update = async (key: Record<string, string>, condition: string, id?: string) => {
      const values = {
        ...(id === undefined ? {} : { ":id": id }),
        ...(expiresAt === undefined ? {} : { ":expiresAt": expiresAt }),
      };
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression:
              expiresAt === undefined ? "REMOVE #expiresAt" : "SET #expiresAt = :expiresAt",
            ConditionExpression: condition,
            ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
            ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
          }),
        );
      } catch (error) {
        // No such page, or the pointer has moved on to a later incident: nothing to change.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    };
    const { id, fingerprint } = record.incident;
    const pages = Array.from({ length: record.timelinePages }, (_, page) => page);
    for (let start = 0; start < pages.length; start += TTL_UPDATES_IN_FLIGHT) {
      await Promise.all(
        pages
          .slice(start, start + TTL_UPDATES_IN_FLIGHT)
          .map((page) =>
            update({ pk: `INC#${id}`, sk: pageSortKey(page) }, "attribute_exists(pk)"),
          ),
      );
    }
    await update(pointerKey(fingerprint), "incidentId = :id", id);
  }

  async setCurrent(fingerprint: string, incidentId: string, sequence: number): Promise<void> {
    // A first incident is its fingerprint's by its id: no pointer to write.
    if (sequence === 1 && incidentId === firstIncidentId(fingerprint)) return;
    const now = this.clock.now();
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pointerKey(fingerprint),
          // The pointer of a new (open) incident never expires.
          UpdateExpression: "SET incidentId = :id, #sequence = :sequence REMOVE #expiresAt",
          // A pointer holding only a remembered recovery has no sequence yet.
          ConditionExpression:
            "attribute_not_exists(#sequence) OR #sequence < :sequence OR #expiresAt <= :now",
          ExpressionAttributeNames: { "#sequence": "sequence", "#expiresAt": TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ":id": incidentId,
            ":sequence": sequence,
            ":now": Math.floor(now / 1000),
          },
        }),
      );
    } catch (error) {
      // Already pointing at this incident or a later one: the pointer never moves back.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getTimelinePages(incidentId: string): Promise<TimelinePage[]> {
    const pages: TimelinePage[] = [];
    const now = this.clock.now();
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": `INC#${incidentId}`, ":prefix": "TL#" },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? []) {
        const stored = StoredPage.parse(item);
        if (isExpired(stored.expiresAt, now)) continue;
        const entries: TimelineEntry[] = PagesSchema.parse(JSON.parse(stored.entries));
        pages.push({ incidentId, page: Number(stored.sk.slice(3)), entries });
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return pages;
  }

  /**
   * A page of incidents: open ones first, then resolved ones, each newest first. Each group is
   * a merge of its shards: every shard is queried (in parallel, newest first) and the newest
   * row of any shard is taken next, so `limit` is exact and the order total. The cursor keeps,
   * per shard, the last row returned from it, and the next page starts each shard after it.
   */
  async list(query: IncidentQuery): Promise<IncidentPage> {
    const groups: Array<Cursor["g"]> =
      query.status === "resolved" ? ["resolved"] : query.status ? ["open"] : ["open", "resolved"];
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    let groupIndex = cursor ? groups.indexOf(cursor.g) : 0;
    if (groupIndex < 0) throw new InvalidInputError("cursor is not valid for this query");

    const keys: Array<{ pk: string; sk: string }> = [];
    let positions = cursor?.k ?? ALL_SHARDS.map(() => null);
    while (keys.length < query.limit && groupIndex < groups.length) {
      const group = groups[groupIndex] as Cursor["g"];
      const readers: ShardReader[] = ALL_SHARDS.map((shard) => ({
        shard,
        rows: [],
        startKey: startKeyAfter(group, shard, positions[shard] ?? null),
        done: false,
      }));
      const perQuery = Math.min(1000, Math.max(10, Math.ceil((query.limit * 2) / SHARDS)));
      while (keys.length < query.limit) {
        // Refill every shard that ran dry, together, before choosing the newest row.
        await Promise.all(
          readers
            .filter((reader) => reader.rows.length === 0 && !reader.done)
            .map((reader) => this.readShard(query, group, reader, perQuery)),
        );
        let newest: ShardReader | undefined;
        for (const reader of readers) {
          const head = reader.rows[0];
          if (!head) continue;
          if (!newest || listSortKey(head) > listSortKey(newest.rows[0] as object)) newest = reader;
        }
        if (!newest) break;
        const row = newest.rows.shift() as Record<string, unknown>;
        keys.push({ pk: String(row.pk), sk: String(row.sk) });
        positions = positions.map((position, shard) =>
          shard === newest.shard ? listSortKey(row) : position,
        );
      }
      const exhausted = readers.every((reader) => reader.done && reader.rows.length === 0);
      if (!exhausted) break;
      groupIndex += 1;
      positions = ALL_SHARDS.map(() => null);
    }

    const items = await this.batchGet(keys);
    const group = groups[groupIndex];
    // A full page may end just where the rows do; the next call then returns nothing more.
    const nextCursor =
      keys.length === query.limit && group ? encodeCursor({ g: group, k: positions }) : null;
    return { items, nextCursor };
  }

  async listPending(): Promise<string[]> {
    const ids = await this.queryShards((shard) => ({
      IndexName: TABLE.pendingIndex,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": TABLE.pendingPartitionKey },
      ExpressionAttributeValues: { ":pk": pendingPartition(shard) },
    }));
    return ids.map((item) => idOfSortKey(String(item[TABLE.pendingSortKey]))).sort();
  }

  async oldestPendingSince(): Promise<string | null> {
    const firsts = await Promise.all(
      Array.from({ length: SHARDS }, async (_, shard) => {
        const { Items } = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: TABLE.pendingIndex,
            KeyConditionExpression: "#pk = :pk",
            ExpressionAttributeNames: { "#pk": TABLE.pendingPartitionKey },
            ExpressionAttributeValues: { ":pk": pendingPartition(shard) },
            Limit: 1,
          }),
        );
        const key = Items?.[0]?.[TABLE.pendingSortKey];
        return typeof key === "string" ? key.slice(0, key.lastIndexOf("#")) : null;
      }),
    );
    return firsts.filter((since): since is string => since !== null).sort()[0] ?? null;
  }

  async listDue(now: number): Promise<string[]> {
    const rows = await this.queryShards((shard) => ({
      IndexName: TABLE.dueIndex,
      KeyConditionExpression: "#pk = :pk AND #sk <= :bound",
      ExpressionAttributeNames: { "#pk": TABLE.duePartitionKey, "#sk": TABLE.dueSortKey },
      // `~` sorts after `#`, so every key of a time at or before `now` is within the bound.
      ExpressionAttributeValues: { ":pk": duePartition(shard), ":bound": `${iso(now)}~` },
    }));
    return rows
      .map((row) => String(row[TABLE.dueSortKey]))
      .sort()
      .map((key) => key.slice(key.lastIndexOf("#") + 1));
  }

  /** Every row of one query run on each shard's partition, the shards in parallel. */
  private async queryShards(
    queryFor: (shard: number) => Omit<QueryCommandInput, "TableName">,
  ): Promise<Array<Record<string, unknown>>> {
    const perShard = await Promise.all(
      ALL_SHARDS.map(async (shard) => {
        const rows: Array<Record<string, unknown>> = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const result = await this.documents.send(
            new QueryCommand({
              ...queryFor(shard),
              TableName: this.tableName,
              ExclusiveStartKey: startKey,
            }),
          );
          rows.push(...(result.Items ?? []));
          startKey = result.LastEvaluatedKey;
        } while (startKey);
        return rows;
      }),
    );
    return perShard.flat();
  }

  private async readShard(
    query: IncidentQuery,
    group: Cursor["g"],
    reader: ShardReader,
    limit: number,
  ): Promise<void> {
    // A filtered query may read a page and return nothing: keep going until rows or the end.
    while (reader.rows.length === 0 && !reader.done) {
      const result = await this.documents.send(
        new QueryCommand(
          this.listQuery(query, listPartition(group, reader.shard), reader.startKey, limit),
        ),
      );
      reader.rows.push(...(result.Items ?? []));
      reader.startKey = result.LastEvaluatedKey;
      reader.done = !reader.startKey;
    }
  }

  private listQuery(
    query: IncidentQuery,
    partition: string,
    startKey: Record<string, unknown> | undefined,
    limit: number,
  ): QueryCommandInput {
    const names: Record<string, string> = {
      "#pk": TABLE.listPartitionKey,
      "#expiresAt": TABLE.ttlAttribute,
    };
    if (query.since || query.until) names["#sk"] = TABLE.listSortKey;
    const values: Record<string, string | number> = {
      ":pk": partition,
      ":now": Math.floor(this.clock.now() / 1000),
    };
    let keyCondition = "#pk = :pk";
    // The sort key starts with firstSeenAt, so time bounds are key conditions, not filters.
    if (query.since && query.until) {
      keyCondition += " AND #sk BETWEEN :since AND :until";
      Object.assign(values, { ":since": query.since, ":until": `${query.until}~` });
    } else if (query.since) {
      keyCondition += " AND #sk >= :since";
      values[":since"] = query.since;
    } else if (query.until) {
      keyCondition += " AND #sk <= :until";
      values[":until"] = `${query.until}~`;
    }
    // Expired items stay until TTL deletes them (days late): filtered here, so `limit` is exact.
    const filters = ["(attribute_not_exists(#expiresAt) OR #expiresAt > :now)"];
    const filter = (attribute: string, value: string | undefined) => {
      if (value === undefined) return;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      filters.push(`#${attribute} = :${attribute}`);
    };
    filter("severity", query.severity);
    filter("source", query.source);
    filter("service", query.service);
    if (query.status && query.status !== "open") filter("status", query.status);
    return {
      TableName: this.tableName,
      IndexName: TABLE.listIndex,
      KeyConditionExpression: keyCondition,
      FilterExpression: filters.join(" AND "),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ExclusiveStartKey: startKey,
      ScanIndexForward: false,
      Limit: limit,
    };
  }

  /** The live incidents of `keys`, in their order. */
  private async batchGet(keys: Array<{ pk: string; sk: string }>): Promise<Incident[]> {
    const items = await this.getItems(keys);
    const now = this.clock.now();
    return keys.flatMap(({ pk }) => {
      const item = items.get(pk);
      if (!item || isExpired(StoredExpiry.parse(item).expiresAt, now)) return [];
      return [parseRecord(item).incident];
    });
  }
}

/** A lost save's error, with the record that won (null when none is stored or it expired). */
function staleRecord(
  incidentId: string,
  stored: Record<string, unknown> | undefined,
  now: number,
  cause: unknown,
): StaleRecordError {
  const live = stored && !isExpired(StoredExpiry.parse(stored).expiresAt, now);
  return new StaleRecordError(`incident ${incidentId}`, live ? parseRecord(stored) : null, {
    cause,
  });
}

/**
 * The attributes of an incident item a failed write returned (raw attribute values: the
 * document client does not convert an error's item), as the document client would read them.
 */
function failedItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const number = (value: AttributeValue | undefined) =>
    value?.N === undefined ? undefined : Number(value.N);
  return {
    version: number(item.version),
    [TABLE.ttlAttribute]: number(item[TABLE.ttlAttribute]),
    data: item.data?.S,
  };
}

function parseRecord(item: Record<string, unknown>): IncidentRecord {
  return IncidentRecordSchema.parse(JSON.parse(StoredRecord.parse(item).data));
}

const listSortKey = (row: object): string =>
  String((row as Record<string, unknown>)[TABLE.listSortKey]);

/**
 * The index key to resume a shard after the row with list sort key `after` (null: from the
 * newest). The row may since have moved (resolved) or gone: DynamoDB resumes at a position, it
 * does not need the row to be there.
 */
function startKeyAfter(
  group: Cursor["g"],
  shard: number,
  after: string | null,
): Record<string, string> | undefined {
  if (after === null) return undefined;
  const id = after.slice(after.lastIndexOf("#") + 1);
  return {
    ...incidentKey(id),
    [TABLE.listPartitionKey]: listPartition(group, shard),
    [TABLE.listSortKey]: after,
  };
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

function decodeCursor(text: string): Cursor {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
  } catch {
    throw new InvalidInputError("cursor is not valid: pass nextCursor from the previous page");
  }
}
