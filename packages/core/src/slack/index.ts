export * from "./command";
export * from "./messages";
export * from "./replay";
export * from "./verify";
