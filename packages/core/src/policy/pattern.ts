import { RE2JS, RE2JSException } from "re2js";
import { InvalidInputError } from "../errors";

/**
 * Compiles a regular expression from the policy or a silence (which anyone in Slack may type)
 * for RE2's engine, so matching takes time linear in the line whatever the pattern. A
 * backtracking engine (JavaScript's RegExp) takes exponential time on patterns such as `(a|a)*$`
 * or `(.|.)*QQQ` that no syntactic check catches, and one of them stalls every batch it meets.
 *
 * Patterns are written as for RegExp and translated (`\u0041`, `(?<name>...)`, `[^]`); what only
 * backtracking can do, lookahead and backreferences, is refused.
 *
 * @returns whether the pattern matches somewhere in a text, as RegExp's `test` says
 * @throws InvalidInputError saying what is wrong with the pattern
 * @example
 * compilePattern("Task timed out after \\d+")("Task timed out after 3.00 seconds"); // true
 */
export function compilePattern(source: string): (text: string) => boolean {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(source));
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    const problem = error.message.replace(/^error parsing regexp: /, "");
    throw new InvalidInputError(`not a valid regular expression: ${problem}`, { cause: error });
  }
  return (text) => compiled.test(text);
}

/**
 * What is wrong with a pattern, or null when it compiles: for schemas, which report rather than
 * throw.
 *
 * @example
 * patternProblem("(a)\\1"); // "not a valid regular expression: invalid escape sequence: `\\1`"
 */
export function patternProblem(source: string): string | null {
  try {
    compilePattern(source);
    return null;
  } catch (error) {
    if (error instanceof InvalidInputError) return error.message;
    throw error;
  }
}
