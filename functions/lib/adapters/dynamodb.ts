// The table's adapters, loaded by `import()` when a function first uses the table: split bundles
// give each such import a chunk of its own, so a function that never touches the table (ingest)
// never loads the DynamoDB client. Named re-exports keep the rest of @firebreak/aws out.
export { DynamoDBClient } from "@aws-sdk/client-dynamodb";
export {
  DynamoDbChangeStore,
  DynamoDbIncidentStore,
  DynamoDbReplayGuard,
  DynamoDbSignalCounters,
} from "@firebreak/aws";
