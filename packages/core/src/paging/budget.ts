import * as z from "zod";
import type { VersionedItems } from "../actions/guards";
import { VersionConflictError } from "../errors";
import { digest } from "../signals/fingerprint";

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** How long a budget window's items stay in the table after the window began. */
const WINDOW_KEPT_MS = 24 * HOUR;
/** How long a sweep holds a digest it is sending before another sweep may send it. */
const DIGEST_CLAIM_MS = 2 * MINUTE;
/** Folded incidents a digest names; more are only counted (a page stays readable). */
const MAX_LISTED = 2000;
/** Titles as kept for the digest's one line per incident. */
const MAX_TITLE = 80;
/**
 * Folded pages one minute item holds (about 3 to 6 KB with titles); more go to the minute's next
 * item. Each take rewrites one such item, so what a fold costs does not grow with the storm.
 */
const CHUNK_ENTRIES = 50;
/**
 * Minutes an hour's item counts: the latest three, so a late or skewed dispatcher's minute is
 * still counted.
 */
const KEPT_MINUTES = 3;
/** Budget items a keeper keeps its last copy of (a few channels' current minute and hour). */
const KEPT_ITEMS = 64;
/**
 * Characters of a page's mark: 48 bits of the ref's SHA-256, so an hour's thousand pages take
 * 8 KB. Two refs of one hour sharing a mark (odds of about 2 in a billion for an hour of a
 * thousand pages) make the second count as a retry of the first: it is sent, not counted.
 */
const MARK_LENGTH = 8;

const FoldedSchema = z.object({ ref: z.string(), incidentId: z.string(), title: z.string() });
export type FoldedPage = z.infer<typeof FoldedSchema>;

/**
 * A folded page as a minute item keeps it: `[ref, title]`, and the incident's id third when the
 * ref (`<incident>/<action>`) does not start with it.
 */
const EntrySchema = z.union([
  z.tuple([z.string(), z.string()]),
  z.tuple([z.string(), z.string(), z.string()]),
]);
type Entry = z.infer<typeof EntrySchema>;
const DigestStateSchema = z
  .union([
    z.object({ claim: z.object({ token: z.string(), until: z.iso.datetime() }) }),
    z.object({ sentAt: z.iso.datetime() }),
  ])
  .nullable();

/**
 * One of a channel's minute items, which together hold the pages it folded: the first (the
 * minute's key) also holds the digest's state; the nth after it is `<minute key>:<n>`, written
 * once the one before is full. What it sent is counted in the hour's item, which is all a minute
 * without folds writes. Items written before minutes were split (`folded` as objects, and
 * `unlisted`) read as one.
 */
const MinuteChunkSchema = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null || !("folded" in value)) return value;
    const legacy = value as { folded?: unknown; unlisted?: unknown; digest?: unknown };
    const folded = z.array(FoldedSchema).parse(legacy.folded);
    return {
      entries: folded.map((entry) => toEntry(entry)),
      unlisted: legacy.unlisted,
      digest: legacy.digest,
    };
  },
  z.object({
    entries: z.array(EntrySchema),
    /** Folded pages counted beyond those named (only items written before the split have any). */
    unlisted: z.number().int().nonnegative().default(0),
    digest: DigestStateSchema.default(null),
  }),
);
type MinuteChunk = z.infer<typeof MinuteChunkSchema>;

/**
 * One channel's hour: how many pages each of its latest minutes sent, and a mark of every page
 * it sent (the hour's count, and how a retry is known), those still claimed grouped by the take
 * that claimed them. Items written before marks (refs listed per minute) read as this.
 */
const HourFields = z.object({
  /** Marks of pages sent this hour and not (or no longer) claimed, one after another. */
  sent: z.string(),
  /** Pages sent, by the minute's start (ISO): the last `KEPT_MINUTES` minutes that sent any. */
  minutes: z.record(z.string(), z.number().int().nonnegative()),
  /**
   * Pages taken as a dispatcher's claim, until when: the take is the only write before the
   * page goes out, so whoever finds its mark here while the claim holds does not send it
   * again. A claim that lapsed moves to `sent` at the next write.
   */
  claimed: z.array(z.object({ until: z.iso.datetime(), marks: z.string() })),
});
const HourWindowSchema = z.preprocess(
  (value) => (isLegacyHour(value) ? fromLegacyHour(value) : value),
  HourFields,
);
type HourWindow = z.infer<typeof HourFields>;
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
const chunkKey = (minute: string, index: number) => (index === 0 ? minute : `${minute}:${index}`);
const hourKey = (channel: string, start: number) => `page-budget:${channel}:hour:${iso(start)}`;

/** Whether a minute's head owes a digest nobody has sent or holds a live claim on. */
function owesDigest(head: MinuteChunk, now: number): boolean {
  const digest = head.digest;
  const taken = digest !== null && ("sentAt" in digest || Date.parse(digest.claim.until) > now);
  return head.entries.length + head.unlisted > 0 && !taken;
}

/**
 * When the table's TTL may delete a window's items (epoch seconds): a day after the window
 * began, long after any take, digest or sweep reads it, and still there to look at the next day.
 */
const windowExpiry = (start: number) => Math.floor((start + WINDOW_KEPT_MS) / 1000);
const emptyChunk = (): MinuteChunk => ({ entries: [], unlisted: 0, digest: null });
const emptyHour = (): HourWindow => ({ sent: "", minutes: {}, claimed: [] });
const markOf = (ref: string) => digest("sha256", ref, "base64url").slice(0, MARK_LENGTH);
/** The marks of a string of marks written one after another. */
function marksIn(marks: string): string[] {
  const found: string[] = [];
  for (let at = 0; at < marks.length; at += MARK_LENGTH)
    found.push(marks.slice(at, at + MARK_LENGTH));
  return found;
}
/** The incident of a ref (`<incident>/<action>`). */
const incidentOfRef = (ref: string) => ref.slice(0, Math.max(0, ref.indexOf("/")));
function toEntry({ ref, incidentId, title }: FoldedPage): Entry {
  const short = title.slice(0, MAX_TITLE);
  return incidentOfRef(ref) === incidentId ? [ref, short] : [ref, short, incidentId];
}
const fromEntry = ([ref, title, incidentId]: Entry): FoldedPage => ({
  ref,
  incidentId: incidentId ?? incidentOfRef(ref),
  title,
});

/**
 * The page budget on any versioned item store (the table in AWS and locally): one item per
 * channel and hour, and per minute one or more items of the pages it folded, each changed with a
 * compare-and-set, so concurrent dispatchers (several Lambda instances) cannot both take the
 * last page. Every take rewrites its items whole, and DynamoDB bills a write per kilobyte: the
 * hour keeps 8 characters per page it sent (a thousand pages, 8 KB), a minute's item at most 50
 * folded pages, so a storm's thousandth page costs what its first did.
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
  /** The item each minute's folds go to next, by the minute's key (a few minutes only). */
  private readonly chunks = new Map<string, number>();

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
   * second write, of the minute's current item, only for pages folded into its digest.
   */
  private async takeAll(requests: ReadonlyArray<PageRequest>): Promise<PageBudgetDecision[]> {
    const first = requests[0] as PageRequest;
    const { channel, now } = first;
    const minuteStart = Math.floor(now / MINUTE) * MINUTE;
    const minute = iso(minuteStart);
    const digestAfter = iso(minuteStart + MINUTE);

    let outcomes: Outcome[] = [];
    const hourStart = Math.floor(now / HOUR) * HOUR;
    const hourItem = { key: hourKey(channel, hourStart), expiresAt: windowExpiry(hourStart) };
    await this.update(hourItem, HourWindowSchema, emptyHour, (stored) => {
      const sent = new Set(marksIn(stored.sent));
      const claims = new Map<string, string>();
      for (const { until, marks } of stored.claimed) {
        for (const mark of marksIn(marks)) claims.set(mark, until);
      }
      let hourCount = sent.size + claims.size;
      let minuteCount = stored.minutes[minute] ?? 0;
      const taken: string[] = [];
      let takenUntil: number | undefined;
      outcomes = requests.map((request): Outcome => {
        const { limits, claimUntil } = request;
        const mark = markOf(request.ref);
        const claim = claims.get(mark);
        const live = claim !== undefined && Date.parse(claim) > now;
        // Taken before (this hour, claimed or not): not the caller's to claim.
        if (claimUntil !== undefined && (claim !== undefined || sent.has(mark))) {
          return { held: live ? (claim as string) : iso(now) };
        }
        if (live) return { held: claim as string };
        if (sent.has(mark) || claim !== undefined) return "paged";
        // A folded page is not marked here: its budget stays spent, so a retry folds it again
        // (and folding is idempotent), never pages it.
        if (minuteCount >= limits.perMinute) return "minute";
        if (hourCount >= limits.perHour) return "hour";
        hourCount += 1;
        minuteCount += 1;
        if (claimUntil === undefined) sent.add(mark);
        else {
          // One claim for the take's pages: each holds until the latest of theirs.
          claims.set(mark, iso(claimUntil));
          taken.push(mark);
          takenUntil = Math.max(takenUntil ?? claimUntil, claimUntil);
        }
        return "paged";
      });
      if (minuteCount === (stored.minutes[minute] ?? 0)) return null;
      // Claims hold only while they hold: a lapsed one is a page sent, no more.
      const claimed = stored.claimed.filter(({ until, marks }) => {
        if (Date.parse(until) > now) return true;
        for (const mark of marksIn(marks)) sent.add(mark);
        return false;
      });
      if (taken.length > 0) {
        claimed.push({ until: iso(takenUntil as number), marks: taken.join("") });
      }
      const minutes = Object.fromEntries(
        Object.entries({ ...stored.minutes, [minute]: minuteCount })
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .slice(-KEPT_MINUTES),
      );
      return { sent: [...sent].join(""), minutes, claimed };
    });

    const folds = requests.filter(
      (_, index) => outcomes[index] === "minute" || outcomes[index] === "hour",
    );
    if (folds.length > 0) await this.fold(channel, minuteStart, folds);
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

  /**
   * Adds folded pages to the minute's current item (one not yet full), and to the next ones when
   * it fills. A page already in the item is not added again; one retried into a later item is
   * counted once by the digest, which reads them all.
   */
  private async fold(
    channel: string,
    minuteStart: number,
    requests: ReadonlyArray<PageRequest>,
  ): Promise<void> {
    const minute = minuteKey(channel, minuteStart);
    const expiresAt = windowExpiry(minuteStart);
    let index = this.chunks.get(minute) ?? (await this.lastChunk(minute));
    let remaining = requests.map(toEntry);
    while (remaining.length > 0) {
      let rest: Entry[] = [];
      const chunkItem = { key: chunkKey(minute, index), expiresAt };
      await this.update(chunkItem, MinuteChunkSchema, emptyChunk, (chunk) => {
        const present = new Set(chunk.entries.map(([ref]) => ref));
        const added = remaining.filter(([ref]) => !present.has(ref) && present.add(ref));
        const room = Math.max(0, CHUNK_ENTRIES - chunk.entries.length);
        rest = added.slice(room);
        if (room === 0 || added.length === 0) return null;
        return { ...chunk, entries: [...chunk.entries, ...added.slice(0, room)] };
      });
      remaining = rest;
      if (remaining.length > 0) index += 1;
    }
    this.chunks.delete(minute);
    this.chunks.set(minute, index);
    if (this.chunks.size > KEPT_ITEMS)
      this.chunks.delete(this.chunks.keys().next().value as string);
  }

  /**
   * The index of a minute's last item (0 when it has none): items are written in order, so the
   * first missing one is found by doubling, then halving.
   */
  private async lastChunk(minute: string): Promise<number> {
    const exists = async (index: number) => {
      const stored =
        this.known.get(chunkKey(minute, index)) ?? (await this.items.get(chunkKey(minute, index)));
      return stored !== null;
    };
    let present = 0;
    let absent = 1;
    while (await exists(absent)) {
      present = absent;
      absent *= 2;
    }
    while (absent - present > 1) {
      const middle = Math.floor((present + absent) / 2);
      if (await exists(middle)) present = middle;
      else absent = middle;
    }
    return present;
  }

  /** Every item of a minute, in order. */
  private async minuteChunks(minute: string, head: MinuteChunk): Promise<MinuteChunk[]> {
    const chunks = [head];
    for (let index = 1; ; index++) {
      const stored = await this.items.get(chunkKey(minute, index));
      if (!stored) return chunks;
      chunks.push(MinuteChunkSchema.parse(stored.value));
    }
  }

  async claimDigests(channel: string, now: number, lookbackMinutes: number): Promise<Digest[]> {
    const current = Math.floor(now / MINUTE) * MINUTE;
    const backs = Array.from({ length: lookbackMinutes }, (_, index) => lookbackMinutes - index);
    const starts = backs.map((back) => current - back * MINUTE);
    // Each minute is its own item. A sweep asks for every channel's, every minute, and most owe
    // nothing: the lookback's heads are read in one round trip, and only a minute that owes a
    // digest is claimed (read again and written with its version, as before).
    const heads = await this.readMany(starts.map((start) => minuteKey(channel, start)));
    const claims = starts.map(async (start): Promise<Digest | null> => {
      const minute = minuteKey(channel, start);
      const head = heads.get(minute);
      if (!head || !owesDigest(MinuteChunkSchema.parse(head.value), now)) return null;
      const token = `${iso(now)}/${Math.random().toString(36).slice(2)}`;
      let claimed: MinuteChunk | null = null;
      const item = { key: minute, expiresAt: windowExpiry(start) };
      await this.update(item, MinuteChunkSchema, null, (head) => {
        claimed = null;
        if (!owesDigest(head, now)) return null;
        claimed = head;
        return { ...head, digest: { claim: { token, until: iso(now + DIGEST_CLAIM_MS) } } };
      });
      const won = claimed as MinuteChunk | null;
      if (!won) return null;
      const seen = new Set<string>();
      const folded: FoldedPage[] = [];
      let unlisted = 0;
      for (const chunk of await this.minuteChunks(minute, won)) {
        unlisted += chunk.unlisted;
        for (const entry of chunk.entries) {
          if (seen.has(entry[0])) continue;
          seen.add(entry[0]);
          if (folded.length < MAX_LISTED) folded.push(fromEntry(entry));
          else unlisted += 1;
        }
      }
      return { channel, window: iso(start), folded, unlisted, token };
    });
    return (await Promise.all(claims)).filter((digest): digest is Digest => digest !== null);
  }

  async markSent(digest: Digest, now: number): Promise<void> {
    const start = Date.parse(digest.window);
    const key = { key: minuteKey(digest.channel, start), expiresAt: windowExpiry(start) };
    await this.update(key, MinuteChunkSchema, null, (head) => {
      const mine = head.digest && "claim" in head.digest && head.digest.claim.token;
      return mine === digest.token ? { ...head, digest: { sentAt: iso(now) } } : null;
    });
  }

  /**
   * Reads an item (or starts from the copy this keeper last wrote), lets `change` decide (null:
   * leave it), writes it back with a version check; retries races. `empty` is what a missing
   * item reads as (null: leave a missing item alone). A change that does nothing is only
   * trusted on a fresh read: a kept copy may miss another writer's change.
   */
  private async update<T>(
    { key, expiresAt }: { key: string; expiresAt: number },
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
        await this.items.put(key, next, version, expiresAt);
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

  /** Items by key in one round trip where the store can (`getMany`), else side by side. */
  private async readMany(
    keys: ReadonlyArray<string>,
  ): Promise<Map<string, { value: unknown; version: number }>> {
    if (this.items.getMany) return this.items.getMany(keys);
    const found = new Map<string, { value: unknown; version: number }>();
    await Promise.all(
      keys.map(async (key) => {
        const item = await this.items.get(key);
        if (item) found.set(key, item);
      }),
    );
    return found;
  }

  private keep(key: string, item: { value: unknown; version: number }): void {
    this.known.delete(key);
    this.known.set(key, item);
    if (this.known.size > KEPT_ITEMS) this.known.delete(this.known.keys().next().value as string);
  }
}

interface LegacyHour {
  sent: string[];
  minutes?: Record<string, { sent: string[]; claims: Record<string, string> }>;
}

function isLegacyHour(value: unknown): value is LegacyHour {
  return typeof value === "object" && value !== null && Array.isArray((value as LegacyHour).sent);
}

/** An hour's item as written before marks (every ref listed, per minute too), read as marks. */
function fromLegacyHour({ sent, minutes = {} }: LegacyHour): HourWindow {
  const claims = new Map<string, string>();
  for (const kept of Object.values(minutes)) {
    for (const [ref, until] of Object.entries(kept.claims)) claims.set(markOf(ref), until);
  }
  const marks = new Set(sent.map(markOf));
  for (const mark of claims.keys()) marks.delete(mark);
  return {
    sent: [...marks].join(""),
    minutes: Object.fromEntries(
      Object.entries(minutes).map(([minute, kept]) => [minute, kept.sent.length]),
    ),
    claimed: [...claims].map(([mark, until]) => ({ until, marks: mark })),
  };
}

interface Waiting {
  request: PageRequest;
  resolve: (decision: PageBudgetDecision) => void;
  reject: (error: unknown) => void;
}
