// One AWS service's SDK client and the commands Firebreak sends it, imported with `import()` on
// first use. Named re-exports, not a dynamic import of the package: esbuild cannot shake a
// package namespace loaded that way, so that kept every command's schemas (67 KB for SNS,
// 340 KB for RDS) in the chunk a cold start loads; stacks/esbuild-plugins.mjs then keeps only the
// error classes imported here and elsewhere by name.
export { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
