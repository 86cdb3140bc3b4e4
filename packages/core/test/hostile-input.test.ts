import { encodeLogsBatch, type LogsBatch } from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConfigInput,
  compileMatch,
  droppedLinesFingerprint,
  InvalidInputError,
  newSilence,
  normalizeEvent,
  Policy,
  parseConfig,
  parseMatcher,
  parseSlashCommand,
  type Signal,
  SilenceMatchSchema,
  silenceFor,
} from "../src";
import { compilePattern } from "../src/policy/pattern";
import { aConfig, aRecord, aSignal } from "../src/testing";

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

describe("one CloudWatch Logs delivery yields a bounded number of signals", () => {
  const LINES = 60_000;
  const started = Date.parse("2026-11-26T10:00:00.000Z");
  const batch = (messages: (index: number) => string): LogsBatch => ({
    messageType: "DATA_MESSAGE",
    owner: "123456789012",
    logGroup: "/aws/lambda/checkout-api",
    logStream: "2026/11/26/[$LATEST]2d7a9f0c4e6b41d8b3a5c1e9f7d2b064",
    subscriptionFilters: ["firebreak-lambda-errors"],
    logEvents: Array.from({ length: LINES }, (_, index) => ({
      // CloudWatch's ids are long numeric strings that grow with the line.
      id: `3859859153729509729576816489924462383214334523268879${String(index).padStart(6, "0")}`,
      timestamp: started + index,
      message: messages(index),
    })),
  });
  // One error repeated, a second one only once deep inside, and info lines the policy ignores.
  const FATAL_AT = 45_000;
  const flood = batch((index) =>
    index === FATAL_AT
      ? "FATAL disk full on /tmp"
      : index % 10 === 9
        ? "INFO retrying"
        : `ERROR reset after ${index} ms`,
  );
  const worthASignal = LINES - LINES / 10;
  const normalizeWith = (config: ConfigInput, raw: unknown) =>
    normalizeEvent(raw, { policy: new Policy(aConfig(config)), region: "us-east-1" });

  it("keeps 500 of a 60,000-line delivery, every distinct error among them, and counts the rest", () => {
    const delivery = encodeLogsBatch(flood);
    const { signals } = normalizeWith({}, delivery);
    expect(signals).toHaveLength(501);
    const [lines, summary] = [signals.slice(0, 500), signals[500] as Signal];
    expect(lines.some((signal) => signal.title.includes("FATAL disk full"))).toBe(true);
    // The sample is in the delivery's order and starts where the delivery does.
    expect(lines[0]?.title).toContain("ERROR reset after 0 ms");
    expect(lines.map((signal) => signal.at)).toEqual(lines.map((signal) => signal.at).sort());
    const dropped = worthASignal - 500;
    expect(summary).toMatchObject({
      source: "logs",
      kind: "trigger",
      fingerprint: droppedLinesFingerprint("/aws/lambda/checkout-api"),
      title: `checkout-api: ${dropped} log lines worth a signal left out of one delivery (logs.maxSignalsPerDelivery: 500)`,
      attributes: { logGroup: "/aws/lambda/checkout-api", level: "error" },
    });
    expect(summary.detail).toContain("ERROR reset after");
    expect(new Set(signals.map((signal) => signal.deliveryId)).size).toBe(501);
  });

  it("takes the bound from the policy, and stays below it without a summary", () => {
    const { signals } = normalizeWith(
      { logs: { maxSignalsPerDelivery: 10 } },
      encodeLogsBatch(flood),
    );
    expect(signals).toHaveLength(11);
    expect(signals.at(-1)?.title).toContain(`${worthASignal - 10} log lines worth a signal`);
    // Redelivered, the same payload yields the same delivery ids: the processor drops them.
    const again = normalizeWith({ logs: { maxSignalsPerDelivery: 10 } }, encodeLogsBatch(flood));
    expect(again.signals.map((signal) => signal.deliveryId)).toEqual(
      signals.map((signal) => signal.deliveryId),
    );
    const few = { ...flood, logEvents: flood.logEvents.slice(0, 10) };
    const under = normalizeWith({ logs: { maxSignalsPerDelivery: 10 } }, encodeLogsBatch(few));
    expect(under.signals).toHaveLength(9);
    expect(
      under.signals.some((signal) => signal.fingerprint === droppedLinesFingerprint(few.logGroup)),
    ).toBe(false);
    expect(() => parseConfig({ logs: { maxSignalsPerDelivery: 0 } })).toThrow(
      "logs.maxSignalsPerDelivery",
    );
  });

  it("counts every line worth a signal exactly once, kept or left out (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("ERROR a", "ERROR b", "FATAL c", "WARN d", "INFO e"), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 20 }),
        (messages, limit) => {
          const small = { ...flood, logEvents: flood.logEvents.slice(0, messages.length) };
          small.logEvents = small.logEvents.map((event, index) => ({
            ...event,
            message: `${messages[index]} ${index}`,
          }));
          const { signals } = normalizeWith(
            { logs: { maxSignalsPerDelivery: limit } },
            encodeLogsBatch(small),
          );
          const worth = messages.filter((message) => /ERROR|FATAL/.test(message)).length;
          const summary = signals.find(
            (signal) => signal.fingerprint === droppedLinesFingerprint(small.logGroup),
          );
          const kept = signals.length - (summary ? 1 : 0);
          expect(kept).toBe(Math.min(worth, limit));
          const leftOut = summary ? Number(/: (\d+) log line/.exec(summary.title)?.[1]) : 0;
          expect(kept + leftOut).toBe(worth);
          // Every distinct error keeps a line while there is room for one of each.
          const distinct = new Set(messages.filter((message) => /ERROR|FATAL/.test(message)));
          const keptErrors = new Set(
            signals.filter((signal) => signal !== summary).map((signal) => signal.fingerprint),
          );
          expect(keptErrors.size).toBe(Math.min(distinct.size, limit));
        },
      ),
      { numRuns: 300 },
    );
  });
});
