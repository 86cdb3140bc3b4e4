import { randomBytes } from "node:crypto";
import type { MonitoringConfig } from "../config/schema";
import { InvalidInputError, NotFoundError } from "../errors";
import type { OverrideStore } from "../ports";
import { MAX_ONCALL_RANGE_MS, type ScheduleOverride } from "./model";
import { type OnCall, onCallAt, type Shift, shifts } from "./rotation";

const OVERRIDE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `O` and seven Crockford base32 characters. */
export function newOverrideId(): string {
  return `O${Array.from(randomBytes(7), (byte) => OVERRIDE_ALPHABET[byte & 31]).join("")}`;
}

/**
 * A new override, checked against the config: the schedule and the person must exist, `from`
 * must come before `to`, and it lasts at most 90 days.
 * @throws NotFoundError for an unknown schedule, InvalidInputError for the rest
 */
export function newOverride(
  config: Pick<MonitoringConfig, "people" | "schedules">,
  input: { schedule: string; person: string; from: number; to: number; createdBy: string },
  now: number,
): ScheduleOverride {
  scheduleOf(config, input.schedule);
  if (!(input.person in config.people)) {
    const known = Object.keys(config.people).join(", ") || "none";
    throw new InvalidInputError(`unknown person "${input.person}" (people: ${known})`);
  }
  if (!(input.from < input.to)) throw new InvalidInputError("an override's from must be before to");
  if (input.to - input.from > MAX_ONCALL_RANGE_MS) {
    throw new InvalidInputError("an override lasts at most 90 days");
  }
  return {
    id: newOverrideId(),
    schedule: input.schedule,
    person: input.person,
    from: new Date(input.from).toISOString(),
    to: new Date(input.to).toISOString(),
    createdBy: input.createdBy,
    createdAt: new Date(now).toISOString(),
  };
}

/** The schedule by name. @throws NotFoundError naming it */
export function scheduleOf(config: Pick<MonitoringConfig, "schedules">, name: string) {
  const schedule = Object.hasOwn(config.schedules, name) ? config.schedules[name] : undefined;
  if (!schedule) throw new NotFoundError(`no schedule ${name}`);
  return schedule;
}

/** Whoever is on call now for every schedule, in the config's order (person null: nobody). */
export interface ScheduleOnCall {
  schedule: string;
  person: string | null;
  from: string | null;
  to: string | null;
}

/**
 * Who is on call at `at` in each schedule (or the one named), overrides included.
 *
 * @example
 * await whoIsOnCall(config, overrides, Date.now());
 * // [{ schedule: "primary", person: "alice", from: "...", to: "..." }]
 */
export async function whoIsOnCall(
  config: Pick<MonitoringConfig, "schedules">,
  store: OverrideStore,
  at: number,
  only?: string,
): Promise<ScheduleOnCall[]> {
  const names = only === undefined ? Object.keys(config.schedules) : [only];
  return Promise.all(
    names.map(async (name) => {
      const schedule = scheduleOf(config, name);
      // Overrides covering `at` are all that can matter, and they last at most the range.
      const overrides = await store.list(name, at - MAX_ONCALL_RANGE_MS, at + MAX_ONCALL_RANGE_MS);
      const found: OnCall | null = onCallAt(schedule, overrides, at);
      return { schedule: name, person: null, from: null, to: null, ...found };
    }),
  );
}

/** A schedule's shifts over [from, to), with its stored overrides. */
export async function scheduleShifts(
  config: Pick<MonitoringConfig, "schedules">,
  store: OverrideStore,
  name: string,
  from: number,
  to: number,
): Promise<Shift[]> {
  const schedule = scheduleOf(config, name);
  return shifts(schedule, await store.list(name, from, to), from, to);
}
