import {
  type ApiDeps,
  type CalendarShift,
  constantTimeEqual,
  InvalidInputError,
  MAX_ONCALL_RANGE_MS,
  NotFoundError,
  newOverride,
  OnCallNamePattern,
  OverrideIdPattern,
  renderCalendar,
  ScheduleOverrideSchema,
  scheduleOf,
  scheduleShifts,
  UnauthorizedError,
  whoIsOnCall,
} from "@firebreak/core";
import * as z from "zod";
import { json, text } from "../lib/http";
import { ERRORS, ErrorResponse, Timestamp } from "../lib/params";
import { type Route, route } from "../lib/router";

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

/** On call: who is now, a schedule's shifts, overrides, and the calendar feeds. */
export function onCallRoutes(deps: () => Promise<ApiDeps>): Route[] {
  // Calendar apps cannot send headers: the feeds carry their own token in the URL, compared in
  // constant time, and are read-only.
  const checkCalendarToken = async (presented: string | undefined) => {
    const { calendarToken } = await deps();
    if (!constantTimeEqual(await calendarToken(), presented ?? ""))
      throw new UnauthorizedError("missing or wrong calendar token: add ?token=");
  };
  /** A feed `On call: <name>` of the shifts `gather` finds for `{name}` over the feed's range. */
  const feed = (
    path: string,
    summary: string,
    gather: (
      api: ApiDeps,
      name: string,
      range: { from: number; to: number },
    ) => Promise<CalendarShift[]>,
  ) =>
    route<z.output<typeof CalendarQuery>>({
      method: "GET",
      path,
      summary,
      tags: ["oncall"],
      public: true,
      params: ScheduleParams,
      query: CalendarQuery,
      responses: calendarResponses,
      handle: async ({ params, query }) => {
        await checkCalendarToken(query.token);
        const api = await deps();
        const name = params.name as string;
        const shifts = await gather(api, name, feedRange(api.clock.now()));
        const document = renderCalendar({ name: `On call: ${name}`, shifts, now: api.clock.now() });
        return text(200, document, "text/calendar; charset=utf-8");
      },
    });

  return [
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
        ...ERRORS,
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
        ...ERRORS,
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
        ...ERRORS,
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
        ...ERRORS,
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
    feed(
      "/schedules/{name}/calendar.ics",
      "A schedule's shifts as an iCalendar feed (?token=CALENDAR_TOKEN, no bearer)",
      async ({ config, overrides }, name, { from, to }) =>
        (await scheduleShifts(config, overrides, name, from, to)).map((shift) => ({
          ...shift,
          schedule: name,
        })),
    ),
    feed(
      "/people/{name}/calendar.ics",
      "A person's shifts in every schedule as an iCalendar feed (?token=CALENDAR_TOKEN)",
      async ({ config, overrides }, person, { from, to }) => {
        if (!Object.hasOwn(config.people, person)) throw new NotFoundError(`no person ${person}`);
        const shifts: CalendarShift[] = [];
        for (const schedule of Object.keys(config.schedules)) {
          for (const shift of await scheduleShifts(config, overrides, schedule, from, to)) {
            if (shift.person === person) shifts.push({ ...shift, schedule });
          }
        }
        return shifts.sort((a, b) => a.from.localeCompare(b.from));
      },
    ),
  ];
}
