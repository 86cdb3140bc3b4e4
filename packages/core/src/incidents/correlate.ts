import { VersionConflictError } from "../errors";
import type { Policy } from "../policy/classify";
import type { Clock, FingerprintState, IncidentStore, Logger } from "../ports";
import { StaleRecordError, silentLogger } from "../ports";
import type { Signal } from "../signal";
import { deliveryMark } from "./ids";
import type { IncidentRecord } from "./model";
import {
  type ClassifiedSignal,
  type Correlation,
  correlationKey,
  type IncidentEvent,
  reduce,
  type SignalOutcome,
  withSalt,
} from "./reduce";
import { spillTimeline } from "./timeline";

export interface SignalResult {
  signal: Signal;
  /** `dropped`: a rule with `severity: "ignore"` matched it; nothing was read or written. */
  outcome: SignalOutcome | "dropped" | "failed";
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
  /**
   * Fingerprint groups written at once (default 8): DynamoDB likes several requests in flight,
   * but in a storm every concurrent batch holds the same keys, and more writers per batch only
   * lose more races to each other (50,000 events over 50 alarms, 10 batches in flight: with 16,
   * 40-55% of saves lost a race; with 8, 30-40%).
   */
  concurrency?: number;
  /** Fingerprints' state kept between batches so a storm costs one write per group, no reads. */
  cacheSize?: number;
}

const MAX_ATTEMPTS = 30;
const MAX_SALT = 4;
/** Lost saves retried at once against the record that won, before backing off. */
const QUICK_RETRIES = 3;
/** How often a signal may be sent on to another incident (merges of merges): never a loop. */
const MAX_HOPS = 3;
const SERVICE_KEY = "service:";

/** Signals to reduce under one correlation key; `hops`: how often they were sent on. */
interface WorkItem {
  key: string;
  group: ClassifiedSignal[];
  hops: number;
}

/** Signals bound for one key, with the fingerprint states read to route them. */
interface Route {
  key: string;
  signals: ClassifiedSignal[];
  states: Map<string, FingerprintState>;
}

const isOpen = (record: IncidentRecord) => record.incident.status !== "resolved";
const holds = (record: IncidentRecord, fingerprint: string) =>
  record.alerts.some((alert) => alert.fingerprint === fingerprint);

function groupBy<T>(items: ReadonlyArray<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Folds signals into incidents: classify, group by correlation key (a service, else the
 * fingerprint: a storm of repeats in one batch becomes one conditional write per key), route
 * each fingerprint to the incident holding its alert, reduce, and compare-and-set. A lost race
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
    this.concurrency = options.concurrency ?? 8;
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  async process(signals: ReadonlyArray<Signal>): Promise<CorrelationResult> {
    const { policy } = this.options;
    const groups = new Map<string, ClassifiedSignal[]>();
    const classified: Array<ClassifiedSignal | null> = [];
    for (const signal of signals) {
      const { severity, rule } = policy.classify(signal);
      if (severity === "ignore") {
        classified.push(null);
        continue;
      }
      const service = policy.serviceOf(signal);
      const runbook = service === null ? null : policy.config.services[service]?.runbook;
      const one: ClassifiedSignal = {
        ...signal,
        severity,
        rule: rule?.name ?? null,
        service,
        runbook: runbook ?? null,
      };
      classified.push(one);
      const key = correlationKey(one, policy.config);
      const group = groups.get(key);
      if (group) group.push(one);
      else groups.set(key, [one]);
    }

    // The keys' states not kept from earlier batches, read together (each used once: a retry
    // after a lost race reads afresh).
    const unknown = [...groups.keys()].filter((key) => !this.cache.has(key));
    const prefetched =
      unknown.length > 1
        ? await this.options.store.getFingerprints(unknown)
        : new Map<string, FingerprintState>();

    const byDelivery = new Map<ClassifiedSignal, SignalResult>();
    const changes: IncidentChange[] = [];
    // Concurrent batches of a storm hold the same keys, met in the same order: each takes them
    // in an order of its own, so that two rarely update one incident at the same moment.
    const queue: WorkItem[] = shuffled([...groups]).map(([key, group]) => ({
      key,
      group,
      hops: 0,
    }));
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { key, group } = next;
        try {
          const { results, elsewhere } = await this.applyGroup(next, changes, prefetched);
          for (const result of results) {
            byDelivery.set(result.signal as ClassifiedSignal, result);
          }
          queue.push(...elsewhere);
        } catch (error) {
          this.cache.delete(key);
          this.logger.error("incident update failed", { key, error: String(error) });
          for (const signal of group) {
            byDelivery.set(signal, { signal, outcome: "failed", incidentId: null, error });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));

    // Map classified copies back to the caller's signals, keeping input order.
    const results = signals.map((signal, index): SignalResult => {
      const mine = classified[index];
      if (!mine) return { signal, outcome: "dropped", incidentId: null };
      return { ...(byDelivery.get(mine) as SignalResult), signal };
    });
    return { results, changes };
  }

  /**
   * Reduces one key's signals, after sending elsewhere those whose alert lives in another
   * incident (merged into one, split off, or opened outside the group window): they come back
   * as `elsewhere`, for the key of the incident that holds their alert.
   */
  private async applyGroup(
    work: WorkItem,
    changes: IncidentChange[],
    prefetched: Map<string, FingerprintState>,
  ): Promise<{ results: SignalResult[]; elsewhere: WorkItem[] }> {
    const { key } = work;
    const results: SignalResult[] = [];
    const elsewhere: WorkItem[] = [];
    const settings = this.options.policy.config.incidents;
    const grouping = key.startsWith(SERVICE_KEY);
    const correlation: Correlation = {
      key,
      groupWindow: key.startsWith(SERVICE_KEY) ? settings.groupWindow : null,
    };
    let pending = work.group;
    let attempt = 0;
    // Fingerprint pointers read to route are kept across retries: a lost race moves the key's
    // incident, not where another fingerprint's alert lives.
    const routeStates = new Map<string, FingerprintState>();
    while (pending.length > 0) {
      // Sent on by this attempt: kept only once the attempt's write has gone through.
      const sent: WorkItem[] = [];
      // Set while an open incident's update is being saved: a lost race then needs no reads.
      let saving: { id: string; recoveredAt: string | null } | null = null;
      try {
        const read = prefetched.get(key);
        prefetched.delete(key);
        let state: FingerprintState;
        if (read && !this.cache.has(key)) {
          this.remember(key, read);
          state = read;
        } else {
          state = await this.current(key);
        }
        const current = state.record;
        // Signals whose alert another incident holds go there (at most a few hops).
        const routes =
          work.hops < MAX_HOPS
            ? await this.routes(key, current, pending, grouping, routeStates)
            : null;
        const recoveries = new Map<string, string | null>();
        const pointers = new Map<string, string | null>();
        if (routes) {
          pending = [];
          for (const route of routes) {
            if (route.key !== key) {
              sent.push({ key: route.key, group: route.signals, hops: work.hops + 1 });
              continue;
            }
            pending.push(...route.signals);
            for (const [fingerprint, fingerprintState] of route.states) {
              recoveries.set(fingerprint, fingerprintState.recoveredAt);
              pointers.set(fingerprint, fingerprintState.record?.incident.id ?? null);
            }
          }
          if (pending.length === 0) return { results, elsewhere: [...elsewhere, ...sent] };
        }
        const now = this.options.clock.now();
        const archived = await this.archivedMarks(key, current, pending, now);
        const reduction = reduce(
          current,
          pending,
          settings,
          now,
          {
            recoveredAt: correlation.groupWindow === null ? state.recoveredAt : null,
            archived,
            ...(recoveries.size > 0 ? { recoveries } : {}),
          },
          correlation,
        );
        for (const [fingerprint, at] of reduction.recovered) {
          const until = Date.parse(at) + settings.trustedTime.past;
          const id =
            fingerprint === key
              ? (current?.incident.id ?? null)
              : pointers.has(fingerprint)
                ? (pointers.get(fingerprint) ?? null)
                : await this.pointerOf(fingerprint);
          // Whether it is written or lost to a newer one, the pointer read before is stale.
          routeStates.delete(fingerprint);
          if (fingerprint !== key) this.cache.delete(fingerprint);
          await this.options.store.rememberRecovery(fingerprint, at, id, until);
        }
        if (reduction.detached.length > 0) {
          for (const [fingerprint, signals] of groupBy(reduction.detached, (s) => s.fingerprint)) {
            sent.push({ key: fingerprint, group: signals, hops: MAX_HOPS });
          }
        }
        if (!reduction.record) {
          for (const { signal, outcome } of reduction.outcomes) {
            results.push({ signal, outcome, incidentId: current?.incident.id ?? null });
          }
          return { results, elsewhere: [...elsewhere, ...sent] };
        }
        // Before the item that drops them: a mark is always inline, archived, or both.
        if (reduction.archive.length > 0) {
          await this.options.store.archiveMarks(key, reduction.archive);
        }
        // Responses are decided here and written with the change: a decision is never lost.
        const decided = this.options.respond
          ? await this.options.respond(reduction.record, reduction.events, now)
          : reduction.record;
        saving = { id: reduction.record.incident.id, recoveredAt: state.recoveredAt };
        const saved = await this.commit(decided, reduction.created);
        this.remember(key, {
          record: saved,
          recoveredAt: reduction.recovered.get(key) ?? state.recoveredAt,
        });
        changes.push({ record: saved, created: reduction.created, events: reduction.events });
        for (const { signal, outcome } of reduction.outcomes) {
          results.push({ signal, outcome, incidentId: saved.incident.id });
        }
        elsewhere.push(...sent);
        pending = reduction.rest;
        attempt = 0;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        this.cache.delete(key);
        attempt += 1;
        if (attempt >= MAX_ATTEMPTS) throw error;
        // The record that won is current now, not after a backoff: retried at once, a few times.
        // Past that the race is crowded; backing off, then reading afresh, spreads it out.
        const lost = attempt <= QUICK_RETRIES ? saving : null;
        if (
          lost &&
          error instanceof StaleRecordError &&
          this.takeWinner(key, lost.id, lost.recoveredAt, error.current)
        ) {
          continue;
        }
        await backoff(attempt);
      }
    }
    return { results, elsewhere };
  }

  /**
   * Where each signal's alert lives. An incident people merged sends its alerts' signals to
   * the incident it was merged into, while that one is open and holds them. Under a service
   * key (`grouping`), a fingerprint the open service incident does not hold reads its own
   * pointer (once; kept while open): an incident of its own (split off, or opened outside the
   * group window) takes its signals. The states read come back for the recoveries they keep.
   */
  private async routes(
    key: string,
    current: IncidentRecord | null,
    signals: ReadonlyArray<ClassifiedSignal>,
    grouping: boolean,
    states: Map<string, FingerprintState>,
  ): Promise<Route[]> {
    const merged = await this.mergedTarget(current);
    const routed = new Map<string, Route>();
    const add = (to: string, group: ClassifiedSignal[], state?: FingerprintState) => {
      let route = routed.get(to);
      if (!route) {
        route = { key: to, signals: [], states: new Map() };
        routed.set(to, route);
      }
      route.signals.push(...group);
      if (state) route.states.set((group[0] as ClassifiedSignal).fingerprint, state);
    };
    for (const [fingerprint, group] of groupBy(signals, (signal) => signal.fingerprint)) {
      if (merged && holds(merged, fingerprint)) {
        add(merged.incident.fingerprint, group);
      } else if (!grouping || (current && isOpen(current) && holds(current, fingerprint))) {
        add(key, group);
      } else {
        const state = states.get(fingerprint) ?? (await this.current(fingerprint));
        states.set(fingerprint, state);
        const theirs = (await this.mergedTarget(state.record)) ?? state.record;
        if (theirs && isOpen(theirs) && holds(theirs, fingerprint)) {
          add(theirs.incident.fingerprint, group);
        } else {
          add(key, group, state);
        }
      }
    }
    return [...routed.values()];
  }

  /** The open incident a merged one went into (following merges of merges), or null. */
  private async mergedTarget(record: IncidentRecord | null): Promise<IncidentRecord | null> {
    let into = record?.incident.mergedInto ?? null;
    for (let hop = 0; into !== null && hop < MAX_HOPS; hop++) {
      const target = await this.options.store.get(into);
      if (!target || !isOpen(target)) return null;
      if (target.incident.mergedInto === null) return target;
      into = target.incident.mergedInto;
    }
    return null;
  }

  /** A key's state: its pointer's incident and the recovery the pointer keeps. */
  private async current(key: string): Promise<FingerprintState> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const state = await this.options.store.getFingerprint(key);
    this.remember(key, state);
    return state;
  }

  /**
   * After losing a save (or a create: another processor opened the same incident), reduces
   * next against the record that won (the store returned it with the failed write, or the
   * create's check read it) instead of reading the pointer and the incident again. Only while that
   * incident is still open and still the key's: the pointer moves only to a fingerprint's next
   * incident, which opens after this one resolves, and a recovery the pointer remembers while
   * it is open concerns only alerts the incident holds, which decide by their own state.
   * Otherwise the next attempt reads both afresh.
   */
  private takeWinner(
    key: string,
    id: string,
    recoveredAt: string | null,
    winner: IncidentRecord | null,
  ): boolean {
    if (!winner || winner.incident.id !== id || !isOpen(winner)) return false;
    if (!key.startsWith(SERVICE_KEY) && !holds(winner, key)) return false;
    this.remember(key, { record: winner, recoveredAt });
    return this.cache.has(key);
  }

  /** The incident id a fingerprint's pointer leads to, or null. */
  private async pointerOf(fingerprint: string): Promise<string | null> {
    return (await this.options.store.getFingerprint(fingerprint)).record?.incident.id ?? null;
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
          // moving the pointer: repair the pointer, then reduce against it.
          await store.setCurrent(fingerprint, existing.incident.id, existing.incident.sequence);
          throw new StaleRecordError(`incident ${existing.incident.id}`, existing, {
            cause: error,
          });
        }
        if (!existing) throw error;
        this.logger.warn("incident id collision, salting", { id: candidate.incident.id });
      }
    }
    throw new Error(`no free incident id for ${fingerprint} after ${MAX_SALT} salts`);
  }
}

/** A copy in random order (Fisher-Yates). */
function shuffled<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

/** Full-jitter exponential backoff: spreads racing writers apart without a fixed rhythm. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(1000, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
