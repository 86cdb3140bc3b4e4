import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { incidentConsole } from "./console";
import { eventSources } from "./events";
import { httpApi } from "./http";
import { ingest } from "./ingest";
import type { FunctionDefaults } from "./lambda";
import { selfMonitoring } from "./monitoring";
import { type DeployOptionsInput, deployOptions } from "./options";
import { policyForDeploy } from "./policy";
import { declareQueues } from "./queues";
import { respond } from "./respond";
import { incidentTable } from "./table";
import { type FunctionName, SENTRY_ROUTE, SLACK_ROUTE, topology } from "./topology";

/**
 * How secrets reach the functions. SST 4 gives a function the values of what it links inside
 * its bundle: an encrypted `resource.enc` (AES-256-GCM, the key in the `SST_KEY` variable),
 * read with `Resource.<Name>.value` from `sst/resource` (functions/lib/secrets.ts). Secrets are
 * therefore never in a function's environment, where anyone who may read its configuration would
 * see them; true would also pass each as a plain variable (for code that reads `process.env`).
 */
export const SECRETS_IN_ENVIRONMENT = false;

export interface FirebreakArgs {
  /** The policy (`monitoring.config.ts`'s default export): validated here, shipped as JSON. */
  config: unknown;
  /** Names the policy in error messages. */
  configOrigin?: string;
  options?: DeployOptionsInput;
}

/**
 * One stage of Firebreak on AWS. Fails before creating anything when the policy or the deploy
 * options are invalid, or a secret they need is not set (`sst secret set <Name> <value>`).
 */
export function firebreak({ config, configOrigin, options: input }: FirebreakArgs) {
  const options = deployOptions(input);
  const policy = policyForDeploy(config, configOrigin);
  const production = options.productionStages.includes($app.stage);
  const prefix = `${$app.name}-${$app.stage}-`;

  requireSecrets([
    "ApiTokens",
    ...(options.integrations.sentry ? ["SentryClientSecret"] : []),
    ...(options.integrations.slack ? ["SlackSigningSecret"] : []),
    ...policy.channelSecrets.map(({ secret }) => secret),
  ]);

  // The functions load the policy from JSON beside their handler (MONITORING_CONFIG).
  const policyPath = path.join($cli.paths.work, "firebreak", $app.stage, "firebreak.config.json");
  mkdirSync(path.dirname(policyPath), { recursive: true });
  writeFileSync(policyPath, policy.json);
  const table = incidentTable(options, production);
  const wiring = topology({ options, alarmPrefix: prefix });
  const queues = declareQueues(wiring.queues);
  const defaults: FunctionDefaults = {
    options,
    topology: wiring,
    queues,
    table,
    policyFile: path.relative($cli.paths.root, policyPath),
  };
  const secrets = {
    apiTokens: new sst.Secret("ApiTokens"),
    sentryClientSecret: options.integrations.sentry
      ? new sst.Secret("SentryClientSecret")
      : undefined,
    slackSigningSecret: options.integrations.slack
      ? new sst.Secret("SlackSigningSecret")
      : undefined,
  };
  const channelSecrets = policy.channelSecrets.map(({ env, secret }) => ({
    env,
    secret: new sst.Secret(secret),
  }));
  const secretEnv = (name: string, secret: sst.Secret): Record<string, $util.Input<string>> =>
    SECRETS_IN_ENVIRONMENT ? { [name]: secret.value } : {};

  const signals = ingest({ defaults, table });
  const http = httpApi({ defaults, table, secrets, secretEnv, consoleCors: options.console });
  const responses = respond({
    defaults,
    policy,
    table,
    apiUrl: http.api.url,
    channelSecrets,
    secretEnv,
  });

  const functions: Partial<Record<FunctionName, sst.aws.Function>> = {
    ingest: signals.ingestFn,
    process: signals.processFn,
    dispatch: responses.dispatchFn,
    escalations: responses.escalationsFn,
    ...http.functions,
  };
  const events = eventSources({ topology: wiring, queues, table, functions });
  const monitoring = selfMonitoring({
    options,
    prefix,
    functions: Object.fromEntries(
      Object.entries(functions).filter((entry): entry is [string, sst.aws.Function] => !!entry[1]),
    ),
    queues,
    dispatchFn: responses.dispatchFn,
    processFn: signals.processFn,
    escalationsFn: responses.escalationsFn,
    alarmRule: signals.alarmRule,
    api: http.api,
  });

  const site = options.console ? incidentConsole(http.api.url) : undefined;

  const routeUrl = (route: string) => $interpolate`${http.api.url}${route.split(" ")[1]}`;
  return {
    outputs: {
      apiUrl: http.api.url,
      ...(site ? { consoleUrl: site.url } : {}),
      /** Point CloudWatch alarm actions here (EventBridge already sees every alarm change). */
      alarmTopicArn: signals.alarmTopic.arn,
      /** Firebreak's own alarms: subscribe whoever runs Firebreak. */
      opsTopicArn: monitoring.opsTopic.arn,
      ...(http.functions.slack ? { slackCommandUrl: routeUrl(SLACK_ROUTE) } : {}),
      ...(http.functions["sentry-webhook"] ? { sentryWebhookUrl: routeUrl(SENTRY_ROUTE) } : {}),
      /** For alarm actions that invoke a function instead of notifying a topic. */
      ingestFunctionArn: signals.ingestFn.arn,
      deadLetterQueueUrl: queues.signalsDeadLetter.url,
      tableName: table.name,
    },
    resources: {
      table,
      queues,
      ...events,
      ...signals,
      ...http,
      ...responses,
      ...monitoring,
      site,
      secrets,
      channelSecrets,
    },
  };
}

/**
 * SST hands each secret set for the stage to the program as `SST_SECRET_<Name>`; a missing one
 * would fail deep inside the deploy, one at a time. Name them all before anything is created.
 */
function requireSecrets(names: string[]) {
  const missing = names.filter((name) => process.env[`SST_SECRET_${name}`] === undefined);
  if (missing.length === 0) return;
  const commands = missing.map(
    (name) => `npx sst secret set ${name} <value> --stage ${$app.stage}`,
  );
  throw new Error(
    `Secrets not set for stage ${$app.stage}: ${missing.join(", ")}. Set them with: ${commands.join("; ")}`,
  );
}
