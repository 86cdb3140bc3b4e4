// The silence store, loaded by `import()` apart from the table's other adapters (see
// ./dynamodb.ts for why): silences carry the policy's match schema, with RE2 and luxon (about
// 230 KB), which the dispatcher, reading the incident alone, never needs.
export { DynamoDbSilenceStore } from "@firebreak/aws";
