export * from "./ical";
export * from "./model";
export * from "./overrides";
export * from "./rotation";
export * from "./schema";
