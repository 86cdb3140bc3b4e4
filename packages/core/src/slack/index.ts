export * from "./buttons";
export * from "./command";
export * from "./interactions";
export * from "./messages";
export * from "./replay";
export * from "./response-url";
export * from "./verify";
