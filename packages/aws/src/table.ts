import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * Firebreak's single table. Every item has `pk`/`sk`; incidents also carry the index keys.
 *
 * | item               | pk                 | sk           | gsi1pk                        | gsi1sk              |
 * |--------------------|--------------------|--------------|-------------------------------|---------------------|
 * | incident           | `INC#<id>`         | `INC`        | `INCIDENTS#open|resolved#<n>` | `<firstSeenAt>#<id>`|
 * | timeline page      | `INC#<id>`         | `TL#<page>`  |                               |                     |
 * | fingerprint pointer| `FP#<fingerprint>` | `FP`         |                               |                     |
 * | guard ledger, etc. | `KV#<key>`         | `KV`         |                               |                     |
 *
 * `<n>` is the incident's shard (`shardOf(id)`, 0 to `SHARDS - 1`). One index partition takes at
 * most 1,000 writes a second; under a storm of distinct incidents every new one writes the list
 * index, so one `INCIDENTS#open` key would cap the storm there. Eight shards lift the ceiling to
 * 8,000 a second, past what the processor's concurrency writes, while a list stays one round of
 * eight parallel queries (each page is a merge of the shards, newest first).
 *
 * Two sparse indexes, keys only, sharded the same way:
 * - `gsi2pk = "PENDING#<n>"`, `gsi2sk = <id>`: incidents with actions waiting for the
 *   dispatcher. The dispatcher's stream filter matches the prefix `PENDING`.
 * - `gsi3pk = "DUE#<n>"`, `gsi3sk = "<due ISO time>#<id>"`: when the sweep next has work for the
 *   incident (core's `nextDueAt`); the sweep queries `gsi3sk <= now`.
 *
 * Resolved incidents, their timeline pages and their fingerprint's pointer carry `expiresAt`
 * (DynamoDB's TTL, `incidents.retention` after resolving); reads treat an expired item as absent.
 *
 * Access patterns: the current incident of a fingerprint (its pointer and its first incident,
 * `incidentId(fingerprint, 1)`, in one strongly consistent BatchGetItem, then the incident the
 * pointer names if it is a later one; cached by the processor). A fingerprint's first incident
 * has no pointer until a recovery or a later incident writes one: its id is the pointer, so a new
 * incident costs one write. An incident by id (GetItem); its timeline
 * (Query `pk`, `begins_with(sk, "TL#")`); open or resolved incidents newest first, by time
 * range (Query GSI1 per shard, filter on severity, source, status and expiry, then BatchGetItem
 * the page found). GSI1 projects only the keys and the filter attributes, so a signal that only
 * bumps an incident's count does not write the index.
 *
 * Tables made before the sharded keys (`INCIDENTS#open`, `PENDING`, no `gsi3`) must start
 * fresh: their items are not found by these queries.
 */
export const TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  listIndex: "gsi1",
  listPartitionKey: "gsi1pk",
  listSortKey: "gsi1sk",
  /** Epoch seconds; DynamoDB's TTL deletes expired items (the embedded one never does). */
  ttlAttribute: "expiresAt",
  listProjection: ["status", "severity", "source", "service", "expiresAt"],
  pendingIndex: "gsi2",
  pendingPartitionKey: "gsi2pk",
  pendingSortKey: "gsi2sk",
  dueIndex: "gsi3",
  duePartitionKey: "gsi3pk",
  dueSortKey: "gsi3sk",
} as const;

/** How many partitions each incident index key is spread over (see `TABLE`). */
export const SHARDS = 8;

/**
 * The shard of an incident: FNV-1a of its id, so it never changes for an incident and ids
 * (already uniform hashes) spread evenly.
 *
 * @example
 * `INCIDENTS#open#${shardOf("7KQ2M4C")}`
 */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % SHARDS;
}

/** Every shard number, for queries that read all of them. */
export const ALL_SHARDS: ReadonlyArray<number> = Array.from({ length: SHARDS }, (_, n) => n);

export const listPartition = (group: "open" | "resolved", shard: number) =>
  `INCIDENTS#${group}#${shard}`;
export const pendingPartition = (shard: number) => `PENDING#${shard}`;
export const duePartition = (shard: number) => `DUE#${shard}`;

/** The table as the local stack and tests create it; the AWS stack derives its table from it. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: "S" },
      { AttributeName: TABLE.sortKey, AttributeType: "S" },
      { AttributeName: TABLE.listPartitionKey, AttributeType: "S" },
      { AttributeName: TABLE.listSortKey, AttributeType: "S" },
      { AttributeName: TABLE.pendingPartitionKey, AttributeType: "S" },
      { AttributeName: TABLE.pendingSortKey, AttributeType: "S" },
      { AttributeName: TABLE.duePartitionKey, AttributeType: "S" },
      { AttributeName: TABLE.dueSortKey, AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
      { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.listIndex,
        KeySchema: [
          { AttributeName: TABLE.listPartitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.listSortKey, KeyType: "RANGE" },
        ],
        Projection: {
          ProjectionType: "INCLUDE",
          NonKeyAttributes: [...TABLE.listProjection],
        },
      },
      {
        IndexName: TABLE.pendingIndex,
        KeySchema: [
          { AttributeName: TABLE.pendingPartitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.pendingSortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "KEYS_ONLY" },
      },
      {
        IndexName: TABLE.dueIndex,
        KeySchema: [
          { AttributeName: TABLE.duePartitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.dueSortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "KEYS_ONLY" },
      },
    ],
  };
}
