import {
  type ApiDeps,
  assembleTimeline,
  type Incident,
  IncidentSchema,
  loadIncident,
  type Silence,
  silenceLookup,
} from "@firebreak/core";
import * as z from "zod";

/** An incident as the API shows it: with the silence holding it now, if any. */
export const IncidentView = IncidentSchema.extend({
  /** The silence holding it now, if any: it is recorded, and nothing responds to it. */
  silencedBy: z.string().nullable(),
});

/** What a command on an incident answers. */
export const CommandResponse = z.object({
  changed: z.boolean(),
  message: z.string(),
  incident: IncidentView,
});

/** How to show incidents given the silences in force at `now` (core's `silenceLookup`). */
export async function incidentViews(
  active: ReadonlyArray<Silence>,
  now: number,
): Promise<(incident: Incident) => z.output<typeof IncidentView>> {
  const silenceOf = await silenceLookup(active, now);
  return (incident) => ({
    ...incident,
    silencedBy: incident.status === "resolved" ? null : (silenceOf(incident)?.id ?? null),
  });
}

/** An incident's record and its whole timeline (spilled pages and inline tail). */
export async function loadWithTimeline(store: ApiDeps["store"], id: string) {
  const record = await loadIncident(store, id);
  return { record, timeline: assembleTimeline(record, await store.getTimelinePages(id)) };
}
