// First: zod reads this setting when each schema is built (functions/lib/zod-jitless.ts).
import "@firebreak/functions/lib/zod-jitless";
import { mkdir } from "node:fs/promises";
import { relative } from "node:path";
import { ConfigError, loadConfigFile } from "@firebreak/core";
import { consoleLogger } from "./console-logger";
import { dataDirOf, loadDeployOptions, localSecrets, readLocalEnv } from "./settings";
import { startLocalStack } from "./stack";

// Handlers log through Powertools; locally only their warnings reach the console.
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

async function main() {
  const env = readLocalEnv();
  const logger = consoleLogger(env.LOG_LEVEL);
  const config = await loadConfigFile(env.MONITORING_CONFIG);
  const dataDir = dataDirOf(env);
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const secrets = await localSecrets(env, dataDir);
  const stack = await startLocalStack({
    port: env.PORT,
    host: env.HOST,
    dataDir,
    config,
    secrets,
    ...(env.DEPLOY_OPTIONS ? { deploy: await loadDeployOptions(env.DEPLOY_OPTIONS) } : {}),
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT,
    remediation: env.REMEDIATION_MODE,
    intervals: { escalationsMs: env.ESCALATIONS_INTERVAL_MS },
    logger,
  });

  const token = secrets.apiTokens[0];
  // Generated dev secrets are shown so they can be used; ones set in the environment are the
  // user's own, and are not printed.
  const secret = (name: string, value: string) =>
    secrets.generated.includes(name)
      ? `${value} (generated; set ${name} to choose)`
      : `from ${name}`;
  const where = dataDir
    ? `${relative(process.cwd(), dataDir) || "."}/`
    : "memory (DATA_DIR=memory)";
  console.log(
    [
      "",
      `Firebreak local stack on ${stack.url}`,
      `  config      ${env.MONITORING_CONFIG}: ${config.rules.length} rules, default ${config.default.severity}`,
      `  data        ${where}; DynamoDB at ${stack.dynamodbEndpoint}${env.DYNAMODB_ENDPOINT ? "" : " (embedded dynalite)"}`,
      `  API token   ${token ? secret("API_TOKENS", `${token.name}:${token.token}`) : "(none)"}`,
      `  Sentry      client secret ${secret("SENTRY_CLIENT_SECRET", secrets.sentryClientSecret)}`,
      `  Slack       signing secret ${secret("SLACK_SIGNING_SECRET", secrets.slackSigningSecret)}`,
      `  responses   ${env.REMEDIATION_MODE === "live" ? "LIVE: remediation calls AWS" : "simulated (REMEDIATION_MODE=live to call AWS)"}; pages to the local outbox`,
      "",
      `  console     ${stack.url}/ (paste the API token)`,
      "  routes      GET  /health",
      "              POST /local/events[?wait=true]    raw AWS events (EventBridge, SNS, alarm action, Logs), JSON",
      "              GET  /local/queue                  queue depth, retries, dead letters (bearer token)",
      "              GET  /local/outbox                 pages that would have gone out (bearer token)",
      "              GET  /local/aws                    the simulated AWS targets and every call made (bearer token)",
      "              GET  /local/metrics                DynamoDB requests and units, invocations, event loop delay",
      "              POST /webhooks/sentry              Sentry integration webhooks (signed)",
      "              POST /slack/commands               the /incident slash command (signed)",
      "              POST /slack/interactions           Slack button presses (signed; npm run slack -- ack <id>)",
      "              GET  /incidents, /silences, /reports/summary, /openapi.json   bearer token",
      `              POST /2015-03-31/functions/{name}/invocations   (aws lambda invoke --endpoint-url)${env.REMEDIATION_MODE === "live" ? " (bearer token: live)" : ""}`,
      "              /local/* and invocations answer this address only: another Host or Origin gets 403",
      "",
      "  try it      curl -s -X POST '" +
        stack.url +
        "/local/events?wait=true' -H 'content-type: application/json' --data-binary @events/cloudwatch/eventbridge-alarm.json",
      `              curl -s -H 'authorization: Bearer ${token && secrets.generated.includes("API_TOKENS") ? token.token : "<token>"}' ${stack.url}/incidents`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
  console.error(`[firebreak] cannot start: ${message}`);
  process.exit(1);
});
