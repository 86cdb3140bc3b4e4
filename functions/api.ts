import {
  ActionViewSchema,
  type ApiDeps,
  actionView,
  assembleTimeline,
  authenticateBearer,
  buildPostmortem,
  DurationSchema,
  INCIDENT_STATUSES,
  type Incident,
  IncidentCommands,
  IncidentSchema,
  loadIncident,
  NotFoundError,
  newSilence,
  once,
  PostmortemSchema,
  parseIncidentId,
  parseMatcher,
  renderPostmortemMarkdown,
  SeveritySchema,
  SilenceIdPattern,
  SilenceMatchSchema,
  SilenceSchema,
  type SilenceStore,
  SourceSchema,
  SummarySchema,
  silenceFor,
  summarize,
  TimelineEntrySchema,
} from "@firebreak/core";
import * as z from "zod";
import { awsApp } from "./lib/aws";
import { type HttpEvent, header, json, text } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";
import { openApiDocument } from "./lib/openapi";
import { createRouter, type Route, route } from "./lib/router";

const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString());

export const ListIncidentsQuery = z.strictObject({
  status: z.enum(["open", ...INCIDENT_STATUSES]).optional(),
  severity: SeveritySchema.optional(),
  source: SourceSchema.optional(),
  since: Timestamp.optional().describe("first seen at or after (ISO 8601)"),
  until: Timestamp.optional().describe("first seen at or before (ISO 8601)"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2048).optional().describe("nextCursor of the previous page"),
});

const IncidentId = z.string().transform((value, ctx) => {
  const id = parseIncidentId(value);
  if (!id) {
    ctx.addIssue({
      code: "custom",
      message: "an incident id is 7 letters and digits, like K7Q2XPD",
    });
    return z.NEVER;
  }
  return id;
});
const IncidentParams = z.object({ id: IncidentId });
const ActionParams = z.object({
  id: IncidentId,
  actionId: z.string().regex(/^a\d{1,4}$/, "an action id such as a2"),
});
const SilenceParams = z.object({
  id: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.string().regex(SilenceIdPattern, "a silence id such as S4K2PX")),
});

const IncidentView = IncidentSchema.extend({
  /** The silence holding it now, if any: it is recorded, and nothing responds to it. */
  silencedBy: z.string().nullable(),
});
const IncidentDetail = IncidentView.extend({
  timeline: z.array(TimelineEntrySchema),
  actions: z.array(ActionViewSchema),
});
const CommandResponse = z.object({
  changed: z.boolean(),
  message: z.string(),
  incident: IncidentView,
});
const ErrorResponse = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const ResolveBody = z
  .strictObject({ note: z.string().trim().min(1).max(2000).optional() })
  .default({});
const NoteBody = z.strictObject({ text: z.string().trim().min(1).max(2000) });
const SilenceBody = z
  .strictObject({
    /** `alarmName=api-* source=cloudwatch`, as in Slack; or `match`, as in a rule. */
    matcher: z.string().min(1).max(500).optional(),
    match: SilenceMatchSchema.optional(),
    duration: DurationSchema.refine(
      (ms) => ms >= 60_000 && ms <= 30 * 86_400_000,
      "between 1m and 30d",
    ),
    reason: z.string().trim().max(500).optional(),
  })
  .refine((body) => (body.matcher === undefined) !== (body.match === undefined), {
    message: "give exactly one of matcher (text) or match (object)",
    path: ["matcher"],
  });
const SummaryQuery = z.strictObject({ since: Timestamp.optional(), until: Timestamp.optional() });

const errors = {
  400: { description: "A bad parameter or body", schema: ErrorResponse },
  401: { description: "No valid bearer token", schema: ErrorResponse },
  404: { description: "No such incident, action or silence", schema: ErrorResponse },
};

/** The incidents API as one table: each route's schemas validate it and describe it. */
export function apiRoutes(deps: () => Promise<ApiDeps>): Route[] {
  const view = (
    incident: Incident,
    silences: Awaited<ReturnType<SilenceStore["listActive"]>>,
    now: number,
  ) => ({
    ...incident,
    silencedBy:
      incident.status === "resolved" ? null : (silenceFor(incident, silences, now)?.id ?? null),
  });
  const commands = async () => {
    const { store, config, clock, region } = await deps();
    return new IncidentCommands({ store, config, clock, region });
  };
  const load = async (id: string) => {
    const { store, silences, clock } = await deps();
    const record = await loadIncident(store, id);
    const now = clock.now();
    const timeline = assembleTimeline(record, await store.getTimelinePages(id));
    return { record, timeline, now, active: await silences.listActive(now) };
  };
  const command = async (
    run: (commands: IncidentCommands) => ReturnType<IncidentCommands["acknowledge"]>,
  ) => {
    const result = await run(await commands());
    const { silences, clock } = await deps();
    const now = clock.now();
    return json(200, {
      changed: result.changed,
      message: result.message,
      incident: view(result.incident, await silences.listActive(now), now),
    });
  };

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
        ...errors,
      },
      handle: async ({ query }) => {
        const { store, silences, clock } = await deps();
        const now = clock.now();
        const [page, active] = await Promise.all([store.list(query), silences.listActive(now)]);
        return json(200, {
          items: page.items.map((incident) => view(incident, active, now)),
          nextCursor: page.nextCursor,
        });
      },
    }),
    route({
      method: "GET",
      path: "/incidents/{id}",
      summary: "One incident with its whole timeline and every action",
      tags: ["incidents"],
      params: IncidentParams,
      responses: { 200: { description: "The incident", schema: IncidentDetail }, ...errors },
      handle: async ({ params }) => {
        const { record, timeline, now, active } = await load(params.id as string);
        return json(200, {
          ...view(record.incident, active, now),
          timeline,
          actions: record.actions.map(actionView),
        });
      },
    }),
    route({
      method: "POST",
      path: "/incidents/{id}/acknowledge",
      summary: "Acknowledge: someone is on it (stops escalation)",
      tags: ["incidents"],
      params: IncidentParams,
      responses: {
        200: { description: "Acknowledged, or why not", schema: CommandResponse },
        ...errors,
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
        ...errors,
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
      responses: { 200: { description: "The note was added", schema: CommandResponse }, ...errors },
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
        ...errors,
      },
      handle: ({ params, actor }) =>
        command((incidents) =>
          incidents.approve(params.id as string, params.actionId as string, actor),
        ),
    }),
    route({
      method: "GET",
      path: "/incidents/{id}/postmortem",
      summary: "The post-mortem report: Markdown, or JSON with Accept: application/json",
      tags: ["reports"],
      params: IncidentParams,
      responses: {
        200: { description: "The report (text/markdown by default)", schema: PostmortemSchema },
        ...errors,
      },
      handle: async ({ params, event }) => {
        const { record, timeline, now } = await load(params.id as string);
        const report = buildPostmortem(record, timeline, new Date(now).toISOString());
        if (wantsJson(event)) return json(200, report);
        return text(200, renderPostmortemMarkdown(report), "text/markdown; charset=utf-8");
      },
    }),
    route<z.output<typeof SummaryQuery>>({
      method: "GET",
      path: "/reports/summary",
      summary: "Counts, MTTA and MTTR by severity, and the noisiest fingerprints",
      tags: ["reports"],
      query: SummaryQuery,
      responses: { 200: { description: "The summary", schema: SummarySchema }, ...errors },
      handle: async ({ query }) => {
        const { store } = await deps();
        const incidents: Incident[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({
            since: query.since,
            until: query.until,
            limit: 200,
            cursor,
          });
          incidents.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor && incidents.length < 50_000);
        return json(
          200,
          summarize(incidents, { since: query.since ?? null, until: query.until ?? null }),
        );
      },
    }),
    route({
      method: "GET",
      path: "/silences",
      summary: "Silences in force",
      tags: ["silences"],
      responses: {
        200: { description: "Silences", schema: z.object({ items: z.array(SilenceSchema) }) },
        ...errors,
      },
      handle: async () => {
        const { silences, clock } = await deps();
        return json(200, { items: await silences.listActive(clock.now()) });
      },
    }),
    route<undefined, z.output<typeof SilenceBody>>({
      method: "POST",
      path: "/silences",
      summary: "Silence matching signals for a while: recorded, counted, nothing responds",
      tags: ["silences"],
      body: SilenceBody,
      responses: { 201: { description: "The silence", schema: SilenceSchema }, ...errors },
      handle: async ({ body, actor }) => {
        const { silences, clock } = await deps();
        const match = body.match ?? parseMatcher(body.matcher as string);
        const silence = newSilence({
          match,
          matcher: body.matcher ?? matcherText(match),
          reason: body.reason || null,
          createdBy: actor,
          duration: body.duration,
          now: clock.now(),
        });
        await silences.put(silence);
        return json(201, silence);
      },
    }),
    route({
      method: "DELETE",
      path: "/silences/{id}",
      summary: "End a silence now",
      tags: ["silences"],
      params: SilenceParams,
      responses: {
        200: { description: "Removed", schema: z.object({ removed: z.string() }) },
        ...errors,
      },
      handle: async ({ params }) => {
        const { silences } = await deps();
        if (!(await silences.delete(params.id as string)))
          throw new NotFoundError(`no silence ${params.id}`);
        return json(200, { removed: params.id });
      },
    }),
  ];
}

/** A match object written back as the matcher text people type. */
function matcherText(match: Record<string, unknown>): string {
  return Object.entries(match)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(",") : String(value)}`)
    .join(" ");
}

const wantsJson = (event: HttpEvent) =>
  /\bapplication\/json\b/i.test(header(event, "accept") ?? "");

/** The incidents API behind API Gateway: bearer tokens, JSON errors, routes from one table. */
export function createApiHandler(deps: () => Promise<ApiDeps>) {
  const logger = createLogger("api");
  const all: Route[] = [
    ...apiRoutes(deps),
    route({
      method: "GET",
      path: "/openapi.json",
      summary: "This description",
      tags: ["meta"],
      public: true,
      handle: async () => json(200, await document()),
    }),
  ];
  // Built on first request: turning every schema into JSON Schema costs a cold start ~15 ms.
  const document = once(async () =>
    openApiDocument(all, { title: "Firebreak incidents API", version: "1" }),
  );
  const router = createRouter(all, async (event) => {
    const { tokens } = await deps();
    return `api:${authenticateBearer(header(event, "authorization"), tokens).name}`;
  });
  return httpLambda(logger, router);
}

export const handler = createApiHandler(awsApp.api);
