import type { Shift } from "./rotation";

/** One event of an on-call calendar: a shift of one schedule. */
export interface CalendarShift extends Shift {
  schedule: string;
}

const stamp = (iso: string) => `${iso.slice(0, 19).replace(/[-:]/g, "")}Z`;

/** TEXT values escape backslash, semicolon, comma and newlines (RFC 5545 3.3.11). */
const text = (value: string) =>
  value.replace(/[\\;,]/g, (character) => `\\${character}`).replace(/\r?\n/g, "\\n");

/**
 * Folds a content line at 75 octets (RFC 5545 3.1): continuation lines start with one space,
 * and a UTF-8 character is never split.
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  for (const character of line) {
    const size = Buffer.byteLength(character, "utf8");
    // The first line holds 75 octets; continuations 74 after their leading space.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = "";
      octets = 0;
    }
    current += character;
    octets += size;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

/** The SUMMARY of a shift's event, the same in every feed. */
export const shiftSummary = (shift: CalendarShift) =>
  `On call: ${shift.schedule} (${shift.person})`;

/**
 * An iCalendar (RFC 5545) document of on-call shifts: one VEVENT each, times in UTC, lines
 * folded at 75 octets and ended with CRLF. A shift's UID is stable (schedule, person, start),
 * so calendar apps update events in place when they poll again.
 *
 * @example
 * renderCalendar({ name: "On call: primary", shifts, now: Date.now() });
 * // "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n..."
 */
export function renderCalendar(input: {
  name: string;
  shifts: ReadonlyArray<CalendarShift>;
  now: number;
}): string {
  const dtstamp = stamp(new Date(input.now).toISOString());
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Firebreak//On call//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${text(input.name)}`,
  ];
  for (const shift of input.shifts) {
    lines.push(
      "BEGIN:VEVENT",
      `UID:${text(`${shift.schedule}/${shift.person}/${shift.from}`)}@firebreak`,
      `DTSTAMP:${dtstamp}`,
      `DTSTART:${stamp(shift.from)}`,
      `DTEND:${stamp(shift.to)}`,
      `SUMMARY:${text(shiftSummary(shift))}`,
      ...(shift.override ? ["DESCRIPTION:An override of the rotation"] : []),
      "TRANSP:TRANSPARENT",
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return `${lines.map(foldLine).join("\r\n")}\r\n`;
}
