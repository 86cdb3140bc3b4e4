import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clipUtf8,
  isSnsSubject,
  type PageContent,
  SNS_MESSAGE_MAX_BYTES,
  snsPublish,
  snsSubject,
  TRUNCATED_MARK,
  utf8Length,
} from "../src";
import { aRecord } from "../src/testing";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:oncall";
const bytes = (text: string) => Buffer.byteLength(text, "utf8");

const content = (title: string, note: string | null): PageContent => {
  const { incident } = aRecord({ title });
  return { incident: { ...incident, title }, kind: "page", note, consoleUrl: null };
};

describe("snsPublish", () => {
  it("for any title and note: an ASCII subject under 100 characters, a JSON message within 262,144 bytes", () => {
    // Any code point, lone surrogates included; the repeat makes notes that straddle the limit.
    const text = fc.string({ unit: "binary", maxLength: 120 });
    fc.assert(
      fc.property(text, text, fc.nat({ max: 4000 }), (title, note, repeat) => {
        const { subject, message } = snsPublish(TOPIC, content(title, note.repeat(repeat)));
        expect(subject).toMatch(/^[!-~][ -~]{0,98}$/);
        expect(isSnsSubject(subject)).toBe(true);
        expect(bytes(message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
        const parsed = JSON.parse(message) as { text: string; truncated?: boolean };
        expect(typeof parsed.text).toBe("string");
        if (parsed.truncated) expect(parsed.text.endsWith(TRUNCATED_MARK)).toBe(true);
      }),
      { numRuns: 120 },
    );
  });

  it("keeps a message that fits whole, and says nothing of truncation", () => {
    const { message } = snsPublish(TOPIC, content("checkout: 5xx rate", "scaled out"));
    const parsed = JSON.parse(message) as Record<string, unknown>;
    expect(parsed).not.toHaveProperty("truncated");
    expect(parsed.text).toMatch(/checkout: 5xx rate .* scaled out$/);
  });

  it("cuts an oversized note in multi-byte characters to fit, as full as it can, marked", () => {
    const note = "火".repeat(100_000); // 300,000 bytes
    const { message } = snsPublish(TOPIC, content("db down", note));
    expect(bytes(message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    // Within a few characters' bytes of the limit: the budget is the largest that fits.
    expect(bytes(message)).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES - 16);
    const parsed = JSON.parse(message) as { text: string; truncated: boolean };
    expect(parsed.truncated).toBe(true);
    expect(parsed.text).toMatch(/^\[WARNING\] db down .*火… \[truncated\]$/u);
  });
});

describe("snsSubject", () => {
  it.each([
    ["plain ASCII stays", "[CRITICAL] api 5xx (K7Q2) opened", "[CRITICAL] api 5xx (K7Q2) opened"],
    ["accents drop", "Café crème déjà vu", "Cafe creme deja vu"],
    ["line breaks and tabs become one space", "a\r\n\tb\u2028c", "a b c"],
    ["other scripts become one ? per run", "db 障害 発生", "db ? ?"],
    ["leading spaces and controls go", " \u0000\u0007 x", "x"],
    ["nothing printable falls back", "\u0000\n", "Firebreak notification"],
  ])("%s", (_, input, expected) => {
    expect(snsSubject(input)).toBe(expected);
  });

  it("cuts to 99 characters with an ASCII ellipsis", () => {
    const subject = snsSubject(`x${" word".repeat(40)}`);
    expect(subject).toHaveLength(99);
    expect(subject.endsWith("...")).toBe(true);
    expect(isSnsSubject(subject)).toBe(true);
  });
});

describe("clipUtf8", () => {
  it("never cuts inside a character, and stays within the bytes, mark included", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.nat({ max: 400 }),
        (text, max) => {
          const clipped = clipUtf8(text, max);
          if (utf8Length(text) <= max) {
            expect(clipped).toBe(text);
          } else if (clipped === "") {
            expect(max).toBeLessThan(utf8Length(TRUNCATED_MARK));
          } else {
            expect(utf8Length(clipped)).toBeLessThanOrEqual(max);
            expect(clipped.endsWith(TRUNCATED_MARK)).toBe(true);
            const kept = clipped.slice(0, -TRUNCATED_MARK.length);
            expect(text.startsWith(kept)).toBe(true);
            // Half of a surrogate pair left at the end would be a character cut in two.
            expect(kept).not.toMatch(/[\uD800-\uDBFF]$/);
          }
        },
      ),
    );
  });
});
