import type { Signal } from "../signal";

/**
 * Terminal escape sequences, whole, so that no "[2J" is left behind: CSI (ESC [ or the 8-bit
 * U+009B, parameters, final byte), OSC, DCS, SOS, PM and APC strings up to their terminator
 * (BEL or ST), and the short ESC sequences. An unterminated string loses only its introducer,
 * so an unfinished OSC cannot swallow the rest of a line.
 */
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)|\u001b[ -/]*[0-~]/g;

/**
 * Characters that reorder or hide what follows them: the bidi embeddings, overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069) and the direction marks (U+200E, U+200F, U+061C). In a title
 * they make "gnp.exe" read as "exe.png".
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Line and paragraph breaks of every kind, and tabs: one space in a single line. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

/** C0 and C1 controls and DEL, the breaks above included. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The same, but for the line feed and tab a block of text keeps. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const stripped = (text: string) => text.replace(ESCAPE_SEQUENCE, "").replace(BIDI_CONTROLS, "");

/**
 * Text from a payload as one line people can read safely, in a terminal, a page or a browser:
 * escape sequences, controls and bidi overrides removed, breaks and tabs turned into a space.
 *
 * @example
 * ```ts
 * displayLine("api\u001b[2J\nfake line\u202egnp.exe"); // "api fake linegnp.exe"
 * ```
 */
export function displayLine(text: string): string {
  return stripped(text).replace(BREAKS, " ").replace(CONTROLS, "");
}

/**
 * As {@link displayLine}, for text with lines of its own (a stack trace, a log message): line
 * feeds and tabs stay (CRLF becomes LF), every other control goes.
 */
export function displayBlock(text: string): string {
  return stripped(text)
    .replace(/\r\n?|[\u0085\u2028\u2029]/g, "\n")
    .replace(CONTROLS_BUT_LINES, "");
}

/** What a title becomes when nothing printable is left of it. */
export const UNPRINTABLE_TITLE = "(untitled)";

/**
 * The parts of a signal people read (title, link label, detail) made safe to show, as every
 * source decoder returns them. What rules match on (`attributes`) and what identifies it
 * (fingerprint, delivery id) are left exactly as sent.
 */
export function displaySafe(signal: Signal): Signal {
  return {
    ...signal,
    title: displayLine(signal.title) || UNPRINTABLE_TITLE,
    link: signal.link ? { ...signal.link, label: displayLine(signal.link.label) } : null,
    detail: signal.detail === null ? null : displayBlock(signal.detail),
  };
}
