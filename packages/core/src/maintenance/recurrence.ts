import { DateTime, IANAZone } from "luxon";
import { InvalidInputError } from "../errors";

/**
 * A five-field cron expression, parsed: the values each field allows. `dayOfMonth` and
 * `dayOfWeek` follow Vixie cron: when both are restricted a day matches either of them.
 */
export interface CronSchedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 is Sunday (7 is read as 0). */
  daysOfWeek: ReadonlySet<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: ReadonlyArray<string>;
}

const FIELDS: ReadonlyArray<FieldSpec> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  // 7 is Sunday too, as in most crons; names start at SUN = 0.
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** Days in each month of a leap year: a day of month no month has can never happen. */
const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function parseValue(text: string, field: FieldSpec): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + (field.name === "month" ? 1 : 0);
  if (!/^\d{1,2}$/.test(text)) {
    const names = field.names ? ` or a name (${field.names.join(", ")})` : "";
    throw new InvalidInputError(
      `cron ${field.name}: "${text}" is not a number ${field.min}-${field.max}${names}`,
    );
  }
  const value = Number(text);
  if (value < field.min || value > field.max) {
    throw new InvalidInputError(
      `cron ${field.name}: ${value} is out of range ${field.min}-${field.max}`,
    );
  }
  return value;
}

/** One field: `*`, `5`, `1-5`, `MON-FRI`, `*\/15`, `0-30/10`, and lists of these. */
function parseField(text: string, field: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const [range = "", stepText, extra] = item.split("/");
    if (extra !== undefined || range === "") {
      throw new InvalidInputError(`cron ${field.name}: "${item}" is not a value, range or step`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) === 0) {
        throw new InvalidInputError(
          `cron ${field.name}: step "${stepText}" must be a whole number from 1`,
        );
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === "*") {
      from = field.min;
      to = field.max;
    } else if (range.includes("-")) {
      const [low = "", high = ""] = range.split("-");
      from = parseValue(low, field);
      to = parseValue(high, field);
      if (from > to) {
        throw new InvalidInputError(`cron ${field.name}: range "${range}" runs backwards`);
      }
    } else {
      from = parseValue(range, field);
      // `5/15` means from 5 to the end in steps of 15, as in Vixie cron.
      to = stepText === undefined ? from : field.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

/**
 * Reads a five-field cron expression: minute, hour, day of month, month, day of week, with
 * ranges, lists, steps and the names JAN-DEC and SUN-SAT. Quartz extensions (`?`, `L`, `W`,
 * `#`, a seconds or year field) are refused rather than misread.
 *
 * @throws InvalidInputError naming the field that is wrong
 * @example
 * parseCron("0 2 * * SAT"); // Saturdays at 02:00
 */
export function parseCron(text: string): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new InvalidInputError(
      `a cron expression has 5 fields (minute hour day-of-month month day-of-week), "${text.slice(0, 80)}" has ${parts.length}`,
    );
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, index) =>
    parseField(part, FIELDS[index] as FieldSpec),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  const domRestricted = parts[2] !== "*";
  const dowRestricted = parts[4] !== "*";
  // "0 0 30 2 *" is valid syntax that never fires: a window that never opens is a mistake.
  if (domRestricted && !dowRestricted) {
    const possible = [...months].some((month) =>
      [...daysOfMonth].some((day) => day <= (LONGEST_MONTH[month - 1] as number)),
    );
    if (!possible) {
      throw new InvalidInputError(
        `cron day of month: "${parts[2]}" never falls in month "${parts[3]}"`,
      );
    }
  }
  return { minutes, hours, daysOfMonth, months, daysOfWeek, domRestricted, dowRestricted };
}

/** Whether `zone` is an IANA time zone luxon (and so this runtime's Intl) knows. */
export const isTimeZone = (zone: string): boolean => IANAZone.isValidZone(zone);

function dayMatches(schedule: CronSchedule, day: DateTime): boolean {
  if (!schedule.months.has(day.month)) return false;
  const dom = schedule.daysOfMonth.has(day.day);
  const dow = schedule.daysOfWeek.has(day.weekday % 7);
  if (schedule.domRestricted && schedule.dowRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The instant a wall-clock time of `day` happens in its zone. A time the spring change skips
 * (02:30 in Berlin on the last Sunday of March) happens when the clocks jump: luxon moves it
 * forward by the gap, to 03:30. A time the autumn change repeats happens once, at its first
 * occurrence (summer time), as Vixie cron runs it: luxon would pick the second.
 */
function wallTime(day: DateTime, hour: number, minute: number): number {
  const zone = day.zone;
  const instant = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour, minute },
    { zone },
  );
  const before = DateTime.fromMillis(instant.toMillis() - 3 * 3_600_000, { zone });
  const shift = before.offset - instant.offset;
  if (shift > 0) {
    const earlier = DateTime.fromMillis(instant.toMillis() - shift * 60_000, { zone });
    if (earlier.hour === hour && earlier.minute === minute && earlier.day === day.day) {
      return earlier.toMillis();
    }
  }
  return instant.toMillis();
}

/**
 * The instants `schedule` fires in `zone` from `from` (inclusive) to `to` (exclusive), in order,
 * each wall-clock time at most once.
 */
export function cronTimes(
  schedule: CronSchedule,
  zone: string,
  from: number,
  to: number,
): number[] {
  const times = new Set<number>();
  // A day earlier and later than the bounds: a skipped hour can move a time across midnight.
  let day = DateTime.fromMillis(from, { zone }).startOf("day").minus({ days: 1 });
  const last = DateTime.fromMillis(to, { zone }).startOf("day").plus({ days: 1 });
  while (day <= last) {
    if (dayMatches(schedule, day)) {
      for (const hour of schedule.hours) {
        for (const minute of schedule.minutes) {
          const at = wallTime(day, hour, minute);
          if (at >= from && at < to) times.add(at);
        }
      }
    }
    day = day.plus({ days: 1 });
  }
  return [...times].sort((a, b) => a - b);
}

/** A period a window is in effect: `[start, end)` in epoch milliseconds. */
export interface Period {
  start: number;
  end: number;
}

/** When a window is in effect: one period, or a cron in a time zone lasting `duration` ms. */
export type WindowTiming =
  | { kind: "once"; start: number; end: number }
  | { kind: "recurring"; schedule: CronSchedule; timeZone: string; duration: number };

/**
 * The period of `timing` in effect at `now`, or null. Of recurring periods that overlap the one
 * that started last is given (its end is when the window is asked about again).
 */
export function periodAt(timing: WindowTiming, now: number): Period | null {
  if (timing.kind === "once") {
    return timing.start <= now && now < timing.end
      ? { start: timing.start, end: timing.end }
      : null;
  }
  const starts = cronTimes(timing.schedule, timing.timeZone, now - timing.duration + 1, now + 1);
  const start = starts.at(-1);
  return start === undefined ? null : { start, end: start + timing.duration };
}

/** How far ahead a recurrence is searched: past a leap day, for `0 0 29 2 *`. */
const SEARCH_DAYS = 4 * 366 + 1;

/** The next period of `timing` that starts after `now`, or null when there is none. */
export function nextPeriod(timing: WindowTiming, now: number): Period | null {
  if (timing.kind === "once") {
    return timing.start > now ? { start: timing.start, end: timing.end } : null;
  }
  // Month by month, so a window of every Saturday costs one month of days, not four years.
  for (let from = now + 1; from < now + SEARCH_DAYS * 86_400_000; from += 31 * 86_400_000) {
    const [start] = cronTimes(timing.schedule, timing.timeZone, from, from + 31 * 86_400_000);
    if (start !== undefined) return { start, end: start + timing.duration };
  }
  return null;
}
