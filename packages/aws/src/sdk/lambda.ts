// The lambda SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
