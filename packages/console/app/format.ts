/** Short human durations and times: what an on-call engineer reads at a glance. */

/** `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** `3m ago`; `just now` under five seconds. */
export function age(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return iso;
  const ms = now - then;
  if (ms < 5000) return "just now";
  return `${duration(ms)} ago`;
}

/** `in 1h 20m`. */
export function until(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return iso;
  return `in ${duration(then - now)}`;
}

/** `2026-11-26 14:38:16 UTC`: incidents are discussed across time zones, in UTC. */
export function utc(iso: string): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `14:38:16`, the clock alone (UTC). */
export function clock(iso: string): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  return new Date(time).toISOString().slice(11, 19);
}

/** Seconds as `4m 10s`-ish, or an em dash when there is nothing to measure. */
export function seconds(value: number | null): string {
  if (value === null) return "—";
  if (value < 60) return `${Math.round(value)}s`;
  return duration(value * 1000);
}

export const plural = (count: number, word: string, many = `${word}s`) =>
  `${count.toLocaleString("en")} ${count === 1 ? word : many}`;
