import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Resolved from this module, not the cwd, so tests, benchmarks and the local stack can load
// fixtures from any workspace.
const EVENTS_DIR = new URL("./", import.meta.url);

/**
 * Absolute path of a fixture named relative to `events/`, such as
 * `"cloudwatch/eventbridge-alarm.json"`. Throws for a name that escapes `events/`.
 */
export function eventPath(name: string): string {
  const url = new URL(name, EVENTS_DIR);
  if (!url.href.startsWith(EVENTS_DIR.href)) {
    throw new Error(`Fixture name must stay inside events/: ${name}`);
  }
  return fileURLToPath(url);
}

/**
 * The exact text of a fixture, for signatures computed over the raw body.
 *
 * @example
 * ```ts
 * const raw = loadRawEvent("sentry/issue-created.json");
 * createHmac("sha256", secret).update(raw).digest("hex");
 * ```
 */
export function loadRawEvent(name: string): string {
  return readFileSync(eventPath(name), "utf8");
}

/** A fixture parsed as JSON; `unknown` on purpose, so a test must parse it with its schema. */
export function loadEvent(name: string): unknown {
  return JSON.parse(loadRawEvent(name));
}

/**
 * The `.json` fixtures in a folder of `events/`, as names `loadEvent` accepts, sorted.
 * Includes helper files such as `sentry/headers.json` and `logs/*.decoded.json`.
 *
 * @example
 * ```ts
 * listEvents("sentry"); // ["sentry/error-created.json", "sentry/event-alert-triggered.json", ...]
 * ```
 */
export function listEvents(dir: string): string[] {
  const folder = dir.replace(/\/+$/, "");
  return readdirSync(eventPath(`${folder}/`))
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => `${folder}/${file}`);
}
