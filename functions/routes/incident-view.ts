import {
  type ApiDeps,
  assembleTimeline,
  type Incident,
  IncidentSchema,
  loadIncident,
  type Silence,
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

/**
 * How to show incidents given the silences in force at `now`. The matcher loads only when there
 * is a silence to match (./lib/silence-for.ts says why).
 */
export async function incidentViews(
  active: ReadonlyArray<Silence>,
  now: number,
): Promise<(incident: Incident) => z.output<typeof IncidentView>> {
  if (active.length === 0) return (incident) => ({ ...incident, silencedBy: null });
  const { silenceFor } = await import("../lib/silence-for");
  return (incident) => ({
    ...incident,
    silencedBy:
      incident.status === "resolved" ? null : (silenceFor(incident, active, now)?.id ?? null),
  });
}

/** An incident's record and its whole timeline (spilled pages and inline tail), read at `now`. */
export async function loadWithTimeline(deps: ApiDeps, id: string) {
  const { store, clock } = deps;
  const record = await loadIncident(store, id);
  const timeline = assembleTimeline(record, await store.getTimelinePages(id));
  return { record, timeline, now: clock.now() };
}
