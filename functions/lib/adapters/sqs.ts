// The signal queue's adapter, loaded by `import()` by the functions that send signals (see
// ./dynamodb.ts for why).
export { SQSClient } from "@aws-sdk/client-sqs";
export { SqsMessageQueue } from "@firebreak/aws";
