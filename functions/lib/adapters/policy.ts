// The policy's compiled rules, loaded by `import()` by the functions that classify signals (see
// ./dynamodb.ts for why): the others read the config alone and never load RE2.
export { Policy } from "@firebreak/core";
