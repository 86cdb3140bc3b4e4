import type { MonitoringConfig } from "../config/schema";
import type { Change } from "./model";
import type { ChangeStore } from "./store";

/** How far before an incident's start its changes are looked for. */
export const CHANGES_BEFORE_MS = 3_600_000;
/** At most this many changes are listed with an incident (a busy hour of deploys is enough). */
const MAX_CHANGES = 50;

/** The services whose changes concern an incident of `service`: it and what it depends on. */
export function servicesConcerned(config: MonitoringConfig, service: string | null): string[] {
  if (service === null || !Object.hasOwn(config.services, service)) return [];
  return [service, ...(config.services[service]?.dependsOn ?? [])];
}

/**
 * The changes to an incident's service and to the services it depends on in the hour before it
 * started, newest first. None for an incident of no service.
 *
 * @example
 * const changes = await changesBefore(store, config, record.incident);
 * changes.map((change) => changeLine(change, Date.parse(record.incident.firstSeenAt)));
 */
export async function changesBefore(
  store: ChangeStore,
  config: MonitoringConfig,
  incident: { service?: string | null; firstSeenAt: string },
): Promise<Change[]> {
  const services = servicesConcerned(config, incident.service ?? null);
  if (services.length === 0) return [];
  const start = Date.parse(incident.firstSeenAt);
  const page = await store.list({
    services,
    since: new Date(start - CHANGES_BEFORE_MS).toISOString(),
    until: incident.firstSeenAt,
    limit: MAX_CHANGES,
  });
  return page.items;
}
