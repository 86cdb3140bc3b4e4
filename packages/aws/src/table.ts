import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * Firebreak's single table. Every item has `pk`/`sk`; incidents also carry the list index keys.
 *
 * | item               | pk                 | sk           | gsi1pk                   | gsi1sk              |
 * |--------------------|--------------------|--------------|--------------------------|---------------------|
 * | incident           | `INC#<id>`         | `INC`        | `INCIDENTS#open|resolved`| `<firstSeenAt>#<id>`|
 * | timeline page      | `INC#<id>`         | `TL#<page>`  |                          |                     |
 * | fingerprint pointer| `FP#<fingerprint>` | `FP`         |                          |                     |
 * | guard ledger, etc. | `KV#<key>`         | `KV`         |                          |                     |
 *
 * Incidents with actions waiting for the dispatcher also carry `gsi2pk = "PENDING"`, a sparse
 * index the sweep reads to find work whose stream event was lost.
 *
 * Access patterns: the current incident of a fingerprint (pointer, then incident: two strongly
 * consistent GetItems, cached by the processor); an incident by id (GetItem); its timeline
 * (Query `pk`, `begins_with(sk, "TL#")`); open or resolved incidents newest first, by time
 * range (Query GSI1, filter on severity, source, status, then BatchGetItem the pages found).
 * GSI1 projects only the keys and the filter attributes, so a signal that only bumps an
 * incident's count does not write the index.
 */
export const TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  listIndex: "gsi1",
  listPartitionKey: "gsi1pk",
  listSortKey: "gsi1sk",
  /** Epoch seconds; DynamoDB's TTL deletes expired items (the embedded one never does). */
  ttlAttribute: "expiresAt",
  listProjection: ["status", "severity", "source"],
  pendingIndex: "gsi2",
  pendingPartitionKey: "gsi2pk",
  pendingSortKey: "gsi2sk",
} as const;

/** The table as the local stack and tests create it (the AWS stack declares its own, same keys). */
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
    ],
  };
}
