import { IANAZone } from "luxon";
import * as z from "zod";
import { OnCallNamePattern } from "./model";

const NameSchema = z
  .string()
  .regex(OnCallNamePattern, "use letters, digits, '.', '_' and '-' (max 40)");

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const ClockTime = /^([01]\d|2[0-3]):([0-5]\d)$/;
const ClockTimeSchema = z.string().regex(ClockTime, 'a local time such as "09:00"');
const HANDOFF = /^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?([01]\d|2[0-3]):([0-5]\d)$/;
const SHIFT = /^([1-9]\d{0,2})(h|d|w)$/;

/** Hours of wall-clock time per unit of `shift` (a day is 24 local hours, whatever DST does). */
export const SHIFT_UNIT_HOURS = { h: 1, d: 24, w: 168 } as const;

/** An IANA time zone name (`Europe/Berlin`), as luxon and the platform's ICU know them. */
export const TimeZoneSchema = z
  .string()
  .min(1)
  .refine((zone) => IANAZone.isValidZone(zone), {
    message: 'not an IANA time zone name such as "Europe/Berlin"',
  });

/**
 * When a layer or schedule has someone: on `days`, from `from` to `to` local time (a window
 * whose `to` is not after `from` ends the next day: `from: "18:00", to: "09:00"`).
 */
export const RestrictSchema = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS))
    .nonempty()
    .default([...WEEKDAYS]),
  from: ClockTimeSchema,
  to: ClockTimeSchema,
});
export type Restrict = z.output<typeof RestrictSchema>;

/**
 * A rotation: `people` take turns, one `shift` each, handing off at `handoff` local time,
 * counting whole shifts from the local date `start`. `shift` is hours, days or weeks of
 * wall-clock time (`12h`, `1d`, `1w`): a daily shift across a DST change lasts 23 or 25 hours
 * and the handoff stays at its local time. A weekday handoff (`"Mon 09:00"`) starts the first
 * shift on that weekday at or after `start` and needs a shift in weeks.
 */
export const RotationSchema = z
  .strictObject({
    people: z.array(NameSchema).nonempty().max(100),
    shift: z.string().regex(SHIFT, 'a whole number of hours, days or weeks, such as "1w" or "12h"'),
    handoff: z.string().regex(HANDOFF, 'a local time, optionally after a weekday: "Mon 09:00"'),
    start: z.iso.date(),
    /** This layer's own zone (follow-the-sun); the schedule's when absent. */
    timeZone: TimeZoneSchema.optional(),
    /** This layer has someone only inside these windows. */
    restrict: RestrictSchema.optional(),
  })
  .refine((rotation) => !/^[A-Z]/.test(rotation.handoff) || rotation.shift.endsWith("w"), {
    message: 'a weekday handoff needs a shift in weeks, such as "1w"',
    path: ["shift"],
  });
export type Rotation = z.output<typeof RotationSchema>;

/**
 * Who is on call, by rotation. Give one `rotation`, or `layers` where later layers win whenever
 * they have someone (follow-the-sun: each layer with its own `restrict` or `timeZone`).
 * `restrict` limits the whole schedule; overrides win over everything.
 *
 * @example
 * schedules: {
 *   primary: {
 *     timeZone: "Europe/Berlin",
 *     rotation: { people: ["alice", "bob"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
 *     restrict: { days: ["Mon", "Tue", "Wed", "Thu", "Fri"], from: "09:00", to: "18:00" },
 *   },
 * }
 */
export const ScheduleSchema = z
  .strictObject({
    timeZone: TimeZoneSchema,
    rotation: RotationSchema.optional(),
    layers: z.array(RotationSchema).nonempty().max(10).optional(),
    restrict: RestrictSchema.optional(),
  })
  .refine((schedule) => (schedule.rotation === undefined) !== (schedule.layers === undefined), {
    message: "give exactly one of rotation or layers",
    path: ["rotation"],
  });
export type Schedule = z.output<typeof ScheduleSchema>;
export type ScheduleInput = z.input<typeof ScheduleSchema>;

export const SchedulesSchema = z.record(NameSchema, ScheduleSchema).default({});

/** A schedule's layers, whichever way it was written. */
export const layersOf = (schedule: Schedule): ReadonlyArray<Rotation> =>
  schedule.layers ?? (schedule.rotation ? [schedule.rotation] : []);

/** A problem in how people and schedules refer to each other, with its config path. */
export interface OnCallIssue {
  path: Array<string | number>;
  message: string;
}

/**
 * What the config's people (the `people` key escalation policies share) and schedules get wrong
 * together: a rotation naming someone not in
 * `people`, two people with one Slack id (a `<@U...>` must name one person).
 */
export function onCallIssues(
  people: Record<string, { slack?: string }>,
  schedules: Record<string, Schedule>,
): OnCallIssue[] {
  const issues: OnCallIssue[] = [];
  const known = Object.keys(people);
  for (const [name, schedule] of Object.entries(schedules)) {
    const rotations: Array<[Rotation, Array<string | number>]> = schedule.layers
      ? schedule.layers.map((layer, index) => [layer, ["schedules", name, "layers", index]])
      : schedule.rotation
        ? [[schedule.rotation, ["schedules", name, "rotation"]]]
        : [];
    for (const [rotation, path] of rotations) {
      rotation.people.forEach((person, index) => {
        if (!(person in people)) {
          issues.push({
            path: [...path, "people", index],
            message: `unknown person "${person}" (people: ${known.join(", ") || "none defined"})`,
          });
        }
      });
    }
  }
  const bySlack = new Map<string, string>();
  for (const [name, person] of Object.entries(people)) {
    if (!person.slack) continue;
    const other = bySlack.get(person.slack);
    if (other) {
      issues.push({
        path: ["people", name, "slack"],
        message: `${person.slack} is already ${other}'s Slack id`,
      });
    } else bySlack.set(person.slack, name);
  }
  return issues;
}
