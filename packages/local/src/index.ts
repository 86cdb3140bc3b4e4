export * from "./console-logger";
export * from "./content-filter";
export * from "./embedded-dynamodb";
export * from "./queue";
export * from "./settings";
export * from "./stack";
