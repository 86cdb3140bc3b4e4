import * as z from "zod";
import { patternProblem } from "../policy/pattern";
import { SeveritySchema } from "../severity";
import { LevelSchema, normaliseLevel, SourceSchema } from "../signal";

// What a rule, a silence or a maintenance window matches, apart from the whole config schema:
// silences and windows arrive in request bodies (the API, Slack) of functions that never build
// the config schema (deployed.ts: the deploy ships the policy parsed).

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

/** A regular expression as RegExp writes it, matched by RE2 in linear time (see compilePattern). */
const RegExpSourceSchema = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((source, ctx) => {
    const problem = patternProblem(source);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/**
 * What a rule (or a silence) matches. Every key given must match; absent keys match anything.
 * `alarmName`, `logGroup`, `namespace`, `findingType` and `eventTypeCode` are globs (`*`, `?`);
 * `message` is a regular expression searched in the log line or the Sentry title; `level` is one
 * level or a list.
 */
export const MatchSchema = z.strictObject({
  source: SourceSchema.optional(),
  alarmName: GlobSchema.optional(),
  namespace: GlobSchema.optional(),
  metricName: z.string().min(1).optional(),
  logGroup: GlobSchema.optional(),
  level: z.union([LevelNameSchema, z.array(LevelNameSchema).nonempty()]).optional(),
  message: RegExpSourceSchema.optional(),
  project: z.string().min(1).optional(),
  /** A GuardDuty or Security Hub finding type, a glob (`UnauthorizedAccess:*`). */
  findingType: GlobSchema.optional(),
  /** An AWS Health event type code, a glob (`AWS_EC2_*`). */
  eventTypeCode: GlobSchema.optional(),
});
export type Match = z.infer<typeof MatchSchema>;
export type MatchInput = z.input<typeof MatchSchema>;

/** The name of a service, a rule or a maintenance window. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, "use letters, digits, '.', '_' and '-' (max 63)");

/**
 * What an inhibit rule or a maintenance window matches: a signal's keys (as in `MatchSchema`),
 * its `service`, and the `severity` the policy gave it (one or a list).
 */
export const AlertMatchSchema = MatchSchema.extend({
  service: z.union([NameSchema, z.array(NameSchema).nonempty()]).optional(),
  severity: z.union([SeveritySchema, z.array(SeveritySchema).nonempty()]).optional(),
});
export type AlertMatch = z.infer<typeof AlertMatchSchema>;
