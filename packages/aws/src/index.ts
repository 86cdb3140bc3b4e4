export * from "./dynamodb-store";
export * from "./sqs-queue";
export * from "./table";
