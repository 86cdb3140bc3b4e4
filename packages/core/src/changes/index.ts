export * from "./events";
export * from "./incident";
export * from "./match";
export * from "./model";
export * from "./record";
export * from "./store";
export * from "./text";
export * from "./watch";
