// Parameter Store's client, loaded by `import()` on the first secret read (see ./dynamodb.ts for
// why). Named imports let esbuild keep GetParameter's shapes alone: importing the package's index
// dynamically kept every SSM command's schemas and errors (217 KB against about 30 KB).
export { GetParameterCommand, ParameterNotFound, SSMClient } from "@aws-sdk/client-ssm";
