// The dispatcher's AWS side, loaded by `import()` by the dispatcher only (see ./dynamodb.ts for
// why): the remediation gateway loads each target's client on its first call in turn. The
// pagers, guard ledgers and page budget come with it: only the dispatcher and the sweep use them.
export { AwsSdkGateway, DynamoDbVersionedItems, FetchPageTransport } from "@firebreak/aws";
export {
  GuardKeeper,
  PageBudgetKeeper,
  resolveChannels,
  resolvePeople,
  TransportPager,
} from "@firebreak/core";
