import {
  type AwsEnvironment,
  deployedPolicyJson,
  grantsOf,
  type IamStatement,
  type MonitoringConfig,
  parseConfig,
  type RemediationSpec,
  sstSecretName,
} from "@firebreak/core";

/**
 * What the stacks read from the monitoring policy: no runtime logic, only the facts a deploy
 * needs (which remediations to grant, which topics to publish to, which secrets to pass).
 */
export interface DeployedPolicy {
  config: MonitoringConfig;
  /**
   * The policy as the functions load it (`MONITORING_CONFIG`): the parsed config, which they
   * trust without running the schema again (`deployedPolicyJson`).
   */
  json: string;
  /** Every remediation of every rule, in rule order, as configured (templates, `last-change`). */
  remediations: RemediationSpec[];
  /** SNS topics the channels page through. */
  channelTopics: string[];
  /** Whether someone is reached by text message (SNS publishes to phone numbers). */
  sms: boolean;
  /** `env:NAME` references in channel secrets, each backed by an SSM parameter (stacks/secrets.ts). */
  channelSecrets: ChannelSecret[];
}

export interface ChannelSecret {
  /** The environment variable the dispatcher reads (`resolveChannels`). */
  env: string;
  /** The name of the parameter that holds it, under the stage's path (`PagerdutyOncallKey`). */
  secret: string;
  /** Where the config refers to it, for messages. */
  path: string;
}

/** Variables the runtime or the stacks set themselves; a channel secret must not shadow them. */
const RESERVED_ENV =
  /^(AWS_|LAMBDA_|_X_AMZN|SST_|POWERTOOLS_|NODE_)|^(TZ|LANG|PATH|TABLE_NAME|QUEUE_URL|API_URL|API_TOKENS|MONITORING_CONFIG|SECRETS_PATH|SENTRY_CLIENT_SECRET|SLACK_SIGNING_SECRET)$/;

/** The parameter name carrying an env-style name (one rule for the stacks and the functions). */
export const secretNameOf = sstSecretName;

/**
 * Validates the policy for a deploy and extracts what the stacks need. Fails fast, naming the
 * path, on anything that would only break once deployed: an invalid config, a config that does
 * not survive JSON (what the functions load), a secret written into the config itself.
 *
 * @param origin names the file in messages
 * @throws Error naming every problem
 */
export function policyForDeploy(input: unknown, origin = "monitoring.config.ts"): DeployedPolicy {
  const config = parseConfig(input, origin);
  // A policy must mean the same as JSON (a policy file written by hand is one).
  const reparsed = parseConfig(JSON.parse(JSON.stringify(input)), `${origin} (as JSON)`);
  if (JSON.stringify(reparsed) !== JSON.stringify(config)) {
    throw new Error(
      `${origin} does not survive JSON (a function, Date, RegExp or undefined value?): the deployed functions would read a different policy`,
    );
  }

  const problems: string[] = [];
  const channelSecrets = new Map<string, ChannelSecret>();
  const secretOf = (value: string | undefined, path: string) => {
    if (value === undefined) return;
    if (!value.startsWith("env:")) {
      problems.push(
        `${path}: write env:NAME and put the value in Parameter Store (README, Secrets); a literal would ship inside the function bundle`,
      );
      return;
    }
    const env = value.slice(4);
    if (!/^[A-Z][A-Z0-9_]{0,63}$/.test(env)) {
      problems.push(`${path}: "${env}" is not an environment variable name (A-Z, 0-9, _)`);
      return;
    }
    if (RESERVED_ENV.test(env)) {
      problems.push(`${path}: ${env} is reserved; choose another name`);
      return;
    }
    const secret = secretNameOf(env);
    const clash = [...channelSecrets.values()].find(
      (known) => known.secret === secret && known.env !== env,
    );
    if (clash) {
      problems.push(`${path}: ${env} and ${clash.env} would share the parameter ${secret}`);
      return;
    }
    if (!channelSecrets.has(env)) channelSecrets.set(env, { env, secret, path });
  };
  const topics = new Set<string>();
  for (const [name, channel] of Object.entries(config.channels)) {
    if (channel.sns) topics.add(channel.sns);
    secretOf(channel.slackWebhook, `channels.${name}.slackWebhook`);
    secretOf(channel.pagerduty?.routingKey, `channels.${name}.pagerduty.routingKey`);
  }
  for (const [name, person] of Object.entries(config.people)) {
    secretOf(person.pagerduty?.routingKey, `people.${name}.pagerduty.routingKey`);
  }
  // Direct messages to people go out with the Slack app's bot token, a secret of its own.
  const slackPeople = Object.values(config.people).some((person) => person.slack !== undefined);
  if (slackPeople) secretOf("env:SLACK_BOT_TOKEN", "people (Slack direct messages)");
  // Text messages are SNS publishes to phone numbers, which IAM can only grant on "*".
  const smsPeople = Object.values(config.people).some((person) => person.phone !== undefined);
  if (problems.length > 0) throw new Error(`Cannot deploy ${origin}: ${problems.join("; ")}`);

  // A chain's steps run in the dispatcher's role too: they are granted like the rule's actions.
  // Deploy watching rolls back a watched service's last change (core/changes/watch.ts).
  const watched = Object.values(config.services).some((service) => service.watch !== undefined);
  const remediations: RemediationSpec[] = [
    ...config.rules.flatMap((rule) =>
      rule.actions.flatMap((action) =>
        action.type === "page" ? [] : [action, ...stepsOf(action)],
      ),
    ),
    ...(watched ? [{ type: "rollback" as const, target: "last-change" as const }] : []),
  ];
  // Measured with a long region name, so no real region makes the policy bigger than this.
  checkPolicySize(
    remediationStatements(remediations, {
      partition: "aws",
      region: "ap-southeast-7",
      account: "000000000000",
    }),
  );
  return {
    config,
    json: deployedPolicyJson(config),
    remediations,
    channelTopics: [...topics].sort(),
    sms: smsPeople,
    channelSecrets: [...channelSecrets.values()],
  };
}

/** The remediation steps of an action's `ifIneffective` chain. */
const stepsOf = (action: RemediationSpec): RemediationSpec[] =>
  (action.ifIneffective ?? []).flatMap((step) => (step.type === "page" ? [] : [step]));

/**
 * The dispatcher's remediation grants: exactly the statements `grantsOf` declares for every
 * configured action (what its templates can produce: a templated name is `*` in its ARN
 * segment; `last-change` the rollback kinds a change can name), with identical action lists
 * merged and duplicates dropped, so the policy stays small and reads like the config.
 */
export function remediationStatements(
  remediations: ReadonlyArray<RemediationSpec>,
  env: AwsEnvironment,
): IamStatement[] {
  const byActions = new Map<string, Set<string>>();
  for (const action of remediations) {
    for (const statement of grantsOf(action, env)) {
      const key = [...statement.actions].sort().join(",");
      const resources = byActions.get(key) ?? new Set<string>();
      for (const resource of statement.resources) resources.add(resource);
      byActions.set(key, resources);
    }
  }
  return [...byActions.entries()].map(([actions, resources]) => {
    // A resource-level grant is moot beside "*" for the same actions (IAM's union).
    const all = resources.has("*") ? ["*"] : [...resources].sort();
    return { actions: actions.split(","), resources: all };
  });
}

/**
 * A role's inline policies may total 10,240 characters (whitespace excluded). The remediation
 * grants are the part that grows with the config; leave room for the dispatcher's others.
 */
export const REMEDIATION_POLICY_BUDGET = 8_000;

/** @throws Error when the remediation grants would not fit in the dispatcher's role. */
export function checkPolicySize(statements: ReadonlyArray<IamStatement>): void {
  const size = JSON.stringify(
    statements.map((s) => ({ Effect: "Allow", Action: s.actions, Resource: s.resources })),
  ).length;
  if (size > REMEDIATION_POLICY_BUDGET) {
    throw new Error(
      `The remediation grants need ${size} characters of IAM policy, over the ${REMEDIATION_POLICY_BUDGET} budget of the dispatcher's role: fewer distinct targets, or split the deployment`,
    );
  }
}
