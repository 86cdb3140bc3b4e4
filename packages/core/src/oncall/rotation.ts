import { DateTime } from "luxon";
import {
  layersOf,
  type Restrict,
  type Rotation,
  type Schedule,
  SHIFT_UNIT_HOURS,
  WEEKDAYS,
} from "./schema";

/** A time as the on-call functions take it: epoch milliseconds, a Date or an ISO string. */
export type Instant = number | Date | string;

/** A replacement for part of a schedule: `person` is on call from `from` until `to`. */
export interface OverrideSpan {
  person: string;
  /** ISO times; `from` before `to`. */
  from: string;
  to: string;
}

/** Someone on call for a span of time (ISO times, `to` exclusive). */
export interface OnCall {
  person: string;
  from: string;
  to: string;
}

/** A span of a schedule's calendar: from its rotation, or from an override. */
export interface Shift extends OnCall {
  override: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const toMs = (at: Instant): number => {
  const ms = typeof at === "number" ? at : typeof at === "string" ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${String(at)}`);
  return ms;
};
const iso = (ms: number) => new Date(ms).toISOString();

/** A span with who covers it and what made it (a layer's shift or an override). */
interface Piece {
  from: number;
  to: number;
  person: string;
  /** Pieces with one source are one shift: `layer:shift` or `override:index`. */
  source: string;
  override: boolean;
}

/** A rotation read once: its first handoff as local wall-clock fields, its shift in hours. */
interface Cycle {
  rotation: Rotation;
  zone: string;
  /** The first handoff's local date and time, held in a UTC DateTime for DST-free arithmetic. */
  wall: DateTime;
  shiftHours: number;
}

function cycleOf(rotation: Rotation, scheduleZone: string): Cycle {
  const zone = rotation.timeZone ?? scheduleZone;
  const [, dayName, hour, minute] = /^(?:(\w{3}) )?(\d\d):(\d\d)$/.exec(rotation.handoff) ?? [];
  let wall = DateTime.fromISO(rotation.start, { zone: "utc" }).set({
    hour: Number(hour),
    minute: Number(minute),
  });
  if (dayName) {
    const weekday = WEEKDAYS.indexOf(dayName as (typeof WEEKDAYS)[number]) + 1;
    wall = wall.plus({ days: (weekday - wall.weekday + 7) % 7 });
  }
  const [, count, unit] = /^(\d+)([hdw])$/.exec(rotation.shift) ?? [];
  const shiftHours = Number(count) * SHIFT_UNIT_HOURS[unit as keyof typeof SHIFT_UNIT_HOURS];
  return { rotation, zone, wall, shiftHours };
}

/**
 * Where shift `index` starts: the first handoff's wall-clock time plus whole shifts of
 * wall-clock hours, read in the zone. Counting on the wall clock (not in elapsed hours) keeps a
 * 09:00 handoff at 09:00 across DST; a handoff inside a spring-forward gap moves to the first
 * time that exists after it.
 */
function shiftStart(cycle: Cycle, index: number): number {
  const local = cycle.wall.plus({ hours: index * cycle.shiftHours });
  return DateTime.fromObject(
    {
      year: local.year,
      month: local.month,
      day: local.day,
      hour: local.hour,
      minute: local.minute,
    },
    { zone: cycle.zone },
  ).toMillis();
}

/** The layer's shifts overlapping [from, to), cut to it; none before the rotation starts. */
function layerPieces(cycle: Cycle, layer: number, from: number, to: number): Piece[] {
  const first = shiftStart(cycle, 0);
  const shiftMs = cycle.shiftHours * HOUR_MS;
  // An estimate from elapsed time, then corrected: DST moves a shift's start by an hour at most.
  let index = Math.max(0, Math.floor((from - first) / shiftMs));
  while (index > 0 && shiftStart(cycle, index) > from) index--;
  while (shiftStart(cycle, index + 1) <= from) index++;
  const pieces: Piece[] = [];
  const { people } = cycle.rotation;
  for (let start = shiftStart(cycle, index); start < to; index++) {
    const end = shiftStart(cycle, index + 1);
    if (end > from) {
      pieces.push({
        from: Math.max(start, from),
        to: Math.min(end, to),
        person: people[index % people.length] as string,
        source: `${layer}:${index}`,
        override: false,
      });
    }
    start = end;
  }
  const restrict = cycle.rotation.restrict;
  return restrict ? clip(pieces, windows(restrict, cycle.zone, from, to)) : pieces;
}

/** The restriction's windows overlapping [from, to), in the zone's local time. */
function windows(
  restrict: Restrict,
  zone: string,
  from: number,
  to: number,
): Array<[number, number]> {
  const result: Array<[number, number]> = [];
  const [fromHour, fromMinute] = restrict.from.split(":").map(Number);
  const [toHour, toMinute] = restrict.to.split(":").map(Number);
  const overnight = restrict.to <= restrict.from;
  // From the day before `from`: an overnight window that started then may still be open.
  let day = DateTime.fromMillis(from, { zone }).startOf("day").minus({ days: 1 });
  while (day.toMillis() < to) {
    if (restrict.days.includes(WEEKDAYS[day.weekday - 1] as (typeof WEEKDAYS)[number])) {
      const open = day.set({ hour: fromHour, minute: fromMinute }).toMillis();
      const close = (overnight ? day.plus({ days: 1 }) : day)
        .set({ hour: toHour, minute: toMinute })
        .toMillis();
      if (close > from && open < to) result.push([Math.max(open, from), Math.min(close, to)]);
    }
    day = day.plus({ days: 1 });
  }
  return result;
}

/** The parts of the pieces inside the windows (both sorted, windows disjoint). */
function clip(pieces: Piece[], spans: Array<[number, number]>): Piece[] {
  const result: Piece[] = [];
  for (const piece of pieces) {
    for (const [open, close] of spans) {
      const from = Math.max(piece.from, open);
      const to = Math.min(piece.to, close);
      if (from < to) result.push({ ...piece, from, to });
    }
  }
  return result;
}

/**
 * Lays pieces over each other: where several cover an instant, the one latest in the list wins.
 * Adjacent parts of one piece are joined again.
 */
function stack(pieces: Piece[]): Piece[] {
  const cuts = [...new Set(pieces.flatMap((piece) => [piece.from, piece.to]))].sort(
    (a, b) => a - b,
  );
  const result: Piece[] = [];
  for (let index = 0; index + 1 < cuts.length; index++) {
    const from = cuts[index] as number;
    const to = cuts[index + 1] as number;
    const top = pieces.findLast((piece) => piece.from <= from && piece.to >= to);
    if (!top) continue;
    const last = result.at(-1);
    if (last && last.source === top.source && last.to === from) last.to = to;
    else result.push({ ...top, from, to });
  }
  return result;
}

function pieces(
  schedule: Schedule,
  overrides: ReadonlyArray<OverrideSpan>,
  from: number,
  to: number,
): Piece[] {
  const layers = layersOf(schedule).map((rotation, layer) =>
    layerPieces(cycleOf(rotation, schedule.timeZone), layer, from, to),
  );
  let rotation = stack(layers.flat());
  if (schedule.restrict) {
    rotation = clip(rotation, windows(schedule.restrict, schedule.timeZone, from, to));
  }
  const replacements = overrides.flatMap((override, index): Piece[] => {
    const start = Math.max(toMs(override.from), from);
    const end = Math.min(toMs(override.to), to);
    return start < end
      ? [{ from: start, to: end, person: override.person, source: `o:${index}`, override: true }]
      : [];
  });
  return stack([...rotation, ...replacements]);
}

/**
 * The schedule's calendar between two times: each rotation shift (cut where an override, a
 * `restrict` window or the range cuts it) and each override, in order. Gaps are times nobody is
 * on call. Overrides win over everything; among overrides, later ones in the list win.
 *
 * @example
 * shifts(config.schedules.primary, [], "2026-03-23T00:00:00Z", "2026-04-06T00:00:00Z");
 * // [{ person: "alice", from: "2026-03-23T08:00:00.000Z", to: "2026-03-30T07:00:00.000Z", override: false }, ...]
 */
export function shifts(
  schedule: Schedule,
  overrides: ReadonlyArray<OverrideSpan>,
  from: Instant,
  to: Instant,
): Shift[] {
  const start = toMs(from);
  const end = toMs(to);
  if (!(start < end)) return [];
  return pieces(schedule, overrides, start, end).map((piece) => ({
    person: piece.person,
    from: iso(piece.from),
    to: iso(piece.to),
    override: piece.override,
  }));
}

/**
 * Who is on call at `at`, with the span of their shift (or override) around it; null when
 * nobody is (before the rotation starts, outside `restrict`). Computed from the definition and
 * the overrides alone, so every caller at every moment agrees.
 *
 * @example
 * onCallAt(config.schedules.primary, overrides, Date.now());
 * // { person: "bob", from: "2026-01-12T08:00:00.000Z", to: "2026-01-19T08:00:00.000Z" }
 */
export function onCallAt(
  schedule: Schedule,
  overrides: ReadonlyArray<OverrideSpan>,
  at: Instant,
): OnCall | null {
  const instant = toMs(at);
  // Wide enough to hold the whole shift around `at` (and whole overrides that cover it).
  const longest = Math.max(...layersOf(schedule).map((layer) => cycleOf(layer, "utc").shiftHours));
  let from = instant - longest * HOUR_MS - 2 * DAY_MS;
  let to = instant + longest * HOUR_MS + 2 * DAY_MS;
  for (const override of overrides) {
    if (toMs(override.from) <= instant && toMs(override.to) > instant) {
      from = Math.min(from, toMs(override.from));
      to = Math.max(to, toMs(override.to));
    }
  }
  const found = pieces(schedule, overrides, from, to).find(
    (piece) => piece.from <= instant && piece.to > instant,
  );
  return found ? { person: found.person, from: iso(found.from), to: iso(found.to) } : null;
}
