import type { ActionRecord } from "../actions/model";
import type { IncidentRecord } from "../incidents/model";
import type { Severity } from "../severity";
import type { Link, SignalAttributes, Source } from "../signal";
import type { Silence } from "./record";

/**
 * Why an incident is recorded but neither pages nor acts: a silence someone made, a maintenance
 * window in effect, or an open incident that inhibits it. One shape for the three, as
 * Alertmanager's silencer and inhibitor share one Muter: planning and the sweep ask one question.
 */
export type Hold =
  | {
      kind: "silence";
      /** The silence's id (`S4K2PX`). */
      id: string;
      endsAt: string;
      reason: string | null;
    }
  | {
      kind: "maintenance";
      /** The window's id (`policy:<name>` or `M4K2PX` made through the API). */
      id: string;
      name: string;
      /** The end of the period in effect. */
      endsAt: string;
      reason: string | null;
    }
  | {
      kind: "inhibition";
      /** The inhibiting incident's id. */
      id: string;
      /** Its service, and the service of the alerts it holds. */
      service: string;
      /** Which of the held incident's alerts it holds (alert id to inhibiting incident). */
      alerts: Readonly<Record<string, string>>;
      endsAt: null;
      reason: string;
    };

/** A silence as a hold. */
export const silenceHold = (silence: Silence): Hold => ({
  kind: "silence",
  id: silence.id,
  endsAt: silence.endsAt,
  reason: silence.reason,
});

/**
 * Planning takes a hold or, from callers written before holds, a silence: both read as a hold.
 */
export const asHold = (held: Hold | Silence): Hold => ("kind" in held ? held : silenceHold(held));

/** What a hold says in a skipped action's reason, and what {@link holdKindOf} reads back. */
const PREFIX = {
  silence: "silenced by",
  maintenance: "held by maintenance window",
  inhibition: "inhibited by incident",
} as const;

/**
 * Says why an action was held, for people and for {@link holdKindOf}:
 * `held by maintenance window db-patching until 2026-03-28T03:00:00.000Z (patching)`.
 */
export function holdText(hold: Hold): string {
  const who = hold.kind === "maintenance" ? hold.name : hold.id;
  const until = hold.endsAt ? ` until ${hold.endsAt}` : " while it is open";
  const why = hold.reason ? ` (${hold.reason})` : "";
  return `${PREFIX[hold.kind]} ${who}${until}${why}`;
}

/** What held an action, read from the reason {@link holdText} wrote; null: nothing did. */
export function holdKindOf(action: Pick<ActionRecord, "status" | "reason">): Hold["kind"] | null {
  if (action.status !== "skipped" || !action.reason) return null;
  for (const kind of ["silence", "maintenance", "inhibition"] as const) {
    if (action.reason.startsWith(`${PREFIX[kind]} `)) return kind;
  }
  return null;
}

/**
 * A held action: skipped because of a hold, with `notBefore` set to when the sweep looks again
 * (the hold's end; for an inhibition, every sweep). If the incident is still firing then and
 * nothing holds it, the rule's actions are planned as if it had just opened: a real outage
 * behind maintenance is not lost. Released, `notBefore` goes back to null.
 */
export const isHeld = (action: ActionRecord): boolean =>
  action.notBefore !== null && holdKindOf(action) !== null;

/**
 * When the sweep should look at a held incident again: the earliest `notBefore` of its held
 * actions, while it is open. `nextDueAt` includes it, so the store's due index finds the record
 * at the window's end without a change to the incident.
 */
export function holdRevisitAt(record: IncidentRecord): number | null {
  if (record.incident.status === "resolved") return null;
  const times = record.actions.filter(isHeld).map((action) => Date.parse(action.notBefore ?? ""));
  return times.length > 0 ? Math.min(...times) : null;
}

/** What a hold is asked about: one alert, with its incident's service. */
export interface HoldSubject {
  source: Source;
  fingerprint: string;
  title: string;
  severity: Severity;
  service: string | null;
  attributes: SignalAttributes;
  link: Link | null;
  at: string;
}

/** The alerts of an incident that still fire, as subjects (every alert once resolved). */
export function subjectsOf(record: IncidentRecord): Array<HoldSubject & { alertId: string }> {
  const { incident } = record;
  const firing = record.alerts.filter((alert) => alert.status === "firing");
  return (firing.length > 0 ? firing : record.alerts).map((alert) => ({
    alertId: alert.id,
    source: alert.source,
    fingerprint: alert.fingerprint,
    title: alert.title,
    severity: alert.severity,
    service: incident.service,
    attributes: alert.attributes,
    link: alert.link,
    at: alert.lastSeen,
  }));
}

/** Held incidents by what held them, for the summary report. */
export interface HoldCounts {
  /** Incidents an open incident inhibited (recorded, no page or action). */
  inhibited: number;
  /** Alerts an open incident inhibited (`inhibitedBy` set). */
  inhibitedAlerts: number;
  /** Incidents a maintenance window held. */
  maintenance: number;
  /** Incidents a silence held. */
  silenced: number;
}

/**
 * Counts what holds did to these incidents: each incident once per kind of hold that held any of
 * its actions, and the alerts that carry `inhibitedBy`.
 *
 * @example
 * holdCounts(records); // { inhibited: 3, inhibitedAlerts: 5, maintenance: 1, silenced: 0 }
 */
export function holdCounts(records: Iterable<IncidentRecord>): HoldCounts {
  const counts: HoldCounts = { inhibited: 0, inhibitedAlerts: 0, maintenance: 0, silenced: 0 };
  for (const record of records) {
    const kinds = new Set(record.actions.map(holdKindOf));
    const inhibitedAlerts = record.alerts.filter((alert) => alert.inhibitedBy !== null).length;
    counts.inhibitedAlerts += inhibitedAlerts;
    if (kinds.has("inhibition") || inhibitedAlerts > 0) counts.inhibited += 1;
    if (kinds.has("maintenance")) counts.maintenance += 1;
    if (kinds.has("silence")) counts.silenced += 1;
  }
  return counts;
}
