import * as z from "zod";
import { DurationSchema } from "../duration";

/**
 * A maintenance window in the policy: alerts it matches are recorded but neither page nor act
 * while it is in effect. Either one period (`start` and `end`) or a recurrence (`cron`, five
 * fields, in `timeZone`, lasting `duration`). `match` is an alert match (see `AlertMatchSchema`),
 * given by the config schema.
 */
export const MaintenanceTimingSchema = z.strictObject({
  start: z.iso.datetime({ offset: true }).optional(),
  end: z.iso.datetime({ offset: true }).optional(),
  /** Minute, hour, day of month, month, day of week: `0 2 * * SAT` is Saturdays at 02:00. */
  cron: z.string().min(9).max(200).optional(),
  /** An IANA zone such as `Europe/Berlin`; the recurrence follows its daylight saving. */
  timeZone: z.string().min(1).max(64).default("UTC"),
  duration: DurationSchema.optional(),
});
