import type { Clock } from "../ports";

/** A clock a test sets: `now()` answers `time`, which the test moves by assigning it. */
export interface ManualClock extends Clock {
  time: number;
}

/** @example const clock = manualClock(T0); clock.time += 60_000; */
export function manualClock(start: number): ManualClock {
  const clock = { time: start, now: () => clock.time };
  return clock;
}
