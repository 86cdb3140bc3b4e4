// Parameter Store's client, loaded by `import()` on the first secret read (see ./dynamodb.ts for
// why). Named imports let esbuild keep GetParameter's shapes alone: importing the package's index
// dynamically kept every SSM command's schemas (207 KB); named, the chunk is 125 KB, and 52 KB
// once stacks/esbuild-plugins.mjs drops the registrations of errors nothing here imports.
export { GetParameterCommand, ParameterNotFound, SSMClient } from "@aws-sdk/client-ssm";
