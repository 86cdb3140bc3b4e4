export * from "./builders";
export * from "./memory-items";
export * from "./memory-store";
export * from "./store-contract";
