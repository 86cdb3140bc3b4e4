import * as z from "zod";
import { SeveritySchema } from "../severity";
import { LevelSchema, normaliseLevel, SourceSchema } from "../signal";

// What a rule, a silence or a maintenance window matches, with `message` only as long as a
// pattern may be: how silences and windows are read back from the table, which stored them
// after checking their patterns (./match.ts) and must not load RE2 to list them.

export const GlobSchema = z.string().min(1).max(512);

/** A log or Sentry level, in any usual spelling (`WARN`, `warning`, `CRITICAL`...). */
export const LevelNameSchema = z.string().transform((text, ctx) => {
  const level = normaliseLevel(text);
  if (!level) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not a level: use one of ${LevelSchema.options.join(", ")}`,
    });
    return z.NEVER;
  }
  return level;
});

/** The name of a service, a rule or a maintenance window. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, "use letters, digits, '.', '_' and '-' (max 63)");

/** A match as stored: `MatchSchema` (./match.ts) without compiling `message`. */
export const StoredMatchSchema = z.strictObject({
  source: SourceSchema.optional(),
  alarmName: GlobSchema.optional(),
  namespace: GlobSchema.optional(),
  metricName: z.string().min(1).optional(),
  logGroup: GlobSchema.optional(),
  level: z.union([LevelNameSchema, z.array(LevelNameSchema).nonempty()]).optional(),
  message: z.string().min(1).max(1024).optional(),
  project: z.string().min(1).optional(),
  /** A GuardDuty or Security Hub finding type, a glob (`UnauthorizedAccess:*`). */
  findingType: GlobSchema.optional(),
  /** An AWS Health event type code, a glob (`AWS_EC2_*`). */
  eventTypeCode: GlobSchema.optional(),
});
export type Match = z.infer<typeof StoredMatchSchema>;

/** The keys an alert match adds to a signal's: its `service` and the `severity` given it. */
export const ALERT_MATCH_KEYS = {
  service: z.union([NameSchema, z.array(NameSchema).nonempty()]).optional(),
  severity: z.union([SeveritySchema, z.array(SeveritySchema).nonempty()]).optional(),
};

/** An alert match as stored (a maintenance window's): `AlertMatchSchema` without RE2. */
export const StoredAlertMatchSchema = StoredMatchSchema.extend(ALERT_MATCH_KEYS);
export type AlertMatch = z.infer<typeof StoredAlertMatchSchema>;
