/**
 * The distinct storm's teams: each owns a Sentry project and pages its own channel. A channel
 * pages at most 1,000 times a minute (the highest budget), so with one channel all but the first
 * 1,000 new incidents of a minute would fold into its digest. Over eight, each channel's share of
 * the run's 5,200 issues (650) is under its budget: every new incident pages.
 */
export const BENCH_TEAMS = 8;

/** The Sentry project of the distinct storm's `index`th issue. */
export function benchProject(index: number): string {
  return `shop-${index % BENCH_TEAMS}`;
}
