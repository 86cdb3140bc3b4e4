import { VersionConflictError } from "../errors";
import type { Policy } from "../policy/classify";
import type { Clock, FingerprintState, IncidentStore, Logger } from "../ports";
import { silentLogger } from "../ports";
import type { Signal } from "../signal";
import { deliveryMark } from "./ids";
import type { IncidentRecord } from "./model";
import {
  type ClassifiedSignal,
  type IncidentEvent,
  reduce,
  type SignalOutcome,
  withSalt,
} from "./reduce";
import { spillTimeline } from "./timeline";

export interface SignalResult {
  signal: Signal;
  outcome: SignalOutcome | "failed";
  incidentId: string | null;
  error?: unknown;
}

/** A committed change, for the stages after correlation (responses, paging). */
export interface IncidentChange {
  record: IncidentRecord;
  created: boolean;
  events: IncidentEvent[];
}

export interface CorrelationResult {
  /** One per input signal, in input order. */
  results: SignalResult[];
  /** The incident changes written, in the order they were committed. */
  changes: IncidentChange[];
}

export interface CorrelatorOptions {
  store: IncidentStore;
  policy: Policy;
  clock: Clock;
  logger?: Logger;
  /** Adds the responses to a change before it is written (see `planResponses`). */
  respond?: (
    record: IncidentRecord,
    events: IncidentEvent[],
    now: number,
  ) => IncidentRecord | Promise<IncidentRecord>;
  /** Fingerprint groups written at once; dynamodb likes several requests in flight. */
  concurrency?: number;
  /** Fingerprints' state kept between batches so a storm costs one write per group, no reads. */
  cacheSize?: number;
}

const MAX_ATTEMPTS = 30;
const MAX_SALT = 4;

/**
 * Folds signals into incidents: classify, group by fingerprint (a storm of repeats in one batch
 * becomes one conditional write per fingerprint), reduce, and compare-and-set. A lost race
 * reloads and reduces again, so concurrent processors never lose an update; delivery marks make
 * a retried batch a no-op, however many deliveries came before it (marks a generation cannot
 * hold are archived: only fingerprints that outgrew their item pay a lookup per batch).
 */
export class Correlator {
  private readonly cache = new Map<string, FingerprintState>();
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly cacheSize: number;

  constructor(private readonly options: CorrelatorOptions) {
    this.logger = options.logger ?? silentLogger;
    this.concurrency = options.concurrency ?? 16;
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  async process(signals: ReadonlyArray<Signal>): Promise<CorrelationResult> {
    const groups = new Map<string, ClassifiedSignal[]>();
    const ignored = new Set<Signal>();
    for (const signal of signals) {
      const { severity, rule } = this.options.policy.classify(signal);
      if (severity === "ignore") {
        ignored.add(signal);
        continue;
      }
      const service = this.options.policy.serviceOf(signal);
      const runbook =
        service === null ? null : this.options.policy.config.services[service]?.runbook;
      const classified: ClassifiedSignal = {
        ...signal,
        severity,
        rule: rule?.name ?? null,
        service,
        runbook: runbook ?? null,
      };
      const group = groups.get(signal.fingerprint);
      if (group) group.push(classified);
      else groups.set(signal.fingerprint, [classified]);
    }

    const byDelivery = new Map<ClassifiedSignal, SignalResult>();
    const changes: IncidentChange[] = [];
    const queue = [...groups.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [fingerprint, group] = next;
        try {
          for (const result of await this.applyGroup(fingerprint, group, changes)) {
            byDelivery.set(result.signal as ClassifiedSignal, result);
          }
        } catch (error) {
          this.cache.delete(fingerprint);
          this.logger.error("incident update failed", { fingerprint, error: String(error) });
          for (const signal of group) {
            byDelivery.set(signal, { signal, outcome: "failed", incidentId: null, error });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));

    // Map classified copies back to the caller's signals, keeping input order.
    const results: SignalResult[] = [];
    const remaining = new Map<string, ClassifiedSignal[]>(
      [...groups].map(([fingerprint, group]) => [fingerprint, [...group]]),
    );
    for (const signal of signals) {
      if (ignored.has(signal)) {
        results.push({ signal, outcome: "ignored", incidentId: null });
        continue;
      }
      const classified = remaining.get(signal.fingerprint)?.shift() as ClassifiedSignal;
      const result = byDelivery.get(classified) as SignalResult;
      results.push({ ...result, signal });
    }
    return { results, changes };
  }

  private async applyGroup(
    fingerprint: string,
    group: ClassifiedSignal[],
    changes: IncidentChange[],
  ): Promise<SignalResult[]> {
    const results: SignalResult[] = [];
    const settings = this.options.policy.config.incidents;
    let pending = group;
    let attempt = 0;
    while (pending.length > 0) {
      try {
        const state = await this.current(fingerprint);
        const current = state.record;
        const now = this.options.clock.now();
        const archived = await this.archivedMarks(fingerprint, current, pending, now);
        const reduction = reduce(current, pending, settings, now, {
          recoveredAt: state.recoveredAt,
          archived,
        });
        if (reduction.recovered !== null) {
          const until = Date.parse(reduction.recovered) + settings.trustedTime.past;
          const id = current?.incident.id ?? null;
          await this.options.store.rememberRecovery(fingerprint, reduction.recovered, id, until);
        }
        if (!reduction.record) {
          for (const { signal, outcome } of reduction.outcomes) {
            results.push({ signal, outcome, incidentId: current?.incident.id ?? null });
          }
          return results;
        }
        // Before the item that drops them: a mark is always inline, archived, or both.
        if (reduction.archive.length > 0) {
          await this.options.store.archiveMarks(fingerprint, reduction.archive);
        }
        // Responses are decided here and written with the change: a decision is never lost.
        const decided = this.options.respond
          ? await this.options.respond(reduction.record, reduction.events, now)
          : reduction.record;
        const saved = await this.commit(decided, reduction.created);
        this.remember(fingerprint, {
          record: saved,
          recoveredAt: reduction.recovered ?? state.recoveredAt,
        });
        changes.push({ record: saved, created: reduction.created, events: reduction.events });
        for (const { signal, outcome } of reduction.outcomes) {
          results.push({ signal, outcome, incidentId: saved.incident.id });
        }
        pending = reduction.rest;
        attempt = 0;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        this.cache.delete(fingerprint);
        attempt += 1;
        if (attempt >= MAX_ATTEMPTS) throw error;
        await backoff(attempt);
      }
    }
    return results;
  }

  private async current(fingerprint: string): Promise<FingerprintState> {
    const cached = this.cache.get(fingerprint);
    if (cached) return cached;
    const state = await this.options.store.getFingerprint(fingerprint);
    this.remember(fingerprint, state);
    return state;
  }

  /**
   * Which of the signals' marks the store archived. Read after the record (an archived mark was
   * written before the record that dropped it), and only while the record says some are kept.
   */
  private async archivedMarks(
    fingerprint: string,
    record: IncidentRecord | null,
    signals: ReadonlyArray<ClassifiedSignal>,
    now: number,
  ): Promise<ReadonlySet<string>> {
    const until = record?.marksArchivedUntil;
    if (!until || Date.parse(until) <= now) return new Set();
    const marks = [...new Set(signals.map((signal) => deliveryMark(signal.deliveryId)))];
    return this.options.store.findArchivedMarks(fingerprint, marks);
  }

  /**
   * Keeps the state of a fingerprint with an open incident only: with nothing open, another
   * processor may remember a recovery on the pointer, which a cached copy would not see (and a
   * new incident's create has no version to conflict on), so that state is read afresh.
   */
  private remember(fingerprint: string, state: FingerprintState): void {
    this.cache.delete(fingerprint);
    if (!state.record || state.record.incident.status === "resolved") return;
    this.cache.set(fingerprint, state);
    if (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }

  /** Saves a change; a new incident is created first and then the fingerprint points at it. */
  private async commit(record: IncidentRecord, created: boolean): Promise<IncidentRecord> {
    const { store } = this.options;
    const { record: spilled, page } = spillTimeline(record);
    if (!created) {
      await store.save(spilled, page);
      return spilled;
    }
    const { fingerprint, sequence } = spilled.incident;
    for (let salt = 0; salt < MAX_SALT; salt++) {
      const candidate = salt === 0 ? spilled : withSalt(spilled, salt);
      try {
        await store.save(candidate, page);
        await store.setCurrent(fingerprint, candidate.incident.id, sequence);
        return candidate;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        const existing = await store.get(candidate.incident.id);
        if (existing?.incident.fingerprint === fingerprint) {
          // Created by a concurrent processor or by an earlier attempt that stopped before
          // moving the pointer: repair the pointer, then reload and reduce against it.
          await store.setCurrent(fingerprint, existing.incident.id, existing.incident.sequence);
          throw error;
        }
        if (!existing) throw error;
        this.logger.warn("incident id collision, salting", { id: candidate.incident.id });
      }
    }
    throw new Error(`no free incident id for ${fingerprint} after ${MAX_SALT} salts`);
  }
}

/** Full-jitter exponential backoff: spreads racing writers apart without a fixed rhythm. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(1000, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
