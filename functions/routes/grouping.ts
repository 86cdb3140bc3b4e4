import {
  type ApiDeps,
  type CommandResult,
  IncidentCommands,
  IncidentSchema,
  SeveritySchema,
  silenceFor,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ErrorResponse, IncidentId, IncidentParams } from "../lib/params";
import { type Route, route } from "../lib/router";

const errors = {
  400: {
    description: "A bad parameter or body (the message names the field)",
    schema: ErrorResponse,
  },
  401: { description: "No valid bearer token", schema: ErrorResponse },
  404: { description: "No such incident or alert", schema: ErrorResponse },
  409: {
    description: "Not possible in the incidents' state (into itself, into a resolved one...)",
    schema: ErrorResponse,
  },
};

const AlertParams = z.object({
  id: IncidentId,
  alertId: z.string().regex(/^al[1-9][0-9]{0,4}$/, "an alert id such as al2"),
});
const MergeBody = z.strictObject({ into: IncidentId });
const PatchBody = z
  .strictObject({
    severity: SeveritySchema.optional(),
    title: z.string().trim().min(1).max(300).optional(),
    reason: z.string().trim().max(2000).optional(),
  })
  .refine((body) => body.severity !== undefined || body.title !== undefined, {
    message: "give severity or title (or both)",
    path: ["severity"],
  });

const CommandResponse = z.object({
  changed: z.boolean(),
  message: z.string(),
  incident: IncidentSchema.extend({ silencedBy: z.string().nullable() }),
});

/**
 * People correcting grouping: merge one incident into another, split an alert off into an
 * incident of its own, and set an incident's severity or title (`PATCH`), each recorded with
 * who and why. Route entries for the API's table.
 */
export function groupingRoutes(deps: () => Promise<ApiDeps>): Route[] {
  const command = async (run: (commands: IncidentCommands) => Promise<CommandResult>) => {
    const { store, config, clock, region, silences } = await deps();
    const result = await run(new IncidentCommands({ store, config, clock, region }));
    const now = clock.now();
    const silence =
      result.incident.status === "resolved"
        ? null
        : silenceFor(result.incident, await silences.listActive(now), now);
    return json(200, {
      changed: result.changed,
      message: result.message,
      incident: { ...result.incident, silencedBy: silence?.id ?? null },
    });
  };
  return [
    route<undefined, z.output<typeof MergeBody>>({
      method: "POST",
      path: "/incidents/{id}/merge",
      summary: "Merge this incident into another: it takes the alerts, this one resolves",
      tags: ["incidents"],
      params: IncidentParams,
      body: MergeBody,
      responses: { 200: { description: "Merged, or why not", schema: CommandResponse }, ...errors },
      handle: ({ params, body, actor }) =>
        command((incidents) => incidents.merge(params.id as string, body.into, actor)),
    }),
    route({
      method: "POST",
      path: "/incidents/{id}/alerts/{alertId}/split",
      summary: "Split an alert off into an incident of its own (its later signals go there)",
      tags: ["incidents"],
      params: AlertParams,
      responses: { 200: { description: "Split off", schema: CommandResponse }, ...errors },
      handle: ({ params, actor }) =>
        command((incidents) =>
          incidents.split(params.id as string, params.alertId as string, actor),
        ),
    }),
    route<undefined, z.output<typeof PatchBody>>({
      method: "PATCH",
      path: "/incidents/{id}",
      summary: "Set the severity or title, with a reason (a set severity sticks)",
      tags: ["incidents"],
      params: IncidentParams,
      body: PatchBody,
      responses: {
        200: { description: "Changed, or why not", schema: CommandResponse },
        ...errors,
      },
      handle: ({ params, body, actor }) =>
        command((incidents) =>
          incidents.edit(params.id as string, actor, {
            severity: body.severity,
            title: body.title,
            reason: body.reason ?? null,
          }),
        ),
    }),
  ];
}
