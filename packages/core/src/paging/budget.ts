import * as z from "zod";
import type { VersionedItems } from "../actions/guards";
import { VersionConflictError } from "../errors";

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** How long a sweep holds a digest it is sending before another sweep may send it. */
const DIGEST_CLAIM_MS = 2 * MINUTE;
/** Folded incidents named in one window's item; more are only counted (items stay small). */
const MAX_LISTED = 2000;
/** Titles as kept in the window's item, for the digest's one line per incident. */
const MAX_TITLE = 80;
/**
 * Minutes an hour's item counts and holds claims for: the latest three, so a claim (two minutes)
 * stays visible while it holds, and a late or skewed dispatcher's minute is still counted.
 */
const KEPT_MINUTES = 3;
/** Budget items a keeper keeps its last copy of (a few channels' current minute and hour). */
const KEPT_ITEMS = 64;

const FoldedSchema = z.object({ ref: z.string(), incidentId: z.string(), title: z.string() });
export type FoldedPage = z.infer<typeof FoldedSchema>;

/**
 * One channel's minute as its digest needs it: the pages it folded, and the digest's state
 * (what it sent is counted in the hour's item, which is all a minute without folds writes).
 */
const MinuteWindowSchema = z.object({
  folded: z.array(FoldedSchema),
  /** Folded pages beyond `MAX_LISTED`: counted in the digest, not named. */
  unlisted: z.number().int().nonnegative(),
  digest: z
    .union([
      z.object({ claim: z.object({ token: z.string(), until: z.iso.datetime() }) }),
      z.object({ sentAt: z.iso.datetime() }),
    ])
    .nullable(),
});
type MinuteWindow = z.infer<typeof MinuteWindowSchema>;
/** One channel's hour: the pages it sent, and those of its latest minutes with their claims. */
const HourWindowSchema = z.object({
  sent: z.array(z.string()),
  /** By the minute's start (ISO), the last `KEPT_MINUTES` minutes that sent pages. */
  minutes: z
    .record(
      z.string(),
      z.object({
        sent: z.array(z.string()),
        /**
         * Pages taken as a dispatcher's claim (ref: until when): the take is the only write
         * before the page goes out, so whoever finds the ref here while it holds does not
         * send it again.
         */
        claims: z.record(z.string(), z.iso.datetime()),
      }),
    )
    .default({}),
});
type HourWindow = z.infer<typeof HourWindowSchema>;
/** How a page's take came out: sent, folded for the minute's or the hour's budget, or held. */
type Outcome = "paged" | "minute" | "hour" | { held: string };

export interface PageBudgetLimits {
  perMinute: number;
  perHour: number;
}

export interface PageRequest {
  channel: string;
  /** `<incident>/<action>`: a retry of the same page counts once. */
  ref: string;
  incidentId: string;
  title: string;
  now: number;
  limits: PageBudgetLimits;
  /**
   * Take the page as the dispatcher's claim on it, held until then: a page the budget already
   * counts this hour (or holds a claim on) is then not this caller's to send, and comes back
   * `held` (until a time past if nobody's claim holds: the caller must claim it another way).
   * Without it, a retry of a page counts once, unless a live claim holds it.
   */
  claimUntil?: number;
}

/**
 * `paged`: send it; `held`: another dispatcher's claim holds it until `until` (do not send it);
 * otherwise it was folded into the minute's digest, for `reason`.
 */
export type PageBudgetDecision =
  | { paged: true }
  | { paged: false; reason: string; digestAfter: string }
  | { paged: false; held: true; until: string };

/** A closed minute's folded pages, claimed by one sender until it marks them sent. */
export interface Digest {
  channel: string;
  /** The minute's start (ISO). */
  window: string;
  folded: FoldedPage[];
  unlisted: number;
  token: string;
}

/** Counts pages per channel, across every dispatcher, and keeps what it folded for a digest. */
export interface PageBudgetStore {
  take(request: PageRequest): Promise<PageBudgetDecision>;
  /**
   * Claims the digests of a channel's minutes that closed within `lookbackMinutes` and still
   * owe one; each is returned to one caller only (until its claim lapses).
   */
  claimDigests(channel: string, now: number, lookbackMinutes: number): Promise<Digest[]>;
  /** Records a claimed digest as sent, so no one sends it again. */
  markSent(digest: Digest, now: number): Promise<void>;
}

const iso = (time: number) => new Date(time).toISOString();
const minuteKey = (channel: string, start: number) => `page-budget:${channel}:minute:${iso(start)}`;
const hourKey = (channel: string, start: number) => `page-budget:${channel}:hour:${iso(start)}`;
const emptyMinute = (): MinuteWindow => ({ folded: [], unlisted: 0, digest: null });
const emptyHour = (): HourWindow => ({ sent: [], minutes: {} });

/**
 * The page budget on any versioned item store (the table in AWS and locally): one item per
 * channel and minute and one per channel and hour, each changed with a compare-and-set, so
 * concurrent dispatchers (several Lambda instances) cannot both take the last page.
 *
 * @example
 * const budget = new PageBudgetKeeper(new DynamoDbVersionedItems(client, tableName));
 * await budget.take({ channel: "oncall", ref: "K7Q2XPD/a2", incidentId: "K7Q2XPD",
 *   title: "api-5xx", now: Date.now(), limits: { perMinute: 20, perHour: 200 } });
 */
export class PageBudgetKeeper implements PageBudgetStore {
  /**
   * Items as this keeper last wrote or read them: a write's success proves what is stored, so
   * the next change starts from it without a read (another writer's change fails the version
   * check, and the item is then read). Only a few windows are ever current.
   */
  private readonly known = new Map<string, { value: unknown; version: number }>();
  /** Pages waiting for their window's next read-modify-write, by channel and window. */
  private readonly waiting = new Map<string, Array<Waiting>>();
  private readonly running = new Set<string>();

  constructor(private readonly items: VersionedItems) {}

  /**
   * Pages taken while another take of the same channel and minute is being written join the
   * next write: a storm's concurrent pages cost one write per item and round, not one each.
   */
  take(request: PageRequest): Promise<PageBudgetDecision> {
    const round = `${request.channel}\n${Math.floor(request.now / MINUTE)}`;
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(round);
      if (queue) queue.push({ request, resolve, reject });
      else this.waiting.set(round, [{ request, resolve, reject }]);
      if (!this.running.has(round)) {
        this.running.add(round);
        // Pages of one stream batch arrive within a turn of the event loop: let them gather.
        setImmediate(() => void this.drain(round));
      }
    });
  }

  private async drain(round: string): Promise<void> {
    try {
      for (let queue = this.waiting.get(round); queue; queue = this.waiting.get(round)) {
        this.waiting.delete(round);
        try {
          const decisions = await this.takeAll(queue.map((entry) => entry.request));
          for (const [index, entry] of queue.entries()) {
            entry.resolve(decisions[index] as PageBudgetDecision);
          }
        } catch (error) {
          for (const entry of queue) entry.reject(error);
        }
      }
    } finally {
      this.running.delete(round);
    }
  }

  /**
   * Decides pages of one channel and minute in order, as if taken one after another: one write
   * of the hour's item, which counts the hour and its latest minutes and holds the claims; a
   * second write, of the minute's item, only for pages folded into its digest.
   */
  private async takeAll(requests: ReadonlyArray<PageRequest>): Promise<PageBudgetDecision[]> {
    const first = requests[0] as PageRequest;
    const { channel, now } = first;
    const minuteStart = Math.floor(now / MINUTE) * MINUTE;
    const minute = iso(minuteStart);
    const digestAfter = iso(minuteStart + MINUTE);
    const fold = (window: MinuteWindow, request: PageRequest): MinuteWindow => {
      const { ref } = request;
      if (window.folded.some((entry) => entry.ref === ref)) return window;
      if (window.folded.length >= MAX_LISTED) return { ...window, unlisted: window.unlisted + 1 };
      const title = request.title.slice(0, MAX_TITLE);
      return {
        ...window,
        folded: [...window.folded, { ref, incidentId: request.incidentId, title }],
      };
    };

    let outcomes: Outcome[] = [];
    const hourStart = Math.floor(now / HOUR) * HOUR;
    await this.update(hourKey(channel, hourStart), HourWindowSchema, emptyHour, (stored) => {
      let sent = stored.sent;
      const before = stored.minutes[minute] ?? { sent: [], claims: {} };
      let counts = before;
      const claimOf = (ref: string) =>
        Object.values(stored.minutes).find((kept) => kept.claims[ref] !== undefined)?.claims[ref];
      outcomes = requests.map((request): Outcome => {
        const { ref, limits, claimUntil } = request;
        const claim = counts.claims[ref] ?? claimOf(ref);
        const live = claim !== undefined && Date.parse(claim) > now;
        // Taken before this minute (or this hour, without a claim): not the caller's to claim.
        if (claimUntil !== undefined && (claim !== undefined || sent.includes(ref))) {
          return { held: live ? (claim as string) : iso(now) };
        }
        if (live) return { held: claim as string };
        if (sent.includes(ref)) return "paged";
        // A folded page is not listed here: its budget stays spent, so a retry folds it again
        // (and folding is idempotent), never pages it.
        if (counts.sent.length >= limits.perMinute) return "minute";
        if (sent.length >= limits.perHour) return "hour";
        sent = [...sent, ref];
        counts = {
          sent: [...counts.sent, ref],
          claims:
            claimUntil === undefined ? counts.claims : { ...counts.claims, [ref]: iso(claimUntil) },
        };
        return "paged";
      });
      if (counts === before) return null;
      const minutes = Object.fromEntries(
        Object.entries({ ...stored.minutes, [minute]: counts })
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .slice(-KEPT_MINUTES),
      );
      return { sent, minutes };
    });

    const folds = requests.filter(
      (_, index) => outcomes[index] === "minute" || outcomes[index] === "hour",
    );
    if (folds.length > 0) {
      await this.update(
        minuteKey(channel, minuteStart),
        MinuteWindowSchema,
        emptyMinute,
        (window) => {
          const next = folds.reduce(fold, window);
          return next === window ? null : next;
        },
      );
    }
    return requests.map(({ limits }, index): PageBudgetDecision => {
      const outcome = outcomes[index] as Outcome;
      if (outcome === "paged") return { paged: true };
      if (outcome === "minute") {
        const reason = `page budget for ${channel} spent: ${limits.perMinute} pages this minute`;
        return { paged: false, reason, digestAfter };
      }
      if (outcome === "hour") {
        const reason = `page budget for ${channel} spent: ${limits.perHour} pages this hour`;
        return { paged: false, reason, digestAfter };
      }
      return { paged: false, held: true, until: outcome.held };
    });
  }

  async claimDigests(channel: string, now: number, lookbackMinutes: number): Promise<Digest[]> {
    const current = Math.floor(now / MINUTE) * MINUTE;
    const digests: Digest[] = [];
    for (let back = lookbackMinutes; back >= 1; back--) {
      const start = current - back * MINUTE;
      const key = minuteKey(channel, start);
      const token = `${iso(now)}/${Math.random().toString(36).slice(2)}`;
      let claimed: MinuteWindow | null = null;
      await this.update(key, MinuteWindowSchema, null, (window) => {
        claimed = null;
        const owes = window.folded.length + window.unlisted > 0;
        const digest = window.digest;
        const taken =
          digest !== null && ("sentAt" in digest || Date.parse(digest.claim.until) > now);
        if (!owes || taken) return null;
        claimed = window;
        return { ...window, digest: { claim: { token, until: iso(now + DIGEST_CLAIM_MS) } } };
      });
      const won = claimed as MinuteWindow | null;
      if (won) {
        digests.push({
          channel,
          window: iso(start),
          folded: won.folded,
          unlisted: won.unlisted,
          token,
        });
      }
    }
    return digests;
  }

  async markSent(digest: Digest, now: number): Promise<void> {
    const key = minuteKey(digest.channel, Date.parse(digest.window));
    await this.update(key, MinuteWindowSchema, null, (window) => {
      const mine = window.digest && "claim" in window.digest && window.digest.claim.token;
      return mine === digest.token ? { ...window, digest: { sentAt: iso(now) } } : null;
    });
  }

  /**
   * Reads an item (or starts from the copy this keeper last wrote), lets `change` decide (null:
   * leave it), writes it back with a version check; retries races. `empty` is what a missing
   * item reads as (null: leave a missing item alone). A change that does nothing is only
   * trusted on a fresh read: a kept copy may miss another writer's change.
   */
  private async update<T>(
    key: string,
    schema: z.ZodType<T>,
    empty: (() => T) | null,
    change: (value: T) => T | null,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const kept = this.known.get(key);
      const stored = kept ?? (await this.items.get(key));
      if (!stored && !empty) return;
      const value = stored ? schema.parse(stored.value) : (empty as () => T)();
      const next = change(value);
      if (next === null) {
        if (!kept) return;
        this.known.delete(key);
        continue;
      }
      const version = (stored?.version ?? 0) + 1;
      try {
        await this.items.put(key, next, version);
        this.keep(key, { value: next, version });
        return;
      } catch (error) {
        this.known.delete(key);
        // A flood puts every dispatcher on one item: retry longer than the guards do.
        if (!(error instanceof VersionConflictError) || attempt >= 200) throw error;
        // A stale copy is not a race: read at once.
        if (kept) continue;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.random() * 5 * Math.min(attempt + 1, 20)),
        );
      }
    }
  }

  private keep(key: string, item: { value: unknown; version: number }): void {
    this.known.delete(key);
    this.known.set(key, item);
    if (this.known.size > KEPT_ITEMS) this.known.delete(this.known.keys().next().value as string);
  }
}

interface Waiting {
  request: PageRequest;
  resolve: (decision: PageBudgetDecision) => void;
  reject: (error: unknown) => void;
}
