export * from "./builders";
export * from "./memory-items";
export * from "./memory-overrides";
export * from "./memory-replays";
export * from "./memory-silences";
export * from "./memory-store";
export * from "./silence-contract";
export * from "./store-contract";
