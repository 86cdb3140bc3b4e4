import type { MonitoringConfig } from "@firebreak/core";
import { type DeployedPolicy, remediationStatements } from "./policy";

/** A grant as the functions take them (`sst.aws.FunctionPermissionArgs`). */
export interface Grant {
  actions: string[];
  resources: string[];
}

/**
 * `sts:AssumeRole` on exactly the member-account roles the policy names (`accounts`), for the
 * functions that act or read there; none when there are none.
 */
export function memberRoleGrants(config: Pick<MonitoringConfig, "accounts">): Grant[] {
  const roles = [...new Set(Object.values(config.accounts).map((account) => account.roleArn))];
  return roles.length > 0 ? [{ actions: ["sts:AssumeRole"], resources: roles.sort() }] : [];
}

export interface CloudWatchReadArgs {
  partition: string;
  region: string;
  account: string;
  /** `GetMetricData` too (an incident's metric context), not only alarm states. */
  metrics: boolean;
}

/**
 * Reading Firebreak's own account's alarms: `DescribeAlarms` on its region's alarms, and
 * `GetMetricData` for metric context, which IAM grants only on `*` (it has no resource type).
 * Member accounts' alarms are read through their roles, which carry their own grants.
 */
export function cloudWatchReadGrants(args: CloudWatchReadArgs): Grant[] {
  return [
    {
      actions: ["cloudwatch:DescribeAlarms"],
      resources: [`arn:${args.partition}:cloudwatch:${args.region}:${args.account}:alarm:*`],
    },
    ...(args.metrics ? [{ actions: ["cloudwatch:GetMetricData"], resources: ["*"] }] : []),
  ];
}

/**
 * The default event bus's resource policy for an organization: every account of it may put
 * events here (their own rules forward alarm state changes, deploys, findings), and no account
 * outside it. The `account` of a forwarded event stays the member's, so incidents say where
 * they happened and remediation goes through that account's role.
 */
export function organizationBusPolicy(organizationId: string) {
  const partition = aws.getPartitionOutput({}).partition;
  const region = aws.getRegionOutput({}).region;
  const account = aws.getCallerIdentityOutput({}).accountId;
  return new aws.cloudwatch.EventBusPolicy("OrganizationEvents", {
    eventBusName: "default",
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OrganizationPutEvents",
          Effect: "Allow",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: $interpolate`arn:${partition}:events:${region}:${account}:event-bus/default`,
          Condition: { StringEquals: { "aws:PrincipalOrgID": organizationId } },
        },
      ],
    }),
  });
}

export interface MemberRoleArgs {
  policy: Pick<DeployedPolicy, "config" | "remediations">;
  partition: string;
  region: string;
  /** The account Firebreak runs in, whose functions assume the role. */
  firebreakAccount: string;
}

/**
 * What each member account's role must be, for its administrators to create (README, "Every
 * account"): trusting Firebreak's account with the configured ExternalId, and allowed exactly
 * the remediation operations the policy's actions declare on that account's targets, plus
 * reading its alarms and their metrics. Firebreak's own roles may assume it only where
 * `memberRoleGrants` says so.
 */
export function memberRolePolicies({
  policy,
  partition,
  region,
  firebreakAccount,
}: MemberRoleArgs) {
  return Object.fromEntries(
    Object.entries(policy.config.accounts).map(([account, { roleArn, externalId }]) => [
      account,
      {
        roleArn,
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:${partition}:iam::${firebreakAccount}:root` },
              Action: "sts:AssumeRole",
              ...(externalId
                ? { Condition: { StringEquals: { "sts:ExternalId": externalId } } }
                : {}),
            },
          ],
        },
        permissionsPolicy: {
          Version: "2012-10-17",
          Statement: [
            ...remediationStatements(policy.remediations, { partition, region, account }),
            ...cloudWatchReadGrants({ partition, region, account, metrics: true }),
          ].map((grant) => ({ Effect: "Allow", Action: grant.actions, Resource: grant.resources })),
        },
      },
    ]),
  );
}
