export * from "./ical";
export * from "./overrides";
export * from "./rotation";
export * from "./schema";
