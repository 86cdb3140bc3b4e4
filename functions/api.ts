import {
  type ApiToken,
  actionView,
  assembleTimeline,
  authenticateBearer,
  INCIDENT_STATUSES,
  type IncidentStore,
  NotFoundError,
  parseIncidentId,
  SeveritySchema,
  SourceSchema,
} from "@firebreak/core";
import { z } from "zod";
import { awsApiTokens, awsStore } from "./lib/aws";
import { header, json } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";
import { once } from "./lib/once";
import { createRouter, type Route, route } from "./lib/router";

export interface ApiDeps {
  store: IncidentStore;
  tokens: ReadonlyArray<ApiToken>;
}

const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((text) => new Date(text).toISOString());

export const ListIncidentsQuery = z.strictObject({
  status: z.enum(["open", ...INCIDENT_STATUSES]).optional(),
  severity: SeveritySchema.optional(),
  source: SourceSchema.optional(),
  since: Timestamp.optional(),
  until: Timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2048).optional(),
});

const IncidentParams = z.object({
  id: z.string().transform((text, ctx) => {
    const id = parseIncidentId(text);
    if (!id) {
      ctx.addIssue({
        code: "custom",
        message: "an incident id is 7 letters and digits, like K7Q2XPD",
      });
      return z.NEVER;
    }
    return id;
  }),
});

export function apiRoutes(deps: () => Promise<ApiDeps>): Route[] {
  const load = async (id: string) => {
    const { store } = await deps();
    const record = await store.get(id);
    if (!record) throw new NotFoundError(`no incident ${id}`);
    return { store, record };
  };
  return [
    route<z.output<typeof ListIncidentsQuery>>({
      method: "GET",
      path: "/incidents",
      summary: "List incidents, open first, newest first",
      query: ListIncidentsQuery,
      handle: async ({ query }) => json(200, await (await deps()).store.list(query)),
    }),
    route({
      method: "GET",
      path: "/incidents/{id}",
      summary: "One incident with its whole timeline",
      params: IncidentParams,
      handle: async ({ params }) => {
        const { store, record } = await load(params.id as string);
        const timeline = assembleTimeline(record, await store.getTimelinePages(record.incident.id));
        return json(200, { ...record.incident, timeline, actions: record.actions.map(actionView) });
      },
    }),
  ];
}

/** The incidents API behind API Gateway: bearer tokens, JSON errors, routes from one table. */
export function createApiHandler(deps: () => Promise<ApiDeps>) {
  const logger = createLogger("api");
  const router = createRouter(apiRoutes(deps), async (event) => {
    const { tokens } = await deps();
    return `api:${authenticateBearer(header(event, "authorization"), tokens).name}`;
  });
  return httpLambda(logger, router);
}

export const handler = createApiHandler(
  once(async () => ({ store: await awsStore(), tokens: await awsApiTokens() })),
);
