export * from "./fixtures";
export * from "./schemas/changes";
export * from "./schemas/cloudwatch-alarm";
export * from "./schemas/json";
export * from "./schemas/logs";
export * from "./schemas/sentry";
