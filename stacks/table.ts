import { createTableInput, TABLE } from "../packages/aws/src/table";
import type { Permission } from "./lambda";
import type { DeployOptions } from "./options";
import { STREAM_VIEW } from "./topology";

/** IAM actions on the table by what a function does with it (the stores' commands). */
export const TABLE_ACCESS = {
  readWrite: [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
  ],
  /** Silences are deleted when someone ends one (API, Slack). */
  delete: ["dynamodb:DeleteItem"],
  stream: [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
  ],
} as const;

const WRITES = new Set<string>(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]);

/**
 * What a function needs to use the table: `actions` on the table and its indexes, the stream's
 * read actions when it reads the stream, and, when the table is encrypted with a customer managed
 * key, that key, and only that key. DynamoDB calls KMS on the caller's behalf, with the caller's
 * permissions (kms:ViaService): `kms:Decrypt` to unwrap the table key whenever a connection has
 * not used it for five minutes, which every read, write and stream read needs (the stream is
 * encrypted with the table's key), and `kms:GenerateDataKey` for writes (as AWS's own grants for
 * a writer of a table under a customer managed key include). Without them, every call fails with
 * an AccessDeniedException once the table has the key. The key's policy must also allow the
 * account's IAM policies to grant it (the default key policy does).
 *
 * SQS queues here use SSE-SQS and need no KMS grant; an SNS topic or SQS queue under a customer
 * managed key would need `kms:GenerateDataKey` and `kms:Decrypt` for its producers (and
 * `kms:Decrypt` for an SQS consumer) in the same way.
 */
export function tableGrants(
  table: sst.aws.Dynamo,
  options: DeployOptions,
  grant: { actions: ReadonlyArray<string>; stream?: boolean },
): Permission[] {
  const { kmsKeyArn } = options.table;
  const writes = grant.actions.some((action) => WRITES.has(action));
  return [
    ...(grant.actions.length > 0
      ? [
          {
            actions: [...grant.actions],
            resources: [table.arn, $interpolate`${table.arn}/index/*`],
          },
        ]
      : []),
    ...(grant.stream
      ? [{ actions: [...TABLE_ACCESS.stream], resources: [table.nodes.table.streamArn] }]
      : []),
    ...(kmsKeyArn
      ? [
          {
            actions: ["kms:Decrypt", ...(writes ? ["kms:GenerateDataKey"] : [])],
            resources: [kmsKeyArn],
          },
        ]
      : []),
  ];
}

const FIELD_TYPES = { S: "string", N: "number", B: "binary" } as const;
const STREAM_VIEWS = { NEW_IMAGE: "new-image" } as const;

/**
 * The incident table. Keys and indexes come from `createTableInput`, the very definition the local
 * stack and the store's tests create, so the deployed table cannot drift from what the code
 * queries. On-demand, point-in-time recovery, TTL, a stream for the dispatcher.
 */
export function incidentTable(options: DeployOptions, production: boolean) {
  const input = createTableInput("firebreak");
  const indexes = Object.fromEntries(
    (input.GlobalSecondaryIndexes ?? []).map((index) => {
      const hash = index.KeySchema?.find((key) => key.KeyType === "HASH")?.AttributeName;
      const range = index.KeySchema?.find((key) => key.KeyType === "RANGE")?.AttributeName;
      if (!index.IndexName || !hash)
        throw new Error("createTableInput: an index without a name or hash key");
      const projection = index.Projection?.ProjectionType;
      return [
        index.IndexName,
        {
          hashKey: hash,
          ...(range ? { rangeKey: range } : {}),
          projection:
            projection === "KEYS_ONLY"
              ? ("keys-only" as const)
              : projection === "INCLUDE"
                ? [...(index.Projection?.NonKeyAttributes ?? [])]
                : ("all" as const),
        },
      ];
    }),
  );
  const { kmsKeyArn, replicaRegions, recoveryDays } = options.table;
  return new sst.aws.Dynamo("Incidents", {
    fields: Object.fromEntries(
      (input.AttributeDefinitions ?? []).map((field) => [
        field.AttributeName as string,
        FIELD_TYPES[field.AttributeType as keyof typeof FIELD_TYPES],
      ]),
    ),
    primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
    globalIndexes: indexes,
    // The dispatcher reads new images; replicas (global tables) require both images.
    stream: replicaRegions.length > 0 ? "new-and-old-images" : STREAM_VIEWS[STREAM_VIEW],
    ttl: TABLE.ttlAttribute,
    deletionProtection: production,
    transform: {
      table: (args, opts) => {
        args.pointInTimeRecovery = { enabled: true, recoveryPeriodInDays: recoveryDays };
        // Absent: DynamoDB's AWS owned key, which costs nothing and needs no grants.
        if (kmsKeyArn) args.serverSideEncryption = { enabled: true, kmsKeyArn };
        if (replicaRegions.length > 0) {
          args.replicas = replicaRegions.map((replica) => ({
            regionName: replica.region,
            pointInTimeRecovery: true,
            ...(replica.kmsKeyArn ? { kmsKeyArn: replica.kmsKeyArn } : {}),
          }));
        }
        // Production data outlives the stack: `sst remove` leaves the table behind.
        if (production) opts.retainOnDelete = true;
      },
    },
  });
}
