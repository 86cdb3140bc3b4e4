import { InvalidInputError } from "../errors";
import type { Change } from "./model";

/**
 * How a change is stored once. `key` names what a repeat would be (the event's deploy, the
 * hash of a POSTed body); a second `record` with the same key returns the first change and
 * stores nothing, unless the first was recorded as reusable and that time has passed (a pipeline
 * that POSTs the very same body an hour later, without `at`, deployed again).
 */
export interface ChangeDedupe {
  key: string;
  /** Epoch ms after which the key may record a new change; null: never. */
  reusableAfter: number | null;
}

export interface ChangeQuery {
  /** The services to read (one partition each); their changes are merged newest first. */
  services: ReadonlyArray<string>;
  /** ISO time: changes at or after it. */
  since?: string;
  /** ISO time: changes at or before it. */
  until?: string;
  limit: number;
  /** `nextCursor` of the page before. */
  cursor?: string;
}

export interface ChangePage {
  items: Change[];
  nextCursor: string | null;
}

export interface RecordedChange {
  /** The stored change: this one, or the one recorded first under the same key. */
  change: Change;
  created: boolean;
}

/**
 * Where changes live (in DynamoDB: one partition per service, sorted by time, beside a claim
 * item per dedupe key). Changes expire with the incidents' retention after their `at`.
 */
export interface ChangeStore {
  /**
   * Stores a change once per `dedupe.key` (a conditional write on the key, then the listing
   * item): a redelivered event or a repeated POST stores nothing and returns the first change.
   * A write interrupted between the two is completed by the next `record` of the same key.
   */
  record(change: Change, dedupe: ChangeDedupe): Promise<RecordedChange>;
  /** Changes of the services, newest first (ties: higher id first), `limit` at a time. */
  list(query: ChangeQuery): Promise<ChangePage>;
}

/** The sort key of a change: ISO times sort as strings, the id breaks ties. */
export const changeSortKey = (change: Pick<Change, "at" | "id">) => `${change.at}#${change.id}`;

/** A page position as the API hands it out: the sort key of the last change returned. */
export const encodeChangeCursor = (sortKey: string) => Buffer.from(sortKey).toString("base64url");

/**
 * @throws InvalidInputError for a cursor this API did not hand out
 */
export function decodeChangeCursor(cursor: string): string {
  const sortKey = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#.{1,128}$/s.test(sortKey)) {
    throw new InvalidInputError("cursor is not valid: pass nextCursor as it came");
  }
  return sortKey;
}

/** When a change's items expire: its time plus the retention, in epoch seconds (DynamoDB TTL). */
export const changeExpiresAt = (change: Pick<Change, "at">, retentionMs: number) =>
  Math.ceil((Date.parse(change.at) + retentionMs) / 1000);

/**
 * The last change to a service at or before a time, as `last-change` rollbacks read it.
 *
 * @example
 * lastChangeForPlanning(lastChangeLookup(changes), record.incident, events, config, now);
 */
export const lastChangeLookup = (store: ChangeStore) => ({
  async lastChange(service: string, before: string): Promise<Change | null> {
    const { items } = await store.list({ services: [service], until: before, limit: 1 });
    return items[0] ?? null;
  },
});
