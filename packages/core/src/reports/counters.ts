import * as z from "zod";

const HOUR_MS = 3_600_000;
const Count = z.number().int().nonnegative();

/**
 * What the processor counts but never stores as incidents: `ignored`, the signals a rule with
 * `severity: "ignore"` dropped before any incident existed.
 */
export const SignalCountsSchema = z.object({
  ignored: Count.describe(
    "Signals a rule with severity ignore dropped (never stored, never paged)",
  ),
});
export type SignalCounts = z.infer<typeof SignalCountsSchema>;

/** Every counter at zero. */
export const NO_SIGNAL_COUNTS: SignalCounts = Object.freeze({ ignored: 0 });

/** A range of ISO times, inclusive; null leaves that side open (the summary's range). */
export interface CountRange {
  since: string | null;
  until: string | null;
}

/**
 * Counts per hour. `add` is called once per processed batch with what it counted, bucketed by
 * when the batch was processed (Firebreak's clock, not the signals' own times, so one batch is one
 * bucket and one write); `totals` sums the hours that overlap a range. Counting is at least once:
 * a batch processed twice (a Lambda retried after it counted) counts twice.
 *
 * @example
 * ```ts
 * await counters.add(clock.now(), { ignored: 12 });
 * await counters.totals({ since: "2026-12-02T00:00:00.000Z", until: null }); // { ignored: 12 }
 * ```
 */
export interface SignalCounters {
  /** Adds to the hour `at` (epoch ms) falls in; adding nothing writes nothing. */
  add(at: number, counts: SignalCounts): Promise<void>;
  /** The sums over every kept hour that overlaps `range`. */
  totals(range: CountRange): Promise<SignalCounts>;
}

/** The hour `at` falls in, as the ISO time it starts: `2026-12-02T16:00:00.000Z`. */
export const hourOf = (at: number): string =>
  new Date(Math.floor(at / HOUR_MS) * HOUR_MS).toISOString();

/** When an hour's counts expire: `incidents.retention` after the hour ends, in epoch seconds. */
export const hourExpiresAt = (hour: string, retentionMs: number): number =>
  Math.ceil((Date.parse(hour) + HOUR_MS + retentionMs) / 1000);

/**
 * The first and last hour keys overlapping a range (null: open). Hour keys are ISO times of the
 * same shape, so they compare as text: an hour overlaps `[since, until]` when it starts at or
 * after the hour `since` falls in, and at or before `until`.
 */
export function hourBounds(range: CountRange): { first: string | null; last: string | null } {
  return {
    first: range.since === null ? null : hourOf(Date.parse(range.since)),
    last: range.until === null ? null : hourOf(Date.parse(range.until)),
  };
}

/** Whether the counts hold anything to add. */
export const hasCounts = (counts: SignalCounts): boolean => counts.ignored > 0;

/** Adds two sets of counts. */
export const sumCounts = (a: SignalCounts, b: SignalCounts): SignalCounts => ({
  ignored: a.ignored + b.ignored,
});
