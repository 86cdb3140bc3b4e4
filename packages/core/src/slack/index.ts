export * from "./command";
export * from "./messages";
export * from "./verify";
