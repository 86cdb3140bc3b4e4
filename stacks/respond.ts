import { cloudWatchReadGrants, memberRoleGrants } from "./accounts";
import { type FunctionDefaults, firebreakFunction } from "./lambda";
import { type DeployedPolicy, remediationStatements } from "./policy";
import type { StageSecrets } from "./secrets";
import { TABLE_ACCESS } from "./table";

export interface RespondArgs {
  defaults: FunctionDefaults;
  policy: DeployedPolicy;
  table: sst.aws.Dynamo;
  apiUrl: $util.Input<string>;
  /** The dispatcher reads the channels' secrets (`env:NAME`) from Parameter Store, and no other. */
  secrets: StageSecrets;
}

/**
 * Responses: the dispatcher on the table's stream (the only role that may call remediation APIs,
 * and only the operations its configured actions declare, on their targets), and the escalation
 * sweep. Stream records that still fail after retries go to a queue of their own; the sweep finds
 * their work anyway (the `gsi2` pending index), so nothing is lost, only late. The stream mapping
 * and the schedule are the topology's (stacks/events.ts).
 */
export function respond({ defaults, policy, table, apiUrl, secrets }: RespondArgs) {
  const env = {
    partition: aws.getPartitionOutput({}).partition,
    region: aws.getRegionOutput({}).region,
    account: aws.getCallerIdentityOutput({}).accountId,
  };
  const remediation = $resolve([env.partition, env.region, env.account]).apply(
    ([partition, region, account]) =>
      remediationStatements(policy.remediations, { partition, region, account }),
  );
  const channelSecrets = policy.channelSecrets.map(({ env: name }) => name);
  const access = channelSecrets.length > 0 ? secrets.access(channelSecrets) : undefined;
  const permissions = $resolve([remediation, $output(access?.permissions ?? [])]).apply(
    ([statements, secretGrants]): sst.aws.FunctionPermissionArgs[] => [
      ...statements,
      ...(policy.channelTopics.length > 0
        ? [{ actions: ["sns:Publish"], resources: policy.channelTopics }]
        : []),
      // SNS authorizes a publish to a phone number only on "*" (no phone-number ARNs exist);
      // granted only when someone in the policy has a phone.
      ...(policy.sms ? [{ actions: ["sns:Publish"], resources: ["*"] }] : []),
      ...secretGrants,
      // Remediation in member accounts goes through exactly the roles `accounts` names.
      ...memberRoleGrants(policy.config),
    ],
  );

  const dispatchFn = firebreakFunction(
    "dispatch",
    {
      environment: {
        TABLE_NAME: table.name,
        API_URL: apiUrl,
        ...access?.environment,
      },
      // Known once the account and partition are: the remediation ARNs are built from them.
      permissions,
      table: TABLE_ACCESS.readWrite,
    },
    defaults,
  );

  // The sweep verifies remediations by the alarms' states, in their own accounts.
  const verification = $resolve([env.partition, env.region, env.account]).apply(
    ([partition, region, account]) => [
      ...cloudWatchReadGrants({ partition, region, account, metrics: false }),
      ...memberRoleGrants(policy.config),
    ],
  );
  const escalationsFn = firebreakFunction(
    "escalations",
    {
      environment: { TABLE_NAME: table.name },
      permissions: verification,
      table: TABLE_ACCESS.readWrite,
    },
    defaults,
  );

  return { dispatchFn, escalationsFn };
}
