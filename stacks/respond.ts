import { type FunctionDefaults, firebreakFunction } from "./lambda";
import { type DeployedPolicy, remediationStatements } from "./policy";
import { TABLE_ACCESS } from "./table";

/**
 * Only incident items with actions waiting reach the dispatcher; everything else on the stream
 * (signals folding into incidents, timelines, pointers) is dropped by Lambda before invoking.
 */
export const DISPATCH_FILTER = {
  dynamodb: {
    NewImage: {
      pk: { S: [{ prefix: "INC#" }] },
      pending: { N: [{ numeric: [">", 0] }] },
    },
  },
};

export interface RespondArgs {
  defaults: FunctionDefaults;
  policy: DeployedPolicy;
  table: sst.aws.Dynamo;
  apiUrl: $util.Input<string>;
  /** The channels' secrets, by the environment variable the dispatcher reads. */
  channelSecrets: Array<{ env: string; secret: sst.Secret }>;
  secretEnv: (name: string, secret: sst.Secret) => Record<string, $util.Input<string>>;
}

/**
 * Responses: the dispatcher on the table's stream (the only role that may call remediation APIs,
 * and only the operations its configured actions declare, on their targets), and the escalation
 * sweep every minute. Stream records that still fail after retries go to a queue of their own;
 * the sweep finds their work anyway (the `gsi2` pending index), so nothing is lost, only late.
 */
export function respond({
  defaults,
  policy,
  table,
  apiUrl,
  channelSecrets,
  secretEnv,
}: RespondArgs) {
  const streamFailures = new sst.aws.Queue("DispatchFailures", {
    transform: {
      queue: (args) => {
        args.messageRetentionSeconds = 14 * 86_400;
        args.sqsManagedSseEnabled = true;
      },
    },
  });
  const tableArns = [table.arn, $interpolate`${table.arn}/index/*`];
  const env = {
    partition: aws.getPartitionOutput({}).partition,
    region: aws.getRegionOutput({}).region,
    account: aws.getCallerIdentityOutput({}).accountId,
  };
  const remediation = $resolve([env.partition, env.region, env.account]).apply(
    ([partition, region, account]) =>
      remediationStatements(policy.remediations, { partition, region, account }),
  );
  const permissions = remediation.apply((statements): sst.aws.FunctionPermissionArgs[] => [
    ...statements,
    ...(policy.channelTopics.length > 0
      ? [{ actions: ["sns:Publish"], resources: policy.channelTopics }]
      : []),
    { actions: [...TABLE_ACCESS.readWrite], resources: tableArns },
    { actions: [...TABLE_ACCESS.stream], resources: [table.nodes.table.streamArn] },
    // The stream's on-failure destination is written with the function's own role.
    { actions: ["sqs:SendMessage"], resources: [streamFailures.arn] },
  ]);

  const dispatchFn = firebreakFunction(
    "Dispatch",
    "dispatch",
    {
      description: "Firebreak: runs planned actions (remediations, pages) from the table's stream",
      memory: "512 MB",
      timeout: "120 seconds",
      environment: {
        TABLE_NAME: table.name,
        API_URL: apiUrl,
        ...Object.assign({}, ...channelSecrets.map(({ env, secret }) => secretEnv(env, secret))),
      },
      link: channelSecrets.map(({ secret }) => secret),
      // Known once the account and partition are: the remediation ARNs are built from them.
      permissions,
    },
    defaults,
  );

  table.subscribe("Dispatch", dispatchFn.arn, {
    filters: [DISPATCH_FILTER],
    transform: {
      eventSourceMapping: (args) => {
        args.startingPosition = "LATEST";
        args.batchSize = 10;
        args.maximumBatchingWindowInSeconds = 0;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.bisectBatchOnFunctionError = true;
        args.maximumRetryAttempts = 5;
        args.maximumRecordAgeInSeconds = 3600;
        args.destinationConfig = { onFailure: { destinationArn: streamFailures.arn } };
      },
    },
  });

  const escalationsFn = firebreakFunction(
    "Escalations",
    "escalations",
    {
      description:
        "Firebreak: the escalation sweep (re-pages, auto-resolves, nudges stuck actions)",
      memory: "512 MB",
      timeout: "50 seconds",
      environment: { TABLE_NAME: table.name },
      permissions: [{ actions: [...TABLE_ACCESS.readWrite], resources: tableArns }],
      // The schedule invokes asynchronously; a failed sweep is made good by the next one.
      async: { retries: 0 },
    },
    defaults,
  );
  const schedule = new sst.aws.CronV2("EscalationSweep", {
    function: escalationsFn.arn,
    schedule: "rate(1 minute)",
    // A missed sweep is made good by the next one a minute later; retries would only overlap.
    retries: 0,
  });

  return { dispatchFn, escalationsFn, schedule, streamFailures };
}
