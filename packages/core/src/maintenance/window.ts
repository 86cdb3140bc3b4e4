import { randomBytes } from "node:crypto";
import { InvalidInputError } from "../errors";
import { alertMatcher } from "../silences/alert-matcher";
import type { Hold, HoldSubject } from "../silences/hold";
import { type MaintenanceWindow, type MaintenanceWindowView, windowFromConfig } from "./record";
import { nextPeriod, type Period, parseCron, periodAt, type WindowTiming } from "./recurrence";
import type { MaintenanceWindowConfig } from "./schema";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A new window from the API, written like a policy window (`name`, `match`, and `start`/`end` or
 * `cron`/`timeZone`/`duration`, checked by `MaintenanceWindowSchema`, which names a bad cron
 * field, an unknown zone or an end before its start). Its match must name something: an empty
 * one would hold every alert.
 *
 * @throws InvalidInputError for an empty match
 * @example
 * newMaintenanceWindow(MaintenanceWindowSchema.parse({ name: "db-patching",
 *   match: { service: "orders-db" }, cron: "0 2 * * SAT", timeZone: "Europe/Berlin",
 *   duration: "2h" }), "api:ops", Date.now());
 */
export function newMaintenanceWindow(
  window: MaintenanceWindowConfig,
  createdBy: string,
  now: number,
): MaintenanceWindow {
  if (Object.values(window.match).every((value) => value === undefined)) {
    throw new InvalidInputError(
      "match: name at least one key (service, severity, source, alarmName...): an empty match would hold every alert",
    );
  }
  const id = `M${Array.from(randomBytes(5), (byte) => ALPHABET[byte & 31]).join("")}`;
  return windowFromConfig(window, {
    id,
    origin: "api",
    createdBy,
    createdAt: new Date(now).toISOString(),
  });
}

// Parsed once per window object: windows are asked about every alert of a batch.
const timings = new WeakMap<MaintenanceWindow, WindowTiming>();

/** When a window is in effect, parsed (its fields were validated when it was made). */
export function timingOf(window: MaintenanceWindow): WindowTiming {
  let timing = timings.get(window);
  if (!timing) {
    timing =
      window.cron !== null
        ? {
            kind: "recurring",
            schedule: parseCron(window.cron),
            timeZone: window.timeZone,
            duration: window.duration ?? 0,
          }
        : {
            kind: "once",
            start: Date.parse(window.start ?? ""),
            end: Date.parse(window.end ?? ""),
          };
    timings.set(window, timing);
  }
  return timing;
}

/** Whether a stored window can still hold anything after `now` (an ended one-off cannot). */
export const windowLasts = (window: MaintenanceWindow, now: number): boolean =>
  window.cron !== null || Date.parse(window.end ?? "") > now;

const iso = (time: number) => new Date(time).toISOString();

/** A window and where it stands at `now`: in effect, or its next period. */
export function windowView(window: MaintenanceWindow, now: number): MaintenanceWindowView {
  const timing = timingOf(window);
  const current = periodAt(timing, now);
  const period: Period | null = current ?? nextPeriod(timing, now);
  return {
    ...window,
    active: current !== null,
    period: period ? { start: iso(period.start), end: iso(period.end) } : null,
  };
}

/**
 * The window holding an alert at `now`, as a hold (of several, the one ending last), or null.
 *
 * @example
 * windowHold(subject, [...policyWindows(config), ...stored], now);
 * // { kind: "maintenance", id: "policy:db-patching", name: "db-patching", endsAt: "...", reason: null }
 */
export function windowHold(
  subject: HoldSubject,
  windows: ReadonlyArray<MaintenanceWindow>,
  now: number,
): Hold | null {
  let found: { window: MaintenanceWindow; end: number } | null = null;
  for (const window of windows) {
    if (!alertMatcher(window.match)(subject)) continue;
    const period = periodAt(timingOf(window), now);
    if (period && (!found || period.end > found.end)) found = { window, end: period.end };
  }
  if (!found) return null;
  const { window, end } = found;
  return {
    kind: "maintenance",
    id: window.id,
    name: window.name,
    endsAt: iso(end),
    reason: window.reason,
  };
}
