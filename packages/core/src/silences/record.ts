import { randomBytes } from "node:crypto";
import * as z from "zod";
import { StoredMatchSchema } from "../config/match-shape";
import type { MaintenanceWindow } from "../maintenance/record";

// Silences as stored and read back, and where they live: the silence store and every function
// that lists silences read these without loading the matcher (./silence.ts, which loads RE2).

const Timestamp = z.iso.datetime();

/**
 * A silence: signals it matches are recorded and counted, and nothing responds. `match` is read
 * as stored; new silences are made by {@link newSilence}, which refuses an empty
 * one.
 */
export const SilenceSchema = z.object({
  id: z.string(),
  match: StoredMatchSchema,
  /** The matcher as written: `alarmName=api-* source=cloudwatch`. */
  matcher: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: Timestamp,
  endsAt: Timestamp,
  /**
   * Set on a silence of one incident ("silence until resolved"): it holds that incident, its
   * alerts whatever they match, and nothing else; `match` is then empty.
   */
  incidentId: z.string().nullable().default(null),
});
export type Silence = z.infer<typeof SilenceSchema>;

/**
 * Where silences live; they expire on their own (`endsAt`), listed or not. Maintenance windows
 * made through the API live beside them: a window is a silence on a schedule.
 */
export interface SilenceStore {
  put(silence: Silence): Promise<void>;
  get(id: string): Promise<Silence | null>;
  /** Removes a silence; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Silences not yet ended at `now`. */
  listActive(now: number): Promise<Silence[]>;
  putWindow(window: MaintenanceWindow): Promise<void>;
  /** Removes a window made through the API; false when there was none. */
  deleteWindow(id: string): Promise<boolean>;
  /** Windows made through the API that may still hold something at `now`, oldest first. */
  listWindows(now: number): Promise<MaintenanceWindow[]>;
}

const SILENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const SilenceIdPattern = /^S[0-9A-HJKMNP-TV-Z]{5}$/;

/** `S` and five Crockford base32 characters: short enough to type in Slack. */
export function newSilenceId(): string {
  return `S${Array.from(randomBytes(5), (byte) => SILENCE_ALPHABET[byte & 31]).join("")}`;
}
