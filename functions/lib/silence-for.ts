// The silence matcher, loaded by `import()` only when a silence is in force: it compiles each
// silence's `message` pattern with RE2 (190 KB), which an API call with no silence never loads.
export { silenceFor } from "@firebreak/core";
