import * as z from "zod";

// On-call names, bounds and overrides as stored, apart from the schedules' schema and rotations
// (which need luxon): Slack and the API check what people type against them before anything is
// read, and the override store reads its items with no rotation loaded.

/** A person's or a schedule's name in the config, in URLs and in Slack. */
export const OnCallNamePattern = /^[a-z0-9][a-z0-9._-]{0,39}$/i;

/** An override's id: `O` and seven Crockford base32 characters. */
export const OverrideIdPattern = /^O[0-9A-HJKMNP-TV-Z]{7}$/;

/** The longest override, and the longest range one calendar read covers. */
export const MAX_ONCALL_RANGE_MS = 90 * 86_400_000;

/** An override as stored: `person` covers `schedule` from `from` until `to`, whoever rotates. */
export const ScheduleOverrideSchema = z.object({
  id: z.string(),
  schedule: z.string(),
  person: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  /** Who made it, as timelines write actors: `api:<token>`, `slack:<user id>`. */
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type ScheduleOverride = z.output<typeof ScheduleOverrideSchema>;
