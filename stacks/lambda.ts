import { nodejsFor } from "./bundle";
import { componentName } from "./names";
import type { DeployOptions } from "./options";
import type { Queues } from "./queues";
import { tableGrants } from "./table";
import { FUNCTIONS, type FunctionName, type Topology } from "./topology";

/** Where the policy's JSON lands beside each handler (`MONITORING_CONFIG`'s default). */
export const POLICY_FILE = "firebreak.config.json";

export type Permission = sst.aws.FunctionPermissionArgs;

export interface FirebreakFunctionArgs {
  environment?: Record<string, $util.Input<string>>;
  /**
   * What the function may do besides using the table, logging, tracing and what the topology
   * implies (consuming its queue or stream, writing its failure destinations).
   */
  permissions?: $util.Input<Permission[]>;
  /** Its actions on the incident table (KMS grants follow when the table has a key). */
  table?: ReadonlyArray<string>;
}

export interface FunctionDefaults {
  options: DeployOptions;
  topology: Topology;
  queues: Queues;
  table: sst.aws.Dynamo;
  /** The policy's JSON, relative to the repository root (SST's `copyFiles` wants that). */
  policyFile: string;
}

/** X-Ray has no resource-level permissions: these two actions on `*` are what tracing needs. */
const TRACING: Permission = {
  actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
  resources: ["*"],
};

/** What Lambda's SQS poller does with the function's role. */
const SQS_CONSUMER = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
];

/**
 * One Firebreak function as the topology describes it (handler, memory, timeout, description,
 * and for functions AWS invokes asynchronously, Lambda's retries and failure destination), built
 * the same way as every other: `nodejs22.x` on arm64, JSON logs with a retention period, active
 * tracing, and a role of its own holding exactly `permissions` (plus log writing, from
 * AWSLambdaBasicExecutionRole, and tracing).
 *
 * The role's trust policy: under `sst dev`, SST's own, which also trusts the account's root
 * principal because the CLI assumes each function's role to run its handler on the developer's
 * machine with the deployed permissions (overriding it there breaks `sst dev`). On every other
 * command, Lambda only: SST 4.17 means to do the same, but tests `!dev` on an Output (always
 * false, .sst/platform/src/components/aws/function.ts, createRole), so it trusts the account on
 * `sst deploy` too, letting any principal of the account allowed sts:AssumeRole on `*` act as,
 * say, the dispatcher with its remediation grants.
 */
export function firebreakFunction(
  key: FunctionName,
  args: FirebreakFunctionArgs,
  defaults: FunctionDefaults,
) {
  const spec = FUNCTIONS[key];
  const { topology, queues } = defaults;
  const asyncInvoke = topology.asyncInvokes.find((entry) => entry.function === key);
  const onFailure = asyncInvoke?.onFailure ? queues[asyncInvoke.onFailure].arn : undefined;
  const consumes = topology.queueSources.filter((source) => source.function === key);
  const streams = topology.streamSources.filter((source) => source.function === key);
  const granted: Permission[] = [
    ...(args.table || streams.length > 0
      ? tableGrants(defaults.table, defaults.options, {
          actions: args.table ?? [],
          stream: streams.length > 0,
        })
      : []),
    ...consumes.map((source) => ({
      actions: [...SQS_CONSUMER],
      resources: [queues[source.queue].arn],
    })),
    // Failure destinations are written with the function's own role.
    ...[
      ...streams.map((source) => queues[source.onFailure].arn),
      ...(onFailure ? [onFailure] : []),
    ].map((arn) => ({ actions: ["sqs:SendMessage"], resources: [arn] })),
  ];
  return new sst.aws.Function(componentName(key), {
    handler: spec.handler,
    description: spec.description,
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: `${spec.memoryMB} MB`,
    timeout: `${spec.timeoutSeconds} seconds`,
    logging: { format: "json", retention: defaults.options.logRetention },
    environment: {
      ...(spec.policy ? { MONITORING_CONFIG: POLICY_FILE } : {}),
      ...args.environment,
    },
    ...(spec.policy ? { copyFiles: [{ from: defaults.policyFile, to: POLICY_FILE }] } : {}),
    nodejs: nodejsFor(key),
    permissions: $output(args.permissions ?? []).apply((permissions) => [
      ...permissions,
      ...granted,
      TRACING,
    ]),
    // Nothing linked: SST would encrypt linked values into the bundle with the key in the
    // environment (stacks/secrets.ts says why secrets come from Parameter Store instead).
    link: [],
    ...(asyncInvoke ? { retries: asyncInvoke.retries } : {}),
    transform: {
      eventInvokeConfig: (config) => {
        if (onFailure) config.destinationConfig = { onFailure: { destination: onFailure } };
      },
      role: (role) => {
        if ($dev) return;
        role.assumeRolePolicy = JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "sts:AssumeRole",
              Principal: { Service: "lambda.amazonaws.com" },
            },
          ],
        });
      },
      function: (fn) => {
        fn.tracingConfig = { mode: "Active" };
        // Lambda filters by level before anything is stored: INFO from the handlers (Powertools
        // reads AWS_LAMBDA_LOG_LEVEL) and INFO from the platform, whose REPORT line (duration,
        // billed duration, memory used, init duration) is emitted at INFO: WARN would drop it, and
        // with it the only record of cold starts and memory headroom.
        fn.loggingConfig = $output(fn.loggingConfig).apply((config) => ({
          logFormat: "JSON",
          ...config,
          applicationLogLevel: "INFO",
          systemLogLevel: "INFO",
        }));
      },
    },
  });
}
