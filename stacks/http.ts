import { API_CORS } from "./console";
import { type FunctionDefaults, firebreakFunction } from "./lambda";
import { TABLE_ACCESS } from "./table";

/**
 * The incidents API's routes, one API Gateway route each, so an unknown path is a 404 from API
 * Gateway without invoking anything. The infrastructure tests check this list against the
 * routes `functions/api.ts` serves.
 */
export const API_ROUTES = [
  "GET /incidents",
  "GET /incidents/{id}",
  "POST /incidents/{id}/acknowledge",
  "POST /incidents/{id}/resolve",
  "POST /incidents/{id}/notes",
  "POST /incidents/{id}/actions/{actionId}/approve",
  "GET /incidents/{id}/postmortem",
  "GET /reports/summary",
  "GET /silences",
  "POST /silences",
  "DELETE /silences/{id}",
  "GET /openapi.json",
] as const;

export const SENTRY_ROUTE = "POST /webhooks/sentry";
export const SLACK_ROUTE = "POST /slack/commands";

export interface HttpArgs {
  defaults: FunctionDefaults;
  table: sst.aws.Dynamo;
  queue: sst.aws.Queue;
  secrets: {
    apiTokens: sst.Secret;
    sentryClientSecret?: sst.Secret;
    slackSigningSecret?: sst.Secret;
  };
  /** Whether browsers (the console) may call the API. */
  consoleCors: boolean;
  /** See `SECRETS_IN_ENVIRONMENT` in stacks/index.ts. */
  secretEnv: (name: string, secret: sst.Secret) => Record<string, $util.Input<string>>;
}

type RouteSettings = {
  routeKey: $util.Input<string>;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
};

/**
 * The HTTP API: the incidents API (bearer tokens), Sentry's webhook and Slack's slash command
 * (both signed), throttled at the stage with tighter limits on the two unauthenticated routes.
 * Request bodies are bounded by the handlers (256 KB, functions/lib/http.ts): HTTP APIs have no
 * body-size setting of their own (10 MB fixed) and take no WAF.
 */
export function httpApi({ defaults, table, queue, secrets, secretEnv, consoleCors }: HttpArgs) {
  const { options } = defaults;
  // The webhook routes' limits name the routes, which exist only after the stage: the stage
  // waits for them through this promise (settled below, always, or the deploy would hang).
  let settleWebhookLimits: (settings: RouteSettings[]) => void = () => {};
  const webhookLimits = new Promise<RouteSettings[]>((resolve) => {
    settleWebhookLimits = resolve;
  });
  const api = new sst.aws.ApiGatewayV2("HttpApi", {
    cors: consoleCors ? API_CORS : false,
    accessLog: { retention: options.logRetention },
    transform: {
      stage: (args) => {
        args.defaultRouteSettings = {
          throttlingRateLimit: options.api.rateLimit,
          throttlingBurstLimit: options.api.burstLimit,
        };
        args.routeSettings = $output(webhookLimits);
      },
    },
  });

  const tableArns = [table.arn, $interpolate`${table.arn}/index/*`];
  const apiFn = firebreakFunction(
    "Api",
    "api",
    {
      description: "Firebreak: the incidents API (incidents, silences, reports)",
      memory: "1024 MB",
      timeout: "29 seconds",
      environment: { TABLE_NAME: table.name, ...secretEnv("API_TOKENS", secrets.apiTokens) },
      link: [secrets.apiTokens],
      permissions: [
        { actions: [...TABLE_ACCESS.readWrite, ...TABLE_ACCESS.delete], resources: tableArns },
      ],
    },
    defaults,
  );
  for (const route of API_ROUTES) api.route(route, apiFn.arn);

  const webhooks: RouteSettings[] = [];
  const limits = {
    throttlingRateLimit: options.api.webhookRateLimit,
    throttlingBurstLimit: options.api.webhookBurstLimit,
  };
  let sentryFn: sst.aws.Function | undefined;
  if (secrets.sentryClientSecret) {
    sentryFn = firebreakFunction(
      "SentryWebhook",
      "sentry-webhook",
      {
        description: "Firebreak: Sentry integration webhooks to the signal queue",
        memory: "512 MB",
        timeout: "10 seconds",
        environment: {
          QUEUE_URL: queue.url,
          ...secretEnv("SENTRY_CLIENT_SECRET", secrets.sentryClientSecret),
        },
        link: [secrets.sentryClientSecret],
        permissions: [{ actions: ["sqs:SendMessage"], resources: [queue.arn] }],
      },
      defaults,
    );
    const route = api.route(SENTRY_ROUTE, sentryFn.arn);
    webhooks.push({ routeKey: route.nodes.route.routeKey, ...limits });
  }

  let slackFn: sst.aws.Function | undefined;
  if (secrets.slackSigningSecret) {
    slackFn = firebreakFunction(
      "Slack",
      "slack",
      {
        description: "Firebreak: the Slack slash command",
        memory: "1024 MB",
        timeout: "10 seconds",
        environment: {
          TABLE_NAME: table.name,
          ...secretEnv("SLACK_SIGNING_SECRET", secrets.slackSigningSecret),
        },
        link: [secrets.slackSigningSecret],
        permissions: [
          { actions: [...TABLE_ACCESS.readWrite, ...TABLE_ACCESS.delete], resources: tableArns },
        ],
      },
      defaults,
    );
    const route = api.route(SLACK_ROUTE, slackFn.arn);
    webhooks.push({ routeKey: route.nodes.route.routeKey, ...limits });
  }
  settleWebhookLimits(webhooks);

  return { api, apiFn, sentryFn, slackFn };
}
