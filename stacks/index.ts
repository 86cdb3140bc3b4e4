import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { memberRoleGrants, memberRolePolicies, organizationBusPolicy } from "./accounts";
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
import { stageSecrets } from "./secrets";
import { incidentTable } from "./table";
import {
  type FunctionName,
  SENTRY_ROUTE,
  SLACK_INTERACTIONS_ROUTE,
  SLACK_ROUTE,
  topology,
} from "./topology";

export interface FirebreakArgs {
  /** The policy (`monitoring.config.ts`'s default export): validated here, shipped as JSON. */
  config: unknown;
  /** Names the policy in error messages. */
  configOrigin?: string;
  options?: DeployOptionsInput;
}

/**
 * One stage of Firebreak on AWS. Fails before creating anything when the policy or the deploy
 * options are invalid. Its secrets are SSM parameters operators put under the stage's path
 * (`secretParameters` in the outputs names them all; stacks/secrets.ts says why): a missing one
 * fails the first use of the function that reads it, naming the parameter.
 */
export function firebreak({ config, configOrigin, options: input }: FirebreakArgs) {
  const options = deployOptions(input);
  const policy = policyForDeploy(config, configOrigin);
  const production = options.productionStages.includes($app.stage);
  const prefix = `${$app.name}-${$app.stage}-`;

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
  const secrets = stageSecrets(options);
  const secretNames = [
    "API_TOKENS",
    "CALENDAR_TOKEN",
    ...(options.integrations.sentry ? ["SENTRY_CLIENT_SECRET"] : []),
    ...(options.integrations.slack ? ["SLACK_SIGNING_SECRET"] : []),
    ...policy.channelSecrets.map(({ env }) => env),
  ];

  const signals = ingest({ defaults, table, alarmPrefix: prefix });
  const http = httpApi({
    defaults,
    table,
    secrets,
    consoleCors: options.console,
    memberRoles: memberRoleGrants(policy.config),
  });
  const responses = respond({
    defaults,
    policy,
    table,
    apiUrl: http.api.url,
    secrets,
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
  const organizationEvents = options.organizationId
    ? organizationBusPolicy(options.organizationId)
    : undefined;

  // What each member account's administrators create for Firebreak (README, "Every account").
  const memberAccountRoles =
    Object.keys(policy.config.accounts).length > 0
      ? $resolve([
          aws.getPartitionOutput({}).partition,
          aws.getRegionOutput({}).region,
          aws.getCallerIdentityOutput({}).accountId,
        ]).apply(([partition, region, firebreakAccount]) =>
          memberRolePolicies({ policy, partition, region, firebreakAccount }),
        )
      : undefined;
  const routeUrl = (route: string) => $interpolate`${http.api.url}${route.split(" ")[1]}`;
  return {
    outputs: {
      apiUrl: http.api.url,
      ...(site ? { consoleUrl: site.url } : {}),
      /** Point CloudWatch alarm actions here (EventBridge already sees every alarm change). */
      alarmTopicArn: signals.alarmTopic.arn,
      /** Firebreak's own alarms: subscribe whoever runs Firebreak. */
      opsTopicArn: monitoring.opsTopic.arn,
      ...(http.functions.slack
        ? {
            slackCommandUrl: routeUrl(SLACK_ROUTE),
            /** The Slack app's interactivity request URL (button presses). */
            slackInteractionsUrl: routeUrl(SLACK_INTERACTIONS_ROUTE),
          }
        : {}),
      ...(http.functions["sentry-webhook"] ? { sentryWebhookUrl: routeUrl(SENTRY_ROUTE) } : {}),
      /** For alarm actions that invoke a function instead of notifying a topic. */
      ingestFunctionArn: signals.ingestFn.arn,
      deadLetterQueueUrl: queues.signalsDeadLetter.url,
      /** The SecureString parameters this stage reads: put each before its function's first use. */
      secretParameters: secretNames.map(secrets.parameterName),
      tableName: table.name,
      ...(memberAccountRoles ? { memberAccountRoles } : {}),
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
      organizationEvents,
    },
  };
}
