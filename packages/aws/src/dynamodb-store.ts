import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type Incident,
  type IncidentPage,
  type IncidentQuery,
  type IncidentRecord,
  IncidentRecordSchema,
  type IncidentStore,
  InvalidInputError,
  type TimelineEntry,
  TimelineEntrySchema,
  type TimelinePage,
  VersionConflictError,
} from "@firebreak/core";
import * as z from "zod";
import { TABLE } from "./table";

const incidentKey = (id: string) => ({ pk: `INC#${id}`, sk: "INC" });
const pointerKey = (fingerprint: string) => ({ pk: `FP#${fingerprint}`, sk: "FP" });
const pageSortKey = (page: number) => `TL#${String(page).padStart(6, "0")}`;
const listPartition = (status: Incident["status"]) =>
  status === "resolved" ? "INCIDENTS#resolved" : "INCIDENTS#open";

const StoredRecord = z.object({ data: z.string() });
const StoredPointer = z.object({ incidentId: z.string(), sequence: z.number() });
const StoredPage = z.object({ sk: z.string(), entries: z.string() });
const CursorSchema = z.object({
  p: z.number().int().min(0).max(1),
  k: z.record(z.string(), z.string()),
});
const PagesSchema = z.array(TimelineEntrySchema);

export interface DynamoDbIncidentStoreOptions {
  client: DynamoDBClient;
  tableName: string;
}

/**
 * The incident store on DynamoDB: one conditional write per item, no transactions (so it runs
 * on the embedded dynalite as on DynamoDB). The record travels as one JSON attribute, parsed
 * with its schema on the way back in; the attributes the list index needs are copied beside it.
 */
export class DynamoDbIncidentStore implements IncidentStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbIncidentStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
  }

  async getCurrent(fingerprint: string): Promise<IncidentRecord | null> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: pointerKey(fingerprint),
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    return this.get(StoredPointer.parse(Item).incidentId);
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: incidentKey(id), ConsistentRead: true }),
    );
    return Item ? parseRecord(Item) : null;
  }

  async save(record: IncidentRecord, page: TimelinePage | null): Promise<void> {
    if (page) {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `INC#${page.incidentId}`,
            sk: pageSortKey(page.page),
            entries: JSON.stringify(page.entries),
          },
        }),
      );
    }
    const { incident } = record;
    const first = record.version === 1;
    const pending = record.actions.filter((action) => action.status === "planned").length;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...incidentKey(incident.id),
            [TABLE.listPartitionKey]: listPartition(incident.status),
            [TABLE.listSortKey]: `${incident.firstSeenAt}#${incident.id}`,
            status: incident.status,
            severity: incident.severity,
            source: incident.source,
            version: record.version,
            pending,
            ...(pending > 0
              ? { [TABLE.pendingPartitionKey]: "PENDING", [TABLE.pendingSortKey]: incident.id }
              : {}),
            data: JSON.stringify(record),
          },
          ConditionExpression: first ? "attribute_not_exists(pk)" : "version = :previous",
          ExpressionAttributeValues: first ? undefined : { ":previous": record.version - 1 },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new VersionConflictError(`incident ${incident.id}`, { cause: error });
      }
      throw error;
    }
  }

  async setCurrent(fingerprint: string, incidentId: string, sequence: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pointerKey(fingerprint),
          UpdateExpression: "SET incidentId = :id, #sequence = :sequence",
          ConditionExpression: "attribute_not_exists(pk) OR #sequence < :sequence",
          ExpressionAttributeNames: { "#sequence": "sequence" },
          ExpressionAttributeValues: { ":id": incidentId, ":sequence": sequence },
        }),
      );
    } catch (error) {
      // Already pointing at this incident or a later one: the pointer never moves back.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getTimelinePages(incidentId: string): Promise<TimelinePage[]> {
    const pages: TimelinePage[] = [];
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
        const entries: TimelineEntry[] = PagesSchema.parse(JSON.parse(stored.entries));
        pages.push({ incidentId, page: Number(stored.sk.slice(3)), entries });
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return pages;
  }

  async list(query: IncidentQuery): Promise<IncidentPage> {
    const partitions =
      query.status === "resolved"
        ? ["INCIDENTS#resolved"]
        : query.status
          ? ["INCIDENTS#open"]
          : ["INCIDENTS#open", "INCIDENTS#resolved"];
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (cursor && cursor.k[TABLE.listPartitionKey] !== partitions[cursor.p]) {
      throw new InvalidInputError("cursor is not valid for this query");
    }

    const keys: Array<{ pk: string; sk: string }> = [];
    let partition = cursor?.p ?? 0;
    let startKey: Record<string, string> | undefined = cursor?.k;
    let lastKey: Record<string, string> | undefined;
    let exhausted = false;

    while (keys.length < query.limit && !exhausted) {
      const result = await this.documents.send(
        new QueryCommand(this.listQuery(query, partitions[partition] as string, startKey)),
      );
      for (const item of result.Items ?? []) {
        keys.push({ pk: item.pk as string, sk: item.sk as string });
        lastKey = indexKey(item);
        if (keys.length === query.limit) break;
      }
      if (keys.length === query.limit) break;
      startKey = result.LastEvaluatedKey as Record<string, string> | undefined;
      if (!startKey) {
        partition += 1;
        lastKey = undefined;
        exhausted = partition >= partitions.length;
      }
    }

    const items = await this.batchGet(keys);
    // A full page may be the last one; the next call then simply returns nothing more.
    const nextCursor =
      keys.length === query.limit && lastKey ? encodeCursor({ p: partition, k: lastKey }) : null;
    return { items, nextCursor };
  }

  async listPending(): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.pendingIndex,
          KeyConditionExpression: "#pk = :pending",
          ExpressionAttributeNames: { "#pk": TABLE.pendingPartitionKey },
          ExpressionAttributeValues: { ":pending": "PENDING" },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) ids.push(String(item[TABLE.pendingSortKey]));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return ids;
  }

  private listQuery(query: IncidentQuery, partition: string, startKey?: Record<string, string>) {
    const names: Record<string, string> = { "#pk": TABLE.listPartitionKey };
    if (query.since || query.until) names["#sk"] = TABLE.listSortKey;
    const values: Record<string, string> = { ":pk": partition };
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
    const filters: string[] = [];
    const filter = (attribute: string, value: string | undefined) => {
      if (value === undefined) return;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      filters.push(`#${attribute} = :${attribute}`);
    };
    filter("severity", query.severity);
    filter("source", query.source);
    if (query.status && query.status !== "open") filter("status", query.status);
    return {
      TableName: this.tableName,
      IndexName: TABLE.listIndex,
      KeyConditionExpression: keyCondition,
      FilterExpression: filters.length ? filters.join(" AND ") : undefined,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ExclusiveStartKey: startKey,
      ScanIndexForward: false,
      Limit: Math.min(1000, Math.max(50, query.limit * 2)),
    };
  }

  private async batchGet(keys: Array<{ pk: string; sk: string }>): Promise<Incident[]> {
    const found = new Map<string, Incident>();
    for (let start = 0; start < keys.length; start += 100) {
      let request: Array<{ pk: string; sk: string }> | undefined = keys.slice(start, start + 100);
      while (request?.length) {
        const result = await this.documents.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          found.set(item.pk as string, parseRecord(item).incident);
        }
        request = result.UnprocessedKeys?.[this.tableName]?.Keys as typeof request;
      }
    }
    return keys.flatMap(({ pk }) => found.get(pk) ?? []);
  }
}

function parseRecord(item: Record<string, unknown>): IncidentRecord {
  return IncidentRecordSchema.parse(JSON.parse(StoredRecord.parse(item).data));
}

function indexKey(item: Record<string, unknown>): Record<string, string> {
  return {
    pk: item.pk as string,
    sk: item.sk as string,
    [TABLE.listPartitionKey]: item[TABLE.listPartitionKey] as string,
    [TABLE.listSortKey]: item[TABLE.listSortKey] as string,
  };
}

const encodeCursor = (cursor: z.infer<typeof CursorSchema>) =>
  Buffer.from(JSON.stringify(cursor)).toString("base64url");

function decodeCursor(text: string): z.infer<typeof CursorSchema> {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
  } catch {
    throw new InvalidInputError("cursor is not valid: pass nextCursor from the previous page");
  }
}
