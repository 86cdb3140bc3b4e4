import { FUNCTIONS, type FunctionKey, NODEJS } from "./bundle";
import type { DeployOptions } from "./options";

/** Where the policy's JSON lands beside each handler (`MONITORING_CONFIG`'s default). */
export const POLICY_FILE = "firebreak.config.json";

type Permission = sst.aws.FunctionPermissionArgs;

export interface FirebreakFunctionArgs {
  description: string;
  memory: `${number} MB`;
  timeout: `${number} seconds`;
  environment?: Record<string, $util.Input<string>>;
  /** Everything the function may do besides logging and tracing. */
  permissions: $util.Input<Permission[]>;
  /** SST resources whose values the function may read at run time (`Resource.<name>`). */
  link?: sst.Secret[];
  /**
   * For functions AWS invokes asynchronously (Logs subscriptions, alarm actions, schedules):
   * Lambda's retries, and where events that still fail go (Lambda's default is to drop them).
   */
  async?: { retries: number; onFailure?: $util.Input<string> };
}

export interface FunctionDefaults {
  options: DeployOptions;
  /** The policy's JSON, relative to the repository root (SST's `copyFiles` wants that). */
  policyFile: string;
}

/** X-Ray has no resource-level permissions: these two actions on `*` are what tracing needs. */
const TRACING: Permission = {
  actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
  resources: ["*"],
};

/**
 * One Firebreak function, built the same way as every other: `nodejs22.x` on arm64, sized memory
 * and timeout, JSON logs with a retention period, active tracing, and a role of its own holding
 * exactly `permissions` (plus log writing, from AWSLambdaBasicExecutionRole, and tracing).
 */
export function firebreakFunction(
  name: string,
  key: FunctionKey,
  args: FirebreakFunctionArgs,
  defaults: FunctionDefaults,
) {
  const { handler, policy } = FUNCTIONS[key];
  return new sst.aws.Function(name, {
    handler,
    description: args.description,
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: args.memory,
    timeout: args.timeout,
    logging: { format: "json", retention: defaults.options.logRetention },
    environment: {
      ...(policy ? { MONITORING_CONFIG: POLICY_FILE } : {}),
      ...args.environment,
    },
    ...(policy ? { copyFiles: [{ from: defaults.policyFile, to: POLICY_FILE }] } : {}),
    nodejs: { ...NODEJS },
    permissions: $output(args.permissions).apply((permissions) => [...permissions, TRACING]),
    link: args.link ?? [],
    ...(args.async ? { retries: args.async.retries } : {}),
    transform: {
      eventInvokeConfig: (config) => {
        const onFailure = args.async?.onFailure;
        if (onFailure) config.destinationConfig = { onFailure: { destination: onFailure } };
      },
      // SST 4.17 lets the account's root principal assume every function role as well (for
      // `sst dev`, whatever the command): only Lambda may assume Firebreak's roles.
      role: (role) => {
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
        // reads AWS_LAMBDA_LOG_LEVEL), WARN from the platform's own START/END/REPORT lines.
        fn.loggingConfig = $output(fn.loggingConfig).apply((config) => ({
          logFormat: "JSON",
          ...config,
          applicationLogLevel: "INFO",
          systemLogLevel: "WARN",
        }));
      },
    },
  });
}
