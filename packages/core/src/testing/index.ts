export * from "./builders";
export * from "./memory-store";
export * from "./store-contract";
