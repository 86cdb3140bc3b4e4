export * from "./dynamodb-store";
export * from "./table";
