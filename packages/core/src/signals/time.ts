/**
 * Canonical ISO 8601 in UTC (`2024-11-05T14:03:40.536Z`) from the spellings providers send:
 * CloudWatch's `+0000`, Sentry's microseconds, plain `Z`. Canonical times sort as strings.
 */
export function canonicalTime(text: string): string {
  const withColon = text.trim().replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const time = Date.parse(withColon);
  if (Number.isNaN(time)) throw new RangeError(`not a timestamp: ${text}`);
  return new Date(time).toISOString();
}
