// The dispatcher's AWS side, loaded by `import()` by the dispatcher only (see ./dynamodb.ts for
// why): the remediation gateway loads each target's client on its first call in turn.
export { AwsSdkGateway, DynamoDbVersionedItems, FetchPageTransport } from "@firebreak/aws";
