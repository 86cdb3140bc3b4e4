import type { Action, Alert, Change, IncidentDetail, IncidentItem } from "./wire";

// No DOM here: the tests import this file under Node.

/** The group of incidents without a service: their signals matched no `services` entry. */
export const NO_SERVICE = "no service";

export interface ServiceGroup {
  /** The service, or null for incidents without one. */
  service: string | null;
  /** What the heading says: the service's name, or "no service". */
  label: string;
  items: IncidentItem[];
}

/**
 * The list as groups by service, each keeping the order it was given (read `forReading` first).
 * Groups come in a stable order, "no service" first (what the config does not know yet, one
 * incident per alert) and then services by name, so a new incident never moves a whole group
 * under the reader's eyes nor the browser's scroll anchor; urgency orders the incidents inside
 * each group, and the counts above the list cover them all.
 *
 * @example
 * groupByService(forReading(page.items)).map((group) => group.label);
 * // ["no service", "checkout", "orders-db"]
 */
export function groupByService(items: ReadonlyArray<IncidentItem>): ServiceGroup[] {
  const groups = new Map<string | null, ServiceGroup>();
  for (const item of items) {
    const service = item.service ?? null;
    let group = groups.get(service);
    if (!group) {
      group = { service, label: service ?? NO_SERVICE, items: [] };
      groups.set(service, group);
    }
    group.items.push(item);
  }
  return [...groups.values()].sort((a, b) =>
    a.service === null ? -1 : b.service === null ? 1 : a.service.localeCompare(b.service),
  );
}

/** What holds an incident quiet: recorded, but nothing pages or acts. */
export interface Hold {
  kind: "silence" | "maintenance" | "inhibition";
  /** In words: `silenced by S4K2PX`, `inhibited by incident K7Q2XPD`. */
  text: string;
  /** The holding incident, for an inhibition: the console links to it. */
  incidentId: string | null;
}

/** What the console marks on an incident in the list and on its page. */
export interface Markers {
  /** Actions waiting for someone's approval. */
  awaitingApproval: number;
  hold: Hold | null;
}

/**
 * The prefixes core's `holdText` writes in a held action's reason (silences/hold.ts), read
 * back here as core's `holdKindOf` does.
 */
const HOLD_PREFIXES = [
  ["silence", "silenced by "],
  ["maintenance", "held by maintenance window "],
  ["inhibition", "inhibited by incident "],
] as const;

/** The kind of hold a skipped action's reason names, or null when it names none. */
export function holdKindOf(action: Pick<Action, "status" | "reason">): Hold["kind"] | null {
  if (action.status !== "skipped" || !action.reason) return null;
  for (const [kind, prefix] of HOLD_PREFIXES) if (action.reason.startsWith(prefix)) return kind;
  return null;
}

/**
 * Whether someone must approve something, and what holds the incident, from what the list
 * carries (`silencedBy`) and, when it was read, the incident's detail (its actions and alerts).
 * A resolved incident waits for nothing and is held by nothing.
 */
export function markersOf(item: IncidentItem, detail?: IncidentDetail | null): Markers {
  if (item.status === "resolved") return { awaitingApproval: 0, hold: null };
  const awaitingApproval =
    detail?.actions.filter((action) => action.status === "awaiting-approval").length ?? 0;
  return { awaitingApproval, hold: holdOf(item, detail) };
}

function holdOf(item: IncidentItem, detail?: IncidentDetail | null): Hold | null {
  if (item.silencedBy) {
    return { kind: "silence", text: `silenced by ${item.silencedBy}`, incidentId: null };
  }
  if (!detail) return null;
  const inhibited = detail.alerts.find(
    (alert) => alert.status === "firing" && alert.inhibitedBy !== null,
  );
  if (inhibited?.inhibitedBy) {
    return {
      kind: "inhibition",
      text: `inhibited by incident ${inhibited.inhibitedBy}`,
      incidentId: inhibited.inhibitedBy,
    };
  }
  // The newest held action speaks, unless the timeline says the hold let go after it.
  const held = detail.actions.findLast((action) => holdKindOf(action) !== null);
  if (!held?.reason) return null;
  const released = detail.timeline.some(
    (entry) => entry.type === "note" && entry.by === "hold" && entry.at >= held.at,
  );
  if (released) return null;
  const kind = holdKindOf(held) as Hold["kind"];
  const incidentId =
    kind === "inhibition" ? (held.reason.split(" ")[3]?.replace(/[^0-9A-Z]/g, "") ?? null) : null;
  return { kind, text: held.reason.replace(/ until \S+/, ""), incidentId };
}

/**
 * The services an incident list names, sorted, with the one asked for kept even when the page
 * has none of it (the filter must still show what it filters by).
 */
export function servicesIn(
  items: ReadonlyArray<IncidentItem>,
  known: Iterable<string> = [],
): string[] {
  const names = new Set(known);
  for (const item of items) if (item.service) names.add(item.service);
  return [...names].sort();
}

/**
 * A span as people say it, as core's `spanInWords` (changes/text.ts): whole units rounded down.
 */
export function spanInWords(ms: number): string {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? "" : "s"}`;
  if (seconds < 60) return unit(seconds, "second");
  if (seconds < 2 * 3600) return unit(Math.floor(seconds / 60), "minute");
  if (seconds < 2 * 86_400) return unit(Math.floor(seconds / 3600), "hour");
  return unit(Math.floor(seconds / 86_400), "day");
}

/**
 * One line about a change relative to the incident's start, worded as pages, Slack and the
 * post-mortem word it (core's `changeLine`).
 *
 * @example
 * changeLine(change, Date.parse(incident.firstSeenAt));
 * // "changed 4 minutes before: checkout 42 → 43 by ci (commit abc123)"
 */
export function changeLine(change: Change, reference: number): string {
  const offset = reference - Date.parse(change.at);
  const when = offset >= 0 ? "before" : "after";
  const step =
    change.previousVersion === null
      ? `${change.service} → ${change.version}`
      : `${change.service} ${change.previousVersion} → ${change.version}`;
  const by = change.author ? ` by ${change.author}` : "";
  const commit = change.commit ? ` (commit ${change.commit.slice(0, 12)})` : "";
  return `changed ${spanInWords(offset)} ${when}: ${step}${by}${commit}`;
}

/** The text as a link target only when it is an http(s) URL; anything else stays text. */
export function httpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Where an action stands on an `ifIneffective` ladder: `step 2 of a1's ladder, after a3 was
 * ineffective`; null for an action that is no ladder step.
 */
export function ladderStep(action: Pick<Action, "follows">): string | null {
  const link = action.follows;
  if (!link) return null;
  return `step ${link.step + 1} of ${link.root}'s ladder, after ${link.action} was ineffective`;
}

/** The alerts an incident can split off: a split needs another alert to stay behind. */
export const splittable = (alerts: ReadonlyArray<Alert>): boolean => alerts.length > 1;
