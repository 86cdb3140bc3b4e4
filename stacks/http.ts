import { cloudWatchReadGrants, type Grant } from "./accounts";
import { API_CORS } from "./console";
import { type FirebreakFunctionArgs, type FunctionDefaults, firebreakFunction } from "./lambda";
import type { StageSecrets } from "./secrets";
import { TABLE_ACCESS } from "./table";
import type { FunctionName } from "./topology";

export interface HttpArgs {
  defaults: FunctionDefaults;
  table: sst.aws.Dynamo;
  /** Each function behind a route reads its own secret from Parameter Store, and no other. */
  secrets: StageSecrets;
  /** Whether browsers (the console) may call the API. */
  consoleCors: boolean;
  /** The member-account roles an incident's metrics are read through (`memberRoleGrants`). */
  memberRoles: Grant[];
}

type RouteSettings = {
  routeKey: $util.Input<string>;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
};

/**
 * The HTTP API: one API Gateway route per route of the topology (so an unknown path is a 404
 * from API Gateway without invoking anything), the incidents API (bearer tokens), Sentry's
 * webhook and Slack's slash command (both signed). Throttled at the stage, and per route where
 * the topology's throttle differs from the stage's. Request bodies are bounded by the handlers
 * (256 KB, functions/lib/http.ts): HTTP APIs have no body-size setting of their own (10 MB fixed)
 * and take no WAF.
 */
export function httpApi({ defaults, table, secrets, consoleCors, memberRoles }: HttpArgs) {
  const { options, topology, queues } = defaults;
  const { stageThrottle, routes } = topology;
  // Route settings name routes, which exist only after the stage: the stage waits for them
  // through this promise (settled below, always, or the deploy would hang).
  let settleRouteSettings: (settings: RouteSettings[]) => void = () => {};
  const routeSettings = new Promise<RouteSettings[]>((resolve) => {
    settleRouteSettings = resolve;
  });
  const api = new sst.aws.ApiGatewayV2("HttpApi", {
    cors: consoleCors ? API_CORS : false,
    accessLog: { retention: options.logRetention },
    transform: {
      stage: (args) => {
        args.defaultRouteSettings = {
          throttlingRateLimit: stageThrottle.rateLimit,
          throttlingBurstLimit: stageThrottle.burstLimit,
        };
        args.routeSettings = $output(routeSettings);
      },
    },
  });

  const tableNeeds = [...TABLE_ACCESS.readWrite, ...TABLE_ACCESS.delete];
  /** What each function behind a route needs besides what the topology implies. */
  const needs: Partial<Record<FunctionName, () => FirebreakFunctionArgs>> = {
    api: () => {
      // The calendar feeds check a token of their own (calendar apps send no headers).
      const access = secrets.access(["API_TOKENS", "CALENDAR_TOKEN"]);
      // An incident's metric context (`GET /incidents/{id}/metrics`), in the alarm's account.
      const metrics = $resolve([
        aws.getPartitionOutput({}).partition,
        aws.getRegionOutput({}).region,
        aws.getCallerIdentityOutput({}).accountId,
      ]).apply(([partition, region, account]) => [
        ...cloudWatchReadGrants({ partition, region, account, metrics: true }),
        ...memberRoles,
      ]);
      return {
        environment: { TABLE_NAME: table.name, ...access.environment },
        permissions: $resolve([$output(access.permissions), metrics]).apply(
          ([secretGrants, metricGrants]) => [...secretGrants, ...metricGrants],
        ),
        // Silences are deleted when someone ends one (API, Slack).
        table: tableNeeds,
      };
    },
    "sentry-webhook": () => {
      const access = secrets.access(["SENTRY_CLIENT_SECRET"]);
      return {
        environment: { QUEUE_URL: queues.signals.url, ...access.environment },
        permissions: $output(access.permissions).apply((permissions) => [
          { actions: ["sqs:SendMessage"], resources: [queues.signals.arn] },
          ...permissions,
        ]),
      };
    },
    slack: () => {
      const access = secrets.access(["SLACK_SIGNING_SECRET"]);
      return {
        environment: { TABLE_NAME: table.name, ...access.environment },
        permissions: access.permissions,
        table: tableNeeds,
      };
    },
  };

  const functions: Partial<Record<FunctionName, sst.aws.Function>> = {};
  const settings: RouteSettings[] = [];
  try {
    declareRoutes();
  } finally {
    settleRouteSettings(settings);
  }
  return { api, functions };

  function declareRoutes() {
    for (const route of routes) {
      const args = needs[route.function];
      if (!args) throw new Error(`No HTTP function is declared for ${route.function}`);
      const fn = functions[route.function] ?? firebreakFunction(route.function, args(), defaults);
      functions[route.function] = fn;
      const declared = api.route(`${route.method} ${route.path}`, fn.arn);
      if (
        route.throttle.rateLimit !== stageThrottle.rateLimit ||
        route.throttle.burstLimit !== stageThrottle.burstLimit
      ) {
        settings.push({
          routeKey: declared.nodes.route.routeKey,
          throttlingRateLimit: route.throttle.rateLimit,
          throttlingBurstLimit: route.throttle.burstLimit,
        });
      }
    }
  }
}
