import {
  type ApiDeps,
  buildPostmortem,
  type CountRange,
  type IncidentRecord,
  type IncidentStore,
  PostmortemSchema,
  renderPostmortemMarkdown,
  SummarySchema,
  summarize,
} from "@firebreak/core";
import * as z from "zod";
import { type HttpEvent, header, json, text } from "../lib/http";
import { ERRORS, IncidentParams, Timestamp } from "../lib/params";
import { type Route, route } from "../lib/router";
import { incidentChanges } from "./changes";
import { loadWithTimeline } from "./incident-view";

/** The most incidents one summary reads, as before it read their alerts. */
const MAX_INCIDENTS = 50_000;
/** Records read at once: the table takes many small reads in flight. */
const READS_IN_FLIGHT = 16;

/**
 * The records of the incidents that opened in a range, for `summarize`: the list index finds
 * them (200 a page), then each record is read for its alerts and actions, which the list does not
 * carry. An incident that expired between the two reads is left out.
 */
export async function summaryRecords(
  store: Pick<IncidentStore, "list" | "get">,
  range: CountRange,
): Promise<IncidentRecord[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      since: range.since ?? undefined,
      until: range.until ?? undefined,
      limit: 200,
      cursor,
    });
    ids.push(...page.items.map((incident) => incident.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && ids.length < MAX_INCIDENTS);
  const records: IncidentRecord[] = [];
  let next = 0;
  const reader = async () => {
    for (let index = next++; index < ids.length; index = next++) {
      const record = await store.get(ids[index] as string);
      if (record) records.push(record);
    }
  };
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
  return records;
}

const SummaryQuery = z.strictObject({ since: Timestamp.optional(), until: Timestamp.optional() });

const wantsJson = (event: HttpEvent) =>
  /\bapplication\/json\b/i.test(header(event, "accept") ?? "");

/** Reports: one incident's post-mortem, and the summary of a range. */
export function reportRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route({
      method: "GET",
      path: "/incidents/{id}/postmortem",
      summary: "The post-mortem report: Markdown, or JSON with Accept: application/json",
      tags: ["reports"],
      params: IncidentParams,
      responses: {
        200: { description: "The report (text/markdown by default)", schema: PostmortemSchema },
        ...ERRORS,
      },
      handle: async ({ params, event }) => {
        const api = await deps();
        const { record, timeline } = await loadWithTimeline(api.store, params.id as string);
        const changes = await incidentChanges(api, record.incident);
        const generatedAt = new Date(api.clock.now()).toISOString();
        const report = buildPostmortem(record, timeline, generatedAt, changes);
        if (wantsJson(event)) return json(200, report);
        return text(200, renderPostmortemMarkdown(report), "text/markdown; charset=utf-8");
      },
    }),
    route<z.output<typeof SummaryQuery>>({
      method: "GET",
      path: "/reports/summary",
      summary:
        "Counts, MTTA and MTTR by severity, the noisiest fingerprints and services, alerts per incident, ignored and held",
      tags: ["reports"],
      query: SummaryQuery,
      responses: { 200: { description: "The summary", schema: SummarySchema }, ...ERRORS },
      handle: async ({ query }) => {
        const { store, counters } = await deps();
        const range = { since: query.since ?? null, until: query.until ?? null };
        return json(
          200,
          summarize(await summaryRecords(store, range), range, await counters.totals(range)),
        );
      },
    }),
  ];
}
