/**
 * The signal as it is ordered: its own time when that lies within the trusted window around its
 * arrival (`arrivedAt`, ms), else its arrival, with the time it reported kept as `reportedAt`.
 */
export function orderedByArrival<T extends { at: string; reportedAt?: string }>(
  signal: T,
  arrivedAt: number,
  window: { past: number; future: number },
): T {
  const at = Date.parse(signal.at);
  if (at >= arrivedAt - window.past && at <= arrivedAt + window.future) return signal;
  return { ...signal, at: new Date(arrivedAt).toISOString(), reportedAt: signal.at };
}

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
