// The sts SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
