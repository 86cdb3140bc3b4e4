import * as z from "zod";
import { AlertMatchSchema } from "../config/match";

// Maintenance windows as stored and shown, apart from their recurrence (which needs luxon): the
// silence store reads them, and the API lists them, before any period is worked out.

const Timestamp = z.iso.datetime();

/**
 * A maintenance window as Firebreak keeps it: from the policy (`origin: "policy"`, id
 * `policy:<name>`, read-only) or made through the API (`origin: "api"`, id `M` and five
 * characters, stored beside silences). `duration` is in milliseconds.
 */
export const MaintenanceWindowRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  match: AlertMatchSchema,
  start: Timestamp.nullable(),
  end: Timestamp.nullable(),
  cron: z.string().nullable(),
  timeZone: z.string(),
  duration: z.number().int().positive().nullable(),
  reason: z.string().nullable(),
  origin: z.enum(["policy", "api"]),
  createdBy: z.string().nullable(),
  createdAt: Timestamp.nullable(),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowRecordSchema>;

/** A window as the API shows it: where it stands now. */
export const MaintenanceWindowViewSchema = MaintenanceWindowRecordSchema.extend({
  /** In effect now: alerts it matches are recorded, neither paged nor acted on. */
  active: z.boolean(),
  /** The period in effect now, or the next one; null when none is left. */
  period: z.object({ start: Timestamp, end: Timestamp }).nullable(),
});
export type MaintenanceWindowView = z.infer<typeof MaintenanceWindowViewSchema>;

export const MaintenanceIdPattern = /^M[0-9A-HJKMNP-TV-Z]{5}$/;
