// Member accounts and CloudWatch reads, loaded by `import()` by the functions that verify or
// remediate (see ./dynamodb.ts for why).
export { AccountAccess, cloudWatchInAccounts, sdkSts } from "@firebreak/aws";
