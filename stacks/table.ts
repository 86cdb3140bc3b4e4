import { createTableInput, TABLE } from "../packages/aws/src/table";
import type { DeployOptions } from "./options";

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

const FIELD_TYPES = { S: "string", N: "number", B: "binary" } as const;

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
    stream: replicaRegions.length > 0 ? "new-and-old-images" : "new-image",
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
