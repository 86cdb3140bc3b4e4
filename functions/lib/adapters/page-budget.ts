// The page budget alone, loaded by `import()` by the sweep, which reads it every minute for the
// digests owed: without the rest of the responders (./responders.ts), which it builds only to
// send one.
export { DynamoDbVersionedItems } from "@firebreak/aws";
export { PageBudgetKeeper } from "@firebreak/core";
