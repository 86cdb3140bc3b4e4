import * as z from "zod";
import { AlertMatchSchema } from "../config/match";
import { NameSchema } from "../config/match-shape";
import { DurationSchema } from "../duration";
import { InvalidInputError } from "../errors";
import { isTimeZone, parseCron } from "./recurrence";

/** A cron expression whose fields are checked one by one; the issue names the bad field. */
const CronSchema = z
  .string()
  .min(9)
  .max(200)
  .superRefine((text, ctx) => {
    try {
      parseCron(text);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message });
    }
  });

const TimeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, {
    error: (issue) =>
      `unknown time zone "${String(issue.input)}": use an IANA name such as Europe/Berlin or UTC`,
  });

/** Longest a window lasts: longer than a month is not maintenance. */
const MAX_WINDOW_MS = 31 * 86_400_000;

/**
 * A maintenance window in the policy: alerts it matches are recorded but neither page nor act
 * while it is in effect. Either one period (`start` and `end`) or a recurrence (`cron`, five
 * fields, in `timeZone`, lasting `duration`). `match` is an alert match (see `AlertMatchSchema`),
 * given by the config schema.
 */
export const MaintenanceTimingSchema = z
  .strictObject({
    start: z.iso.datetime({ offset: true }).optional(),
    end: z.iso.datetime({ offset: true }).optional(),
    /** Minute, hour, day of month, month, day of week: `0 2 * * SAT` is Saturdays at 02:00. */
    cron: CronSchema.optional(),
    /** An IANA zone such as `Europe/Berlin`; the recurrence follows its daylight saving. */
    timeZone: TimeZoneSchema.default("UTC"),
    duration: DurationSchema.optional(),
  })
  .superRefine((window, ctx) => {
    const once = window.start !== undefined || window.end !== undefined;
    const recurring = window.cron !== undefined || window.duration !== undefined;
    if (once && recurring) {
      ctx.addIssue({
        code: "custom",
        path: ["cron"],
        message: "give either start and end, or cron and duration, not both",
      });
      return;
    }
    if (once) {
      for (const key of ["start", "end"] as const) {
        if (window[key] === undefined)
          ctx.addIssue({ code: "custom", path: [key], message: `${key} is needed with start/end` });
      }
      if (window.start === undefined || window.end === undefined) return;
      const length = Date.parse(window.end) - Date.parse(window.start);
      if (length <= 0) {
        ctx.addIssue({ code: "custom", path: ["end"], message: "end must be after start" });
      } else if (length > MAX_WINDOW_MS) {
        ctx.addIssue({ code: "custom", path: ["end"], message: "a window lasts at most 31d" });
      }
      return;
    }
    if (window.cron === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["cron"],
        message: "a window needs start and end, or cron, timeZone and duration",
      });
    }
    if (window.duration === undefined) {
      ctx.addIssue({ code: "custom", path: ["duration"], message: "needed with cron, like 2h" });
    } else if (window.duration < 60_000 || window.duration > MAX_WINDOW_MS) {
      ctx.addIssue({ code: "custom", path: ["duration"], message: "between 1m and 31d" });
    }
  });

export const MaintenanceWindowSchema = MaintenanceTimingSchema.extend({
  name: NameSchema,
  match: AlertMatchSchema,
  reason: z.string().max(500).optional(),
});
export type MaintenanceWindowConfig = z.infer<typeof MaintenanceWindowSchema>;
