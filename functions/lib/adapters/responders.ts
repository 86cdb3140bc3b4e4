// The dispatcher's AWS side, loaded by `import()` by the dispatcher only (see ./dynamodb.ts for
// why): the remediation gateway loads each target's client on its first call in turn. The
// pagers and guard ledgers come with it (the page budget from ./page-budget.ts): only the
// dispatcher, and the sweep to send a digest, use them.
export { AwsSdkGateway, DynamoDbVersionedItems, FetchPageTransport } from "@firebreak/aws";
export {
  GuardKeeper,
  resolveChannels,
  resolvePeople,
  TransportPager,
} from "@firebreak/core";
