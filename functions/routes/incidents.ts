import {
  ActionViewSchema,
  AlertViewSchema,
  type ApiDeps,
  actionView,
  alertView,
  ChangeSchema,
  EscalationViewSchema,
  escalationView,
  INCIDENT_STATUSES,
  SeveritySchema,
  SourceSchema,
  TimelineEntrySchema,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ERRORS, IncidentParams, Timestamp } from "../lib/params";
import { type Route, route } from "../lib/router";
import { incidentChanges } from "./changes";
import { IncidentView, incidentViews, loadWithTimeline } from "./incident-view";

export const ListIncidentsQuery = z.strictObject({
  status: z.enum(["open", ...INCIDENT_STATUSES]).optional(),
  severity: SeveritySchema.optional(),
  source: SourceSchema.optional(),
  service: z.string().min(1).max(64).optional().describe("incidents of this service"),
  since: Timestamp.optional().describe("first seen at or after (ISO 8601)"),
  until: Timestamp.optional().describe("first seen at or before (ISO 8601)"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2048).optional().describe("nextCursor of the previous page"),
});

const IncidentDetail = IncidentView.extend({
  /** What each source says about what (one per fingerprint), each with its own lifecycle. */
  alerts: z.array(AlertViewSchema),
  timeline: z.array(TimelineEntrySchema),
  actions: z.array(ActionViewSchema),
  escalation: EscalationViewSchema,
  /** Changes to its service and the services it depends on in the hour before it started. */
  changes: z.array(ChangeSchema),
});

/** Reading incidents: the list the console opens with, and one incident whole. */
export function incidentRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route<z.output<typeof ListIncidentsQuery>>({
      method: "GET",
      path: "/incidents",
      summary: "List incidents, open first, newest first",
      tags: ["incidents"],
      query: ListIncidentsQuery,
      responses: {
        200: {
          description: "A page of incidents",
          schema: z.object({ items: z.array(IncidentView), nextCursor: z.string().nullable() }),
        },
        ...ERRORS,
      },
      handle: async ({ query }) => {
        const { store, silences, clock } = await deps();
        const now = clock.now();
        const [page, active] = await Promise.all([store.list(query), silences.listActive(now)]);
        const view = await incidentViews(active, now);
        return json(200, { items: page.items.map(view), nextCursor: page.nextCursor });
      },
    }),
    route({
      method: "GET",
      path: "/incidents/{id}",
      summary: "One incident with its whole timeline and every action",
      tags: ["incidents"],
      params: IncidentParams,
      responses: { 200: { description: "The incident", schema: IncidentDetail }, ...ERRORS },
      handle: async ({ params }) => {
        const api = await deps();
        // One moment for both: the silences in force then are the ones it is shown with.
        const now = api.clock.now();
        const [{ record, timeline }, active] = await Promise.all([
          loadWithTimeline(api.store, params.id as string),
          api.silences.listActive(now),
        ]);
        const view = await incidentViews(active, now);
        return json(200, {
          ...view(record.incident),
          alerts: record.alerts.map(alertView),
          timeline,
          actions: record.actions.map(actionView),
          escalation: escalationView(record, api.config),
          changes: await incidentChanges(api, record.incident),
        });
      },
    }),
  ];
}
