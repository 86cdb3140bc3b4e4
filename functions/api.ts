import {
  ActionViewSchema,
  AlertViewSchema,
  type ApiDeps,
  actionView,
  alertView,
  assembleTimeline,
  authenticateBearer,
  buildPostmortem,
  type CalendarShift,
  ChangeSchema,
  constantTimeEqual,
  DurationSchema,
  EscalationViewSchema,
  escalationView,
  INCIDENT_STATUSES,
  type Incident,
  IncidentCommands,
  IncidentSchema,
  InvalidInputError,
  loadIncident,
  MAX_ONCALL_RANGE_MS,
  NotFoundError,
  newOverride,
  newSilence,
  OnCallNamePattern,
  OverrideIdPattern,
  once,
  PostmortemSchema,
  parseMatcher,
  renderCalendar,
  renderPostmortemMarkdown,
  ScheduleOverrideSchema,
  SeveritySchema,
  SilenceIdPattern,
  SilenceMatchSchema,
  SilenceSchema,
  type SilenceStore,
  SourceSchema,
  SummarySchema,
  scheduleOf,
  scheduleShifts,
  silenceFor,
  summarize,
  TimelineEntrySchema,
  UnauthorizedError,
  whoIsOnCall,
} from "@firebreak/core";
import * as z from "zod";
import { awsApp } from "./lib/aws";
import { type HttpEvent, header, json, text } from "./lib/http";
import { createLogger } from "./lib/logger";
import { httpLambda } from "./lib/middleware";
import { openApiDocument } from "./lib/openapi";
import { ErrorResponse, IncidentId, IncidentParams } from "./lib/params";
import { createRouter, type Route, route } from "./lib/router";
import { changeRoutes, incidentChanges } from "./routes/changes";
import { groupingRoutes } from "./routes/grouping";
import { maintenanceRoutes } from "./routes/maintenance";
import { metricRoutes } from "./routes/metrics";
import { summaryRecords } from "./routes/summary";

const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString());

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

const OnCallName = z.string().regex(OnCallNamePattern, "a name from the config, such as primary");
const ScheduleParams = z.object({ name: OnCallName });
const OverrideParams = z.object({
  name: OnCallName,
  id: z.string().regex(OverrideIdPattern, "an override id such as O4K2PXQ7"),
});
const OnCallQuery = z.strictObject({
  at: Timestamp.optional().describe("the moment to ask about (ISO 8601); default now"),
});
const OnCallView = z.object({
  schedule: z.string(),
  person: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});
const ShiftsQuery = z
  .strictObject({
    from: Timestamp.optional().describe("start of the range (ISO 8601); default now"),
    to: Timestamp.optional().describe("end of the range (ISO 8601); default 7 days after from"),
  })
  .describe("at most 90 days");
const ShiftView = z.object({
  person: z.string(),
  from: z.string(),
  to: z.string(),
  override: z.boolean(),
});
const OverrideBody = z.strictObject({
  person: OnCallName,
  from: Timestamp,
  to: Timestamp,
});
// Calendar apps may add parameters of their own; only the token is read.
const CalendarQuery = z.object({ token: z.string().max(512).optional() });

const IncidentView = IncidentSchema.extend({
  /** The silence holding it now, if any: it is recorded, and nothing responds to it. */
  silencedBy: z.string().nullable(),
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
const CommandResponse = z.object({
  changed: z.boolean(),
  message: z.string(),
  incident: IncidentView,
});

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
function incidentRoutes(deps: () => Promise<ApiDeps>): Route[] {
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

  // Calendar apps cannot send headers: the feeds carry their own token in the URL, compared in
  // constant time, and are read-only.
  const checkCalendarToken = async (presented: string | undefined) => {
    const { calendarToken } = await deps();
    if (!constantTimeEqual(await calendarToken(), presented ?? ""))
      throw new UnauthorizedError("missing or wrong calendar token: add ?token=");
  };
  const calendar = (name: string, shifts: CalendarShift[], now: number) =>
    text(200, renderCalendar({ name, shifts, now }), "text/calendar; charset=utf-8");

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
          alerts: record.alerts.map(alertView),
          timeline,
          actions: record.actions.map(actionView),
          escalation: escalationView(record, (await deps()).config),
          changes: await incidentChanges(await deps(), record.incident),
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
        const changes = await incidentChanges(await deps(), record.incident);
        const report = buildPostmortem(record, timeline, new Date(now).toISOString(), changes);
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
      responses: { 200: { description: "The summary", schema: SummarySchema }, ...errors },
      handle: async ({ query }) => {
        const { store, counters } = await deps();
        const range = { since: query.since ?? null, until: query.until ?? null };
        return json(
          200,
          summarize(await summaryRecords(store, range), range, await counters.totals(range)),
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
    route<z.output<typeof OnCallQuery>>({
      method: "GET",
      path: "/oncall",
      summary: "Who is on call in every schedule, now or at a given time",
      tags: ["oncall"],
      query: OnCallQuery,
      responses: {
        200: {
          description: "One item per schedule",
          schema: z.object({ items: z.array(OnCallView) }),
        },
        ...errors,
      },
      handle: async ({ query }) => {
        const { config, overrides, clock } = await deps();
        const at = query.at ? Date.parse(query.at) : clock.now();
        return json(200, { items: await whoIsOnCall(config, overrides, at) });
      },
    }),
    route<z.output<typeof ShiftsQuery>>({
      method: "GET",
      path: "/schedules/{name}",
      summary: "A schedule's shifts over a range of at most 90 days, overrides included",
      tags: ["oncall"],
      params: ScheduleParams,
      query: ShiftsQuery,
      responses: {
        200: { description: "The shifts", schema: z.object({ shifts: z.array(ShiftView) }) },
        ...errors,
      },
      handle: async ({ params, query }) => {
        const { config, overrides, clock } = await deps();
        const from = query.from ? Date.parse(query.from) : clock.now();
        const to = query.to ? Date.parse(query.to) : from + 7 * 86_400_000;
        if (!(from < to)) throw new InvalidInputError("from must be before to");
        if (to - from > MAX_ONCALL_RANGE_MS)
          throw new InvalidInputError("a range covers at most 90 days");
        const shifts = await scheduleShifts(config, overrides, params.name as string, from, to);
        return json(200, { shifts });
      },
    }),
    route<undefined, z.output<typeof OverrideBody>>({
      method: "POST",
      path: "/schedules/{name}/overrides",
      summary: "Put someone on call for a while, whoever the rotation has",
      tags: ["oncall"],
      params: ScheduleParams,
      body: OverrideBody,
      responses: {
        201: { description: "The override", schema: ScheduleOverrideSchema },
        ...errors,
      },
      handle: async ({ params, body, actor }) => {
        const { config, overrides, clock } = await deps();
        const override = newOverride(
          config,
          {
            schedule: params.name as string,
            person: body.person,
            from: Date.parse(body.from),
            to: Date.parse(body.to),
            createdBy: actor,
          },
          clock.now(),
        );
        await overrides.put(override);
        return json(201, override);
      },
    }),
    route({
      method: "DELETE",
      path: "/schedules/{name}/overrides/{id}",
      summary: "Remove an override",
      tags: ["oncall"],
      params: OverrideParams,
      responses: {
        200: { description: "Removed", schema: z.object({ removed: z.string() }) },
        ...errors,
      },
      handle: async ({ params }) => {
        const { config, overrides } = await deps();
        const name = params.name as string;
        scheduleOf(config, name);
        if (!(await overrides.delete(name, params.id as string)))
          throw new NotFoundError(`no override ${params.id} in ${name}`);
        return json(200, { removed: params.id });
      },
    }),
    route<z.output<typeof CalendarQuery>>({
      method: "GET",
      path: "/schedules/{name}/calendar.ics",
      summary: "A schedule's shifts as an iCalendar feed (?token=CALENDAR_TOKEN, no bearer)",
      tags: ["oncall"],
      public: true,
      params: ScheduleParams,
      query: CalendarQuery,
      responses: calendarResponses,
      handle: async ({ params, query }) => {
        await checkCalendarToken(query.token);
        const { config, overrides, clock } = await deps();
        const name = params.name as string;
        const { from, to } = feedRange(clock.now());
        const shifts = await scheduleShifts(config, overrides, name, from, to);
        return calendar(
          `On call: ${name}`,
          shifts.map((shift) => ({ ...shift, schedule: name })),
          clock.now(),
        );
      },
    }),
    route<z.output<typeof CalendarQuery>>({
      method: "GET",
      path: "/people/{name}/calendar.ics",
      summary: "A person's shifts in every schedule as an iCalendar feed (?token=CALENDAR_TOKEN)",
      tags: ["oncall"],
      public: true,
      params: ScheduleParams,
      query: CalendarQuery,
      responses: calendarResponses,
      handle: async ({ params, query }) => {
        await checkCalendarToken(query.token);
        const { config, overrides, clock } = await deps();
        const person = params.name as string;
        if (!Object.hasOwn(config.people, person)) throw new NotFoundError(`no person ${person}`);
        const { from, to } = feedRange(clock.now());
        const shifts: CalendarShift[] = [];
        for (const schedule of Object.keys(config.schedules)) {
          for (const shift of await scheduleShifts(config, overrides, schedule, from, to)) {
            if (shift.person === person) shifts.push({ ...shift, schedule });
          }
        }
        shifts.sort((a, b) => a.from.localeCompare(b.from));
        return calendar(`On call: ${person}`, shifts, clock.now());
      },
    }),
  ];
}

/**
 * What a feed covers: the week behind and the weeks ahead, 90 days in all, from a UTC midnight
 * (every poll of a day sees the same events, cut at whole seconds as iCalendar writes them).
 */
const feedRange = (now: number) => {
  const from = now - (now % 86_400_000) - 7 * 86_400_000;
  return { from, to: from + MAX_ONCALL_RANGE_MS };
};

const calendarResponses = {
  200: { description: "An iCalendar (RFC 5545) document", contentType: "text/calendar" },
  401: { description: "No valid calendar token", schema: ErrorResponse },
  404: { description: "No such schedule or person", schema: ErrorResponse },
};

/** A match object written back as the matcher text people type. */
function matcherText(match: Record<string, unknown>): string {
  return Object.entries(match)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(",") : String(value)}`)
    .join(" ");
}

const wantsJson = (event: HttpEvent) =>
  /\bapplication\/json\b/i.test(header(event, "accept") ?? "");

/** Every route of the incidents API but its description (`GET /openapi.json`). */
export function apiRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    ...incidentRoutes(deps),
    ...changeRoutes(deps),
    ...groupingRoutes(deps),
    ...maintenanceRoutes(deps),
    ...metricRoutes(deps),
  ];
}

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
