import type * as z from "zod";
import { type Match, StoredMatchSchema } from "../config/match-shape";
import { formatIssues, InvalidInputError } from "../errors";

// Matchers as people type them, read without RE2: Slack's parser reads a silence's matcher with
// these, and the pattern of its `message` key is compiled when the silence is made
// (./silence.ts `newSilence`).

/** The keys a matcher may name, as a rule's `match` has them. */
export const MATCH_KEYS = Object.keys(StoredMatchSchema.shape);

/**
 * The `key=value` pairs of a typed matcher as a match object, not yet checked (`level` may be a
 * comma-separated list).
 * @throws InvalidInputError naming a pair that is not key=value, or an empty matcher
 */
export function matcherPairs(text: string): Record<string, string | string[]> {
  const pairs = text.trim().split(/\s+/).filter(Boolean);
  if (pairs.length === 0)
    throw new InvalidInputError("a matcher needs at least one key=value, e.g. alarmName=api-*");
  const input: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0 || equals === pair.length - 1) {
      throw new InvalidInputError(
        `"${pair.slice(0, 60)}" is not key=value (keys: ${MATCH_KEYS.join(", ")})`,
      );
    }
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    input[key] = key === "level" && value.includes(",") ? value.split(",") : value;
  }
  return input;
}

/**
 * A silence names something: absent keys match anything, so an empty matcher would silence
 * every signal of every source. The refinement both silence matchers carry.
 */
export const NAMES_SOMETHING = [
  (match: Record<string, unknown>) => Object.values(match).some((value) => value !== undefined),
  {
    message: `a silence must name at least one of ${MATCH_KEYS.join(", ")}: an empty matcher would silence everything`,
  },
] as const;

/** A typed matcher read and checked as `parseMatcher` does, but for compiling its pattern. */
const UncompiledSilenceMatchSchema = StoredMatchSchema.refine(...NAMES_SOMETHING);

/**
 * A silence's match checked by `schema` (this module's, or ./silence.ts's, which compiles its
 * `message` pattern), as every way of making a silence reports it.
 * @throws InvalidInputError "invalid matcher: ..." naming what is wrong
 */
export function checkedMatch(schema: z.ZodType<Match>, input: unknown): Match {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new InvalidInputError(`invalid matcher: ${formatIssues(result.error)}`);
  return result.data;
}

/**
 * Reads a typed matcher as `parseMatcher` (./silence.ts) does, every check but the compiling of
 * a `message` pattern, which `newSilence` does with RE2 when the silence is made.
 * @throws InvalidInputError naming the bad pair or key
 */
export function readMatcher(text: string): Match {
  return checkedMatch(UncompiledSilenceMatchSchema, matcherPairs(text));
}
