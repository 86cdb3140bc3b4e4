import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileMatch,
  InvalidInputError,
  newSilence,
  Policy,
  parseConfig,
  parseMatcher,
  parseSlashCommand,
  SilenceMatchSchema,
  silenceFor,
} from "../src";
import { compilePattern } from "../src/policy/pattern";
import { aRecord, aSignal } from "../src/testing";

/** Patterns a nested-quantifier check lets through, each exponential for a backtracking engine. */
const AMBIGUOUS = ["(a|a)*$", "(a|aa)*$", "(.|.)*QQQ"] as const;
const LINE = 10_000;
// What each pattern says of a 10,000-character line of `a`s ending in `!`: an empty repetition
// before the end matches; no `QQQ` anywhere does not.
const EXPECTED: Record<(typeof AMBIGUOUS)[number], boolean> = {
  "(a|a)*$": true,
  "(a|aa)*$": true,
  "(.|.)*QQQ": false,
};
const line = `${"a".repeat(LINE - 1)}!`;

describe("regular expressions from rules and silences run in linear time", () => {
  it.each(AMBIGUOUS)("%s against a 10,000-character line, in a rule", (pattern) => {
    const policy = new Policy(
      parseConfig({
        rules: [{ name: "odd", match: { source: "logs", message: pattern }, severity: "critical" }],
      }),
    );
    const signal = aSignal({ source: "logs", attributes: { logGroup: "/x", message: line } });
    const { severity, rule } = policy.classify(signal);
    expect([severity, rule?.name ?? null]).toEqual(
      EXPECTED[pattern] ? ["critical", "odd"] : ["info", null],
    );
    // And near misses at every length up to the line's, where a backtracker gives up slowest.
    const matches = compilePattern(pattern);
    for (let length = 1; length <= LINE; length *= 10) {
      expect(matches(`${"a".repeat(length)}!`)).toBe(EXPECTED[pattern]);
    }
  });

  it.each(AMBIGUOUS)("%s against a 10,000-character line, in a silence", (pattern) => {
    const silence = newSilence({
      match: parseMatcher(`message=${pattern}`),
      matcher: `message=${pattern}`,
      reason: null,
      createdBy: "api:test",
      duration: 3_600_000,
      now: Date.parse("2026-11-26T10:00:00.000Z"),
    });
    const { incident } = aRecord({
      source: "logs",
      at: "2026-11-26T10:00:00.000Z",
      attributes: { logGroup: "/x", message: line },
    });
    const held = silenceFor(incident, [silence], Date.parse("2026-11-26T10:30:00.000Z"));
    expect(held?.id ?? null).toBe(EXPECTED[pattern] ? silence.id : null);
  });

  it("accepts repeated repetitions, which no longer cost more than a line's length", () => {
    const pattern = "(a+)+$";
    expect(() => parseMatcher(`message=${pattern}`)).not.toThrow();
    const matches = compileMatch({ message: pattern });
    expect(matches(aSignal({ attributes: { message: "a".repeat(LINE) } }))).toBe(true);
    expect(matches(aSignal({ attributes: { message: `${"a".repeat(LINE)}!` } }))).toBe(false);
    expect(compilePattern("(x+x+)+y")("x".repeat(LINE))).toBe(false);
  });

  it("refuses what only backtracking can do, saying why, in rules and matchers", () => {
    for (const [pattern, problem] of [
      ["(a)\\1", "invalid escape sequence"],
      ["(?=a)b", "invalid or unsupported Perl syntax"],
      ["(", "missing closing )"],
    ] as const) {
      expect(() =>
        parseConfig({ rules: [{ name: "x", match: { message: pattern }, severity: "info" }] }),
      ).toThrow(`rules[0].match.message: not a valid regular expression: ${problem}`);
      expect(() => parseMatcher(`message=${pattern}`)).toThrow(InvalidInputError);
      expect(() => compilePattern(pattern)).toThrow(problem);
    }
  });

  it("keeps RegExp's syntax for what people write", () => {
    expect(compilePattern("\\u0041")("A")).toBe(true);
    expect(compilePattern("(?<code>\\d{3}) error")("got 503 error")).toBe(true);
    expect(compilePattern("a/b")("x a/b")).toBe(true);
    expect(compilePattern("[^]x")("\nx")).toBe(true);
    expect(compilePattern("Task timed out after \\d+")("Task timed out after 3.00 s")).toBe(true);
    expect(compilePattern("^ERROR$")("an ERROR")).toBe(false);
  });

  it("agrees with RegExp on ordinary patterns (property)", () => {
    const atom = fc.constantFrom("a", "b", ".", "[ab]", "[^a]", "\\w", "\\d", "x");
    const pattern = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        atom,
        fc.tuple(tie("expr"), tie("expr")).map(([left, right]) => `${left}${right}`),
        fc.tuple(tie("expr"), tie("expr")).map(([left, right]) => `(${left}|${right})`),
        fc
          .tuple(tie("expr"), fc.constantFrom("*", "+", "?", "{2}", "{1,3}"))
          .map(([inner, quantifier]) => `(?:${inner})${quantifier}`),
      ),
    })).expr;
    const anchored = fc
      .tuple(fc.boolean(), pattern, fc.boolean())
      .map(([start, body, end]) => `${start ? "^" : ""}${body}${end ? "$" : ""}`);
    const text = fc.stringMatching(/^[abx1 \n]{0,12}$/);
    fc.assert(
      fc.property(anchored, text, (source, value) => {
        expect(compilePattern(source)(value)).toBe(new RegExp(source).test(value));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("a silence must match something", () => {
  const request = {
    matcher: "",
    reason: null,
    createdBy: "api:test",
    duration: 3_600_000,
    now: Date.parse("2026-11-26T10:00:00.000Z"),
  };

  it("refuses an empty match where silences are made, naming the problem", () => {
    expect(() => newSilence({ ...request, match: {} })).toThrow(InvalidInputError);
    expect(() => newSilence({ ...request, match: {} })).toThrow(
      /a silence must name at least one of source, alarmName, .*: an empty matcher would silence everything/,
    );
    expect(SilenceMatchSchema.safeParse({}).success).toBe(false);
    expect(SilenceMatchSchema.safeParse({ alarmName: "api-*" }).success).toBe(true);
    const made = newSilence({
      ...request,
      match: { alarmName: "api-*" },
      matcher: "alarmName=api-*",
    });
    expect(made).toMatchObject({
      match: { alarmName: "api-*" },
      createdAt: "2026-11-26T10:00:00.000Z",
      endsAt: "2026-11-26T11:00:00.000Z",
    });
  });

  it("refuses an empty matcher typed as text, in the API's parser and in Slack", () => {
    for (const text of ["", "   ", "\t\n"]) {
      expect(() => parseMatcher(text)).toThrow("a matcher needs at least one key=value");
    }
    for (const text of ["silence 2h", "silence 2h deploy", "silence", "silence = 2h"]) {
      const command = parseSlashCommand(text);
      expect(command.kind, text).toBe("help");
      expect(command.kind === "help" && command.problem, text).toMatch(/matcher|key=value/);
    }
  });
});
