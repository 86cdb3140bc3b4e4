import {
  type ApiDeps,
  ConflictError,
  DurationSchema,
  InvalidInputError,
  loadIncident,
  MaintenanceIdPattern,
  type MaintenanceWindowConfig,
  MaintenanceWindowSchema,
  MaintenanceWindowViewSchema,
  NotFoundError,
  newIncidentSilence,
  newMaintenanceWindow,
  policyWindows,
  SilenceSchema,
  windowView,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ErrorResponse, IncidentParams } from "../lib/params";
import { type Route, route } from "../lib/router";

const errors = {
  400: { description: "A bad parameter or body", schema: ErrorResponse },
  401: { description: "No valid bearer token", schema: ErrorResponse },
  404: { description: "No such window or incident", schema: ErrorResponse },
};

// Policy windows are `policy:<name>`: listed so people see them, changed only in the policy.
const WindowParams = z.object({
  id: z
    .string()
    .transform((value) => (value.startsWith("policy:") ? value : value.toUpperCase()))
    .pipe(
      z
        .string()
        .regex(
          /^(policy:[A-Za-z0-9._-]{1,63}|M[0-9A-HJKMNP-TV-Z]{5})$/,
          "a window id such as M4K2PX (or policy:<name>)",
        ),
    ),
});

/** `{"until": "resolved"}`, or `{"duration": "2h"}`; a reason either way. */
const IncidentSilenceBody = z
  .strictObject({
    until: z.literal("resolved").optional(),
    duration: DurationSchema.refine(
      (ms) => ms >= 60_000 && ms <= 30 * 86_400_000,
      "between 1m and 30d",
    ).optional(),
    reason: z.string().trim().max(500).optional(),
  })
  .refine((body) => (body.until === undefined) !== (body.duration === undefined), {
    message: 'give exactly one of until: "resolved" or duration',
    path: ["until"],
  });

/**
 * Maintenance windows (`GET|POST|DELETE /maintenance`) and silencing one incident until it
 * resolves (`POST /incidents/{id}/silence`), as route entries for the API's table.
 */
export function maintenanceRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route({
      method: "GET",
      path: "/maintenance",
      summary:
        "Maintenance windows: the policy's (read-only) and those made here, with their periods",
      tags: ["maintenance"],
      responses: {
        200: {
          description: "Windows, the policy's first",
          schema: z.object({ items: z.array(MaintenanceWindowViewSchema) }),
        },
        ...errors,
      },
      handle: async () => {
        const { silences, config, clock } = await deps();
        const now = clock.now();
        const windows = [...policyWindows(config), ...(await silences.listWindows(now))];
        return json(200, { items: windows.map((window) => windowView(window, now)) });
      },
    }),
    route<undefined, MaintenanceWindowConfig>({
      method: "POST",
      path: "/maintenance",
      summary:
        "Add a window, written like a policy window: name, match, and start/end or cron/timeZone/duration",
      tags: ["maintenance"],
      body: MaintenanceWindowSchema,
      responses: {
        201: { description: "The window", schema: MaintenanceWindowViewSchema },
        409: { description: "The policy has a window of that name", schema: ErrorResponse },
        ...errors,
      },
      handle: async ({ body, actor }) => {
        const { silences, config, clock } = await deps();
        const now = clock.now();
        const window = newMaintenanceWindow(body, actor, now);
        const named = window.match.service === undefined ? [] : [window.match.service].flat();
        const unknown = named.filter((service) => !Object.hasOwn(config.services, service));
        if (unknown.length > 0) {
          const known = Object.keys(config.services).join(", ") || "none defined";
          throw new InvalidInputError(
            `match.service: unknown service ${unknown.join(", ")} (services: ${known})`,
          );
        }
        if (config.maintenance.some((known) => known.name === window.name)) {
          throw new ConflictError(
            `the policy has a window named ${window.name}: choose another name`,
          );
        }
        await silences.putWindow(window);
        return json(201, windowView(window, now));
      },
    }),
    route({
      method: "DELETE",
      path: "/maintenance/{id}",
      summary: "Remove a window made through the API (the policy's are changed in the policy)",
      tags: ["maintenance"],
      params: WindowParams,
      responses: {
        200: { description: "Removed", schema: z.object({ removed: z.string() }) },
        409: { description: "A window of the policy", schema: ErrorResponse },
        ...errors,
      },
      handle: async ({ params }) => {
        const { silences, config } = await deps();
        const id = params.id as string;
        if (id.startsWith("policy:")) {
          const name = id.slice("policy:".length);
          if (!config.maintenance.some((window) => window.name === name))
            throw new NotFoundError(`no window ${id}`);
          throw new ConflictError(
            `${id} is in the policy: remove it from monitoring.config.ts and deploy`,
          );
        }
        if (!MaintenanceIdPattern.test(id) || !(await silences.deleteWindow(id)))
          throw new NotFoundError(`no window ${id}`);
        return json(200, { removed: id });
      },
    }),
    route<undefined, z.output<typeof IncidentSilenceBody>>({
      method: "POST",
      path: "/incidents/{id}/silence",
      summary:
        'Silence one incident: every alert of it recorded, nothing paged or done, until it resolves ({"until": "resolved"}) or for a duration',
      tags: ["silences"],
      params: IncidentParams,
      body: IncidentSilenceBody,
      responses: { 201: { description: "The silence", schema: SilenceSchema }, ...errors },
      handle: async ({ params, body, actor }) => {
        const { store, silences, clock } = await deps();
        const record = await loadIncident(store, params.id as string);
        const silence = newIncidentSilence({
          incident: record.incident,
          reason: body.reason || null,
          createdBy: actor,
          duration: body.duration ?? "until-resolved",
          now: clock.now(),
        });
        await silences.put(silence);
        return json(201, silence);
      },
    }),
  ];
}
