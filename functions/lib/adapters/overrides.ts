// The on-call override store, loaded by `import()` on its first call (see ./dynamodb.ts for why):
// overrides carry on-call's schedule schema, with luxon, which the table's other adapters never
// need.
export { DynamoDbOverrideStore } from "@firebreak/aws";
