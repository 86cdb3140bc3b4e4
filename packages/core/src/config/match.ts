import * as z from "zod";
import { patternProblem } from "../policy/pattern";
import { ALERT_MATCH_KEYS, StoredMatchSchema } from "./match-shape";

// What a rule, a silence or a maintenance window matches, apart from the whole config schema:
// silences and windows arrive in request bodies (the API, Slack) of functions that never build
// the config schema (deployed.ts: the deploy ships the policy parsed).

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
export const MatchSchema = StoredMatchSchema.extend({ message: RegExpSourceSchema.optional() });
export type MatchInput = z.input<typeof MatchSchema>;

/**
 * What an inhibit rule or a maintenance window matches: a signal's keys (as in `MatchSchema`),
 * its `service`, and the `severity` the policy gave it (one or a list).
 */
export const AlertMatchSchema = MatchSchema.extend(ALERT_MATCH_KEYS);
