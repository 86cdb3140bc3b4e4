import {
  type ApiDeps,
  type CommandResult,
  IncidentCommands,
  SeveritySchema,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ERRORS, ErrorResponse, IncidentId, IncidentParams } from "../lib/params";
import { type Route, route } from "../lib/router";
import { CommandResponse, incidentViews } from "./incident-view";

/** The 4xx answers of the grouping commands, which a state can refuse. */
const groupingErrors = {
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

const ActionParams = z.object({
  id: IncidentId,
  actionId: z.string().regex(/^a\d{1,4}$/, "an action id such as a2"),
});
const ResolveBody = z
  .strictObject({ note: z.string().trim().min(1).max(2000).optional() })
  .default({});
const NoteBody = z.strictObject({ text: z.string().trim().min(1).max(2000) });

/**
 * What people do to an incident, each recorded with who (and why): acknowledge, resolve, note,
 * approve an action; and correct grouping: merge one incident into another, split an alert off
 * into an incident of its own, set its severity or title (`PATCH`).
 */
export function commandRoutes(deps: () => Promise<ApiDeps>): Route[] {
  const command = async (run: (commands: IncidentCommands) => Promise<CommandResult>) => {
    const { store, config, clock, region, silences } = await deps();
    const result = await run(new IncidentCommands({ store, config, clock, region }));
    const now = clock.now();
    const view = await incidentViews(await silences.listActive(now), now);
    return json(200, {
      changed: result.changed,
      message: result.message,
      incident: view(result.incident),
    });
  };
  return [
    route({
      method: "POST",
      path: "/incidents/{id}/acknowledge",
      summary: "Acknowledge: someone is on it (stops escalation)",
      tags: ["incidents"],
      params: IncidentParams,
      responses: {
        200: { description: "Acknowledged, or why not", schema: CommandResponse },
        ...ERRORS,
      },
      handle: ({ params, actor }) =>
        command((incidents) => incidents.acknowledge(params.id as string, actor)),
    }),
    route<undefined, z.output<typeof ResolveBody>>({
      method: "POST",
      path: "/incidents/{id}/resolve",
      summary: "Resolve, with an optional note",
      tags: ["incidents"],
      params: IncidentParams,
      body: ResolveBody,
      responses: {
        200: { description: "Resolved, or why not", schema: CommandResponse },
        ...ERRORS,
      },
      handle: ({ params, body, actor }) =>
        command((incidents) => incidents.resolve(params.id as string, actor, body?.note ?? null)),
    }),
    route<undefined, z.output<typeof NoteBody>>({
      method: "POST",
      path: "/incidents/{id}/notes",
      summary: "Add a note to the timeline",
      tags: ["incidents"],
      params: IncidentParams,
      body: NoteBody,
      responses: { 200: { description: "The note was added", schema: CommandResponse }, ...ERRORS },
      handle: ({ params, body, actor }) =>
        command((incidents) => incidents.note(params.id as string, actor, body.text)),
    }),
    route({
      method: "POST",
      path: "/incidents/{id}/actions/{actionId}/approve",
      summary: "Approve an action waiting for approval (it then runs, guards permitting)",
      tags: ["incidents"],
      params: ActionParams,
      responses: {
        200: { description: "Approved, or why not", schema: CommandResponse },
        ...ERRORS,
      },
      handle: ({ params, actor }) =>
        command((incidents) =>
          incidents.approve(params.id as string, params.actionId as string, actor),
        ),
    }),
    route<undefined, z.output<typeof MergeBody>>({
      method: "POST",
      path: "/incidents/{id}/merge",
      summary: "Merge this incident into another: it takes the alerts, this one resolves",
      tags: ["incidents"],
      params: IncidentParams,
      body: MergeBody,
      responses: {
        200: { description: "Merged, or why not", schema: CommandResponse },
        ...groupingErrors,
      },
      handle: ({ params, body, actor }) =>
        command((incidents) => incidents.merge(params.id as string, body.into, actor)),
    }),
    route({
      method: "POST",
      path: "/incidents/{id}/alerts/{alertId}/split",
      summary: "Split an alert off into an incident of its own (its later signals go there)",
      tags: ["incidents"],
      params: AlertParams,
      responses: { 200: { description: "Split off", schema: CommandResponse }, ...groupingErrors },
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
        ...groupingErrors,
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
