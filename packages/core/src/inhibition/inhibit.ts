import type { InhibitRule, MonitoringConfig } from "../config/schema";
import type { Incident } from "../incidents/model";
import type { IncidentStore } from "../ports";
import { alertMatcher } from "../silences/alert-matcher";
import type { HoldSubject } from "../silences/hold";

type Services = MonitoringConfig["services"];

/**
 * The services `service` depends on, directly or through others (`services.<name>.dependsOn`),
 * without itself. A cycle in the config ends the walk rather than looping.
 *
 * @example
 * dependenciesOf(services, "checkout"); // ["orders-db", "network"]
 */
export function dependenciesOf(services: Services, service: string): string[] {
  const found = new Set<string>();
  const walk = [service];
  for (let next = walk.pop(); next !== undefined; next = walk.pop()) {
    for (const dependency of services[next]?.dependsOn ?? []) {
      if (dependency === service || found.has(dependency)) continue;
      found.add(dependency);
      walk.push(dependency);
    }
  }
  return [...found];
}

/**
 * The services whose open incidents may inhibit an alert of `service`: for `scope: "service"`
 * its own, for `scope: "dependents"` every service it depends on, transitively (a failing
 * database quiets what depends on it, and what depends on that).
 */
export function inhibitingServices(
  services: Services,
  rule: Pick<InhibitRule, "scope">,
  service: string,
): string[] {
  return rule.scope === "service" ? [service] : dependenciesOf(services, service);
}

/** Reads the open incidents of a service (the store's `list`, every page). */
export type OpenIncidentsOf = (service: string) => Promise<ReadonlyArray<Incident>>;

export const subjectOfIncident = (incident: Incident): HoldSubject => ({
  source: incident.source,
  fingerprint: incident.fingerprint,
  title: incident.title,
  severity: incident.severity,
  service: incident.service,
  attributes: incident.attributes,
  link: incident.link,
  at: incident.lastSeenAt,
});

/**
 * The open incident that inhibits an alert, or null: the first inhibit rule whose `target`
 * matches the alert and that has an open incident matching its `source` in a service its scope
 * names. An incident never inhibits itself, and an alert that also matches the rule's `source`
 * is not inhibited by it (two critical alerts of one service do not quiet each other).
 * Incidents are read only for rules whose target matches, so a policy without inhibit rules, or
 * an alert no target matches, costs no read.
 */
export async function inhibitorOf(
  subject: HoldSubject,
  heldIncidentId: string,
  config: Pick<MonitoringConfig, "inhibit" | "services">,
  openIncidentsOf: OpenIncidentsOf,
): Promise<Incident | null> {
  if (subject.service === null) return null;
  for (const rule of config.inhibit) {
    if (!alertMatcher(rule.target)(subject) || alertMatcher(rule.source)(subject)) continue;
    const source = alertMatcher(rule.source);
    for (const service of inhibitingServices(config.services, rule, subject.service)) {
      for (const incident of await openIncidentsOf(service)) {
        if (incident.id === heldIncidentId || incident.status === "resolved") continue;
        if (source(subjectOfIncident(incident))) return incident;
      }
    }
  }
  return null;
}

/**
 * Open incidents per service, each service read at most every `maxAgeMs` (as `SilenceCache`
 * does for silences): a batch of alerts asks about the same few services again and again. Each
 * read is one `list({ status: "open", service })` query (more only past 200 open incidents).
 */
export class OpenIncidentCache {
  private readonly cached = new Map<string, { at: number; incidents: Incident[] }>();
  /** Queries made, for the cost figures in tests and the README. */
  reads = 0;

  constructor(
    private readonly store: Pick<IncidentStore, "list">,
    private readonly maxAgeMs: number,
  ) {}

  /** The open incidents of `service` as read at most `maxAgeMs` before `now`. */
  async of(service: string, now: number): Promise<Incident[]> {
    const known = this.cached.get(service);
    if (known && now - known.at <= this.maxAgeMs && now >= known.at) return known.incidents;
    const incidents: Incident[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ status: "open", service, limit: 200, cursor });
      this.reads += 1;
      incidents.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.cached.set(service, { at: now, incidents });
    return incidents;
  }
}
