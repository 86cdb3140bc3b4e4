import { type ApiDeps, authenticateBearer, once } from "@firebreak/core";
import type { ApiRouteKey } from "../stacks/topology";
import { awsApp } from "./lib/aws";
import { header, json } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";
import { openApiDocument } from "./lib/openapi";
import { createRouter, type Route, type RouteGroup, type RouteKey, route } from "./lib/router";

/** The modules of the incidents API's routes, each loaded on its first request. */
const GROUPS = {
  incidents: () => import("./routes/incidents").then((module) => module.incidentRoutes),
  commands: () => import("./routes/commands").then((module) => module.commandRoutes),
  reports: () => import("./routes/reports").then((module) => module.reportRoutes),
  metrics: () => import("./routes/metrics").then((module) => module.metricRoutes),
  silences: () => import("./routes/silences").then((module) => module.silenceRoutes),
  maintenance: () => import("./routes/maintenance").then((module) => module.maintenanceRoutes),
  changes: () => import("./routes/changes").then((module) => module.changeRoutes),
  oncall: () => import("./routes/oncall").then((module) => module.onCallRoutes),
} satisfies Record<string, () => Promise<(deps: () => Promise<ApiDeps>) => Route[]>>;
type Group = keyof typeof GROUPS;

/**
 * Which module serves each route the stacks declare (stacks/topology.ts `API_ROUTES`, in its
 * order, which `Allow` follows). A cold start loads only the module of the route it serves:
 * listing incidents loads neither RE2 (silences) nor luxon (on-call), nor any other route's
 * schemas.
 */
const ROUTE_GROUPS: Record<Exclude<ApiRouteKey, "GET /openapi.json">, Group> = {
  "GET /incidents": "incidents",
  "GET /incidents/{id}": "incidents",
  "POST /incidents/{id}/acknowledge": "commands",
  "POST /incidents/{id}/resolve": "commands",
  "POST /incidents/{id}/notes": "commands",
  "POST /incidents/{id}/actions/{actionId}/approve": "commands",
  "POST /incidents/{id}/merge": "commands",
  "POST /incidents/{id}/alerts/{alertId}/split": "commands",
  "PATCH /incidents/{id}": "commands",
  "GET /incidents/{id}/postmortem": "reports",
  "GET /incidents/{id}/metrics": "metrics",
  "GET /reports/summary": "reports",
  "GET /silences": "silences",
  "POST /silences": "silences",
  "DELETE /silences/{id}": "silences",
  "POST /incidents/{id}/silence": "maintenance",
  "GET /maintenance": "maintenance",
  "POST /maintenance": "maintenance",
  "DELETE /maintenance/{id}": "maintenance",
  "GET /changes": "changes",
  "POST /changes": "changes",
  "GET /oncall": "oncall",
  "GET /schedules/{name}": "oncall",
  "POST /schedules/{name}/overrides": "oncall",
  "DELETE /schedules/{name}/overrides/{id}": "oncall",
  "GET /schedules/{name}/calendar.ics": "oncall",
  "GET /people/{name}/calendar.ics": "oncall",
};

/** Every module's routes, loaded once each. */
function groupLoaders(deps: () => Promise<ApiDeps>): Record<Group, RouteGroup> {
  const loaders = {} as Record<Group, RouteGroup>;
  for (const group of Object.keys(GROUPS) as Group[]) {
    loaders[group] = once(async () => (await GROUPS[group]())(deps));
  }
  return loaders;
}

/** Every route of the incidents API but its description (`GET /openapi.json`), in table order. */
export async function apiRoutes(deps: () => Promise<ApiDeps>): Promise<Route[]> {
  return allRoutes(groupLoaders(deps));
}

async function allRoutes(groups: Record<Group, RouteGroup>): Promise<Route[]> {
  const loaded = new Map(
    await Promise.all(
      Object.entries(groups).map(async ([group, load]) => [group, await load()] as const),
    ),
  );
  return Object.entries(ROUTE_GROUPS).map(([key, group]) => {
    const found = loaded
      .get(group)
      ?.find((candidate) => `${candidate.method} ${candidate.path}` === key);
    if (!found) throw new Error(`the route table names ${key}, which ${group} lacks`);
    return found;
  });
}

/** The incidents API behind API Gateway: bearer tokens, JSON errors, routes from one table. */
export function createApiHandler(deps: () => Promise<ApiDeps>) {
  const logger = createLogger("api");
  const groups = groupLoaders(deps);
  const description: Route = route({
    method: "GET",
    path: "/openapi.json",
    summary: "This description",
    tags: ["meta"],
    public: true,
    handle: async () => json(200, await document()),
  });
  // Built on first request: every module loads, and turning every schema into JSON Schema costs
  // a cold start ~15 ms.
  const document: () => Promise<unknown> = once(async () =>
    openApiDocument([...(await allRoutes(groups)), description], {
      title: "Firebreak incidents API",
      version: "1",
    }),
  );
  const table: Record<RouteKey, RouteGroup> = { "GET /openapi.json": async () => [description] };
  for (const [key, group] of Object.entries(ROUTE_GROUPS)) table[key as RouteKey] = groups[group];
  const router = createRouter(table, async (event) => {
    const { tokens } = await deps();
    return `api:${authenticateBearer(header(event, "authorization"), tokens).name}`;
  });
  return httpLambda(logger, router);
}

export const handler = createApiHandler(awsApp.api);
