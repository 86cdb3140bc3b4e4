import type { Clock } from "../ports";
import {
  type CountRange,
  hasCounts,
  hourBounds,
  hourExpiresAt,
  hourOf,
  NO_SIGNAL_COUNTS,
  type SignalCounters,
  type SignalCounts,
  sumCounts,
} from "../reports/counters";

/** SignalCounters in memory, with the DynamoDB adapter's semantics (see the contract). */
export class MemorySignalCounters implements SignalCounters {
  /** Counts by hour key, as they were added. */
  readonly hours = new Map<string, SignalCounts>();

  constructor(
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  async add(at: number, counts: SignalCounts): Promise<void> {
    if (!hasCounts(counts)) return;
    const hour = hourOf(at);
    this.hours.set(hour, sumCounts(this.hours.get(hour) ?? NO_SIGNAL_COUNTS, counts));
  }

  async totals(range: CountRange): Promise<SignalCounts> {
    const { first, last } = hourBounds(range);
    const nowSeconds = this.clock.now() / 1000;
    let total = NO_SIGNAL_COUNTS;
    for (const [hour, counts] of this.hours) {
      if ((first !== null && hour < first) || (last !== null && hour > last)) continue;
      if (hourExpiresAt(hour, this.retentionMs) <= nowSeconds) continue;
      total = sumCounts(total, counts);
    }
    return total;
  }
}
