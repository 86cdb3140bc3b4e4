import { createHash } from "node:crypto";
import { digest } from "../signals/fingerprint";

// Crockford's base32: no I, L, O or U, so an id read aloud or typed in Slack survives.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const INCIDENT_ID_LENGTH = 7;
export const IncidentIdPattern = /^[0-9A-HJKMNP-TV-Z]{7}$/;

/**
 * The id of the nth incident of a fingerprint: 7 characters (35 bits), derived, not random, so
 * a retried delivery computes the same id and its create is recognised as a repeat.
 * `salt` moves to another id in the rare case two fingerprints collide.
 */
export function incidentId(fingerprint: string, sequence: number, salt = 0): string {
  const bytes = createHash("sha256").update(`${fingerprint}\n${sequence}\n${salt}`).digest();
  let id = "";
  let bits = 0;
  let buffer = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && id.length < INCIDENT_ID_LENGTH) {
      bits -= 5;
      id += ALPHABET[(buffer >> bits) & 31];
    }
    if (id.length === INCIDENT_ID_LENGTH) break;
    buffer &= (1 << bits) - 1;
  }
  return id;
}

/**
 * Reads an id as people type it: any case, with the look-alikes Crockford maps (O->0, I/L->1).
 * @returns the canonical id, or undefined when it cannot be one.
 */
export function parseIncidentId(text: string): string | undefined {
  const id = text.trim().toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  return IncidentIdPattern.test(id) ? id : undefined;
}

/** How long a delivery mark is: 12 base64url characters, 72 bits of a SHA-256. */
export const DELIVERY_MARK_LENGTH = 12;

/** A short, fixed-size digest of a delivery id, so remembering thousands stays small. */
export const deliveryMark = (deliveryId: string): string =>
  digest("sha256", deliveryId, "base64url").slice(0, DELIVERY_MARK_LENGTH);
