export * from "./ical";
export * from "./names";
export * from "./overrides";
export * from "./rotation";
export * from "./schema";
