import type { IncidentItem } from "./wire";

// No DOM here: the tests import this file under Node.

const STATUS_ORDER = { triggered: 0, acknowledged: 1, resolved: 2 } as const;
const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/**
 * What needs someone first: not yet acknowledged, then acknowledged, then resolved; within
 * each, critical before warning before info; then the API's order (newest first).
 */
export function forReading(items: IncidentItem[]): IncidentItem[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort(
      (a, b) =>
        STATUS_ORDER[a.item.status] - STATUS_ORDER[b.item.status] ||
        SEVERITY_ORDER[a.item.severity] - SEVERITY_ORDER[b.item.severity] ||
        a.index - b.index,
    )
    .map(({ item }) => item);
}
