import {
  type ApiDeps,
  ChangeInputSchema,
  ChangeRecorder,
  ChangeSchema,
  changesBefore,
  type Incident,
  InvalidInputError,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ErrorResponse } from "../lib/params";
import { type Route, route } from "../lib/router";

const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString());

export const ListChangesQuery = z.strictObject({
  service: z.string().max(63).optional().describe("one service; all services when absent"),
  since: Timestamp.optional().describe("changed at or after (ISO 8601)"),
  until: Timestamp.optional().describe("changed at or before (ISO 8601)"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2048).optional().describe("nextCursor of the previous page"),
});

const errors = {
  400: { description: "A bad parameter or body", schema: ErrorResponse },
  401: { description: "No valid bearer token", schema: ErrorResponse },
};

/** The services a listing reads: the one asked for (it must exist), else every one. */
function servicesOf(deps: ApiDeps, service: string | undefined): string[] {
  const names = Object.keys(deps.config.services);
  if (service === undefined) return names;
  if (!names.includes(service)) {
    throw new InvalidInputError(
      `invalid query: service: unknown service "${service}" (services: ${names.join(", ") || "none defined"})`,
    );
  }
  return [service];
}

/**
 * An incident's `changes` in `GET /incidents/{id}`: its service's and its dependencies' in the
 * hour before it started, newest first (see `changesBefore`).
 */
export const incidentChanges = async (deps: ApiDeps, incident: Incident) =>
  changesBefore(deps.changes, deps.config, incident);

/**
 * `POST /changes` (a pipeline reports a deploy) and `GET /changes`. A POSTed change's id is
 * derived from its body (`apiChangeIdentity`): the same body twice is one change, and both
 * answers are 201 with it.
 */
export function changeRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route<undefined, z.output<typeof ChangeInputSchema>>({
      method: "POST",
      path: "/changes",
      summary: "Record a change (a deploy) to a service; the same body twice is one change",
      tags: ["changes"],
      body: ChangeInputSchema,
      responses: { 201: { description: "The change", schema: ChangeSchema }, ...errors },
      handle: async ({ body }) => {
        const { changes, config, clock } = await deps();
        const recorder = new ChangeRecorder({ store: changes, config, clock });
        const { change } = await recorder.fromApi(body);
        return json(201, change);
      },
    }),
    route<z.output<typeof ListChangesQuery>>({
      method: "GET",
      path: "/changes",
      summary: "List changes, newest first",
      tags: ["changes"],
      query: ListChangesQuery,
      responses: {
        200: {
          description: "A page of changes",
          schema: z.object({ items: z.array(ChangeSchema), nextCursor: z.string().nullable() }),
        },
        ...errors,
      },
      handle: async ({ query }) => {
        const current = await deps();
        const page = await current.changes.list({
          services: servicesOf(current, query.service),
          since: query.since,
          until: query.until,
          limit: query.limit,
          cursor: query.cursor,
        });
        return json(200, page);
      },
    }),
  ];
}
