export * from "./dynamodb-store";
export * from "./page-transport";
export * from "./remediation-gateway";
export * from "./replay-guard";
export * from "./silence-store";
export * from "./sqs-queue";
export * from "./table";
export * from "./versioned-items";
