import * as z from "zod";
import { StoredAlertMatchSchema } from "../config/match-shape";
import type { MonitoringConfig } from "../config/schema";
import type { MaintenanceWindowConfig } from "./schema";

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
  match: StoredAlertMatchSchema,
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

/** A window as stored, from its config form. */
export const windowFromConfig = (
  window: MaintenanceWindowConfig,
  fields: Pick<MaintenanceWindow, "id" | "origin" | "createdBy" | "createdAt">,
): MaintenanceWindow => ({
  ...fields,
  name: window.name,
  match: window.match,
  start: window.start ? new Date(window.start).toISOString() : null,
  end: window.end ? new Date(window.end).toISOString() : null,
  cron: window.cron ?? null,
  timeZone: window.timeZone,
  duration: window.duration ?? null,
  reason: window.reason ?? null,
});

/** The policy's windows, read-only (`policy:<name>`). */
export const policyWindows = (config: Pick<MonitoringConfig, "maintenance">): MaintenanceWindow[] =>
  config.maintenance.map((window) =>
    windowFromConfig(window, {
      id: `policy:${window.name}`,
      origin: "policy",
      createdBy: null,
      createdAt: null,
    }),
  );
