import { NotFoundError } from "../errors";
import type { IncidentStore } from "../ports";
import type { IncidentRecord } from "./model";

/** `incidents.retention` when no policy says otherwise (the config schema's default). */
export const DEFAULT_RETENTION_MS = 400 * 86_400_000;

/**
 * When a resolved incident expires: `resolvedAt` plus the retention, in epoch seconds (what
 * DynamoDB's TTL reads), rounded up so an item never expires before its retention has passed.
 * @returns null while the incident is open: open incidents never expire.
 *
 * @example
 * expiresAtSeconds(record, config.incidents.retention); // 1829347200
 */
export function expiresAtSeconds(record: IncidentRecord, retentionMs: number): number | null {
  const { status, resolvedAt } = record.incident;
  if (status !== "resolved" || resolvedAt === null) return null;
  return Math.ceil((Date.parse(resolvedAt) + retentionMs) / 1000);
}

/**
 * Whether an item carrying `expiresAt` (epoch seconds) is gone at `now` (ms). DynamoDB deletes
 * expired items lazily (days late, and the embedded one never), so every read asks this itself.
 */
export function isExpired(expiresAt: number | undefined | null, now: number): boolean {
  return typeof expiresAt === "number" && expiresAt * 1000 <= now;
}

/**
 * An incident by id for a report or a page that needs it, or a 404 that says why it is
 * missing: never there, or resolved and then expired under the retention policy.
 *
 * @example
 * const record = await loadIncident(store, id); // NotFoundError: "incident ABC1234 expired ..."
 */
export async function loadIncident(store: IncidentStore, id: string): Promise<IncidentRecord> {
  const record = await store.get(id);
  if (record) return record;
  const expiredAt = await store.expiredAt(id);
  if (expiredAt) {
    throw new NotFoundError(
      `incident ${id} expired at ${expiredAt} under the retention policy (incidents.retention)`,
    );
  }
  throw new NotFoundError(`no incident ${id}`);
}
