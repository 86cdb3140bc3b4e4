import { type MatchInput, MatchSchema } from "../config/match";
import type { Match } from "../config/match-shape";
import { InvalidInputError } from "../errors";
import type { Incident } from "../incidents/model";
import { compileMatch, type SignalMatcher } from "../policy/match";
import { checkedMatch, matcherPairs, NAMES_SOMETHING } from "./matcher";
import { newSilenceId, type Silence, type SilenceStore } from "./record";

/**
 * What a new silence matches: a rule's `match` with at least one key. Absent keys match
 * anything, so an empty matcher would silence every signal of every source.
 */
export const SilenceMatchSchema = MatchSchema.refine(...NAMES_SOMETHING);

/**
 * Reads a matcher as people type it: `key=value` pairs separated by spaces, the keys of a rule's
 * `match` (`alarmName=api-*`, `source=logs logGroup=/aws/lambda/checkout`, `level=error,fatal`),
 * its `message` pattern compiled.
 * @throws InvalidInputError naming the bad pair, key or pattern
 */
export function parseMatcher(text: string): Match {
  return checkedMatch(SilenceMatchSchema, matcherPairs(text));
}

/** What someone asks for when they silence: {@link newSilence} checks it and dates it. */
export interface SilenceRequest {
  match: MatchInput;
  /** The matcher as typed, when it was typed (`alarmName=api-* source=cloudwatch`). */
  matcher: string;
  reason: string | null;
  createdBy: string;
  /** Milliseconds from `now`. */
  duration: number;
  now: number;
}

/**
 * A new silence, from the API or Slack: the one place a silence's matcher is checked, so neither
 * can store one that matches everything.
 *
 * @throws InvalidInputError naming what is wrong with the matcher
 * @example
 * newSilence({ match: { alarmName: "api-*" }, matcher: "alarmName=api-*", reason: null,
 *   createdBy: "slack:U012AB3CD", duration: 3_600_000, now: Date.now() });
 */
export function newSilence(request: SilenceRequest): Silence {
  return {
    id: newSilenceId(),
    match: checkedMatch(SilenceMatchSchema, request.match),
    matcher: request.matcher,
    reason: request.reason,
    createdBy: request.createdBy,
    createdAt: new Date(request.now).toISOString(),
    endsAt: new Date(request.now + request.duration).toISOString(),
    incidentId: null,
  };
}

/**
 * How long "until resolved" lasts at most: a silence forgotten on an incident that never
 * resolves pages again after this, rather than never.
 */
export const UNTIL_RESOLVED_MAX_MS = 30 * 86_400_000;

/**
 * A silence of one open incident: every alert of it is recorded, nothing pages or acts, until it
 * resolves (or `duration` passes; "until resolved" is {@link UNTIL_RESOLVED_MAX_MS}). A later
 * incident of the same alerts is a new incident, and is not silenced.
 *
 * @throws InvalidInputError when the incident is already resolved
 */
export function newIncidentSilence(request: {
  incident: Pick<Incident, "id" | "status">;
  reason: string | null;
  createdBy: string;
  duration: number | "until-resolved";
  now: number;
}): Silence {
  const { incident, now } = request;
  if (incident.status === "resolved")
    throw new InvalidInputError(`incident ${incident.id} is resolved: nothing to silence`);
  const duration = request.duration === "until-resolved" ? UNTIL_RESOLVED_MAX_MS : request.duration;
  return {
    id: newSilenceId(),
    match: {},
    matcher: `incident=${incident.id}${request.duration === "until-resolved" ? " until resolved" : ""}`,
    reason: request.reason,
    createdBy: request.createdBy,
    createdAt: new Date(now).toISOString(),
    endsAt: new Date(now + duration).toISOString(),
    incidentId: incident.id,
  };
}

// Compiled once per silence read: the cached silences are asked about every incident of a batch.
const compiled = new WeakMap<Match, SignalMatcher>();
function matcherOf(silence: Silence): SignalMatcher {
  let matcher = compiled.get(silence.match);
  if (!matcher) {
    matcher = compileMatch(silence.match);
    compiled.set(silence.match, matcher);
  }
  return matcher;
}

/** The silence holding an incident at `now`, if any (the one ending last). */
export function silenceFor(
  incident: Incident,
  silences: ReadonlyArray<Silence>,
  now: number,
): Silence | undefined {
  const signal = {
    source: incident.source,
    kind: "trigger" as const,
    deliveryId: incident.id,
    fingerprint: incident.fingerprint,
    title: incident.title,
    at: incident.lastSeenAt,
    attributes: incident.attributes,
    link: incident.link,
    detail: incident.detail,
  };
  return silences
    .filter(
      (silence) =>
        Date.parse(silence.endsAt) > now &&
        (silence.incidentId === null
          ? matcherOf(silence)(signal)
          : silence.incidentId === incident.id),
    )
    .sort((a, b) => b.endsAt.localeCompare(a.endsAt))[0];
}

/**
 * Active silences, read at most every `maxAgeMs` (the processor asks for every batch; a storm
 * must not turn into one silence query per batch).
 */
export class SilenceCache {
  /** The read in flight or done: concurrent incidents of a batch share one query. */
  private cached: { at: number; silences: Promise<Silence[]> } | null = null;

  constructor(
    private readonly store: SilenceStore,
    private readonly maxAgeMs = 5_000,
  ) {}

  async active(now: number): Promise<Silence[]> {
    if (!this.cached || now - this.cached.at > this.maxAgeMs || now < this.cached.at) {
      const read = { at: now, silences: this.store.listActive(now) };
      this.cached = read;
      // A failed read is not kept: the next caller reads again.
      read.silences.catch(() => {
        if (this.cached === read) this.cached = null;
      });
    }
    return (await this.cached.silences).filter((silence) => Date.parse(silence.endsAt) > now);
  }

  /** Forget what was read: the next `active` reads again (after a change through this process). */
  invalidate(): void {
    this.cached = null;
  }
}
