import type { IncidentRecord } from "./model";

/** The result of a person's change: either the new state, or why nothing changed. */
export type HumanChange =
  | { changed: true; record: IncidentRecord }
  | { changed: false; reason: string; record: IncidentRecord };

const unchanged = (record: IncidentRecord, reason: string): HumanChange => ({
  changed: false,
  reason,
  record,
});

function edit(record: IncidentRecord): IncidentRecord {
  const next = structuredClone(record);
  next.version += 1;
  return next;
}

/** Acknowledging says "someone is on it": it stops escalation; it is not a resolution. */
export function acknowledge(record: IncidentRecord, by: string, at: string): HumanChange {
  const { incident } = record;
  if (incident.status === "resolved") {
    return unchanged(record, `${incident.id} is already resolved (${incident.resolvedAt})`);
  }
  if (incident.status === "acknowledged") {
    return unchanged(
      record,
      `${incident.id} was already acknowledged by ${incident.acknowledgedBy} at ${incident.acknowledgedAt}`,
    );
  }
  const next = edit(record);
  Object.assign(next.incident, { status: "acknowledged", acknowledgedAt: at, acknowledgedBy: by });
  next.timeline.push({ type: "acknowledged", at, by });
  return { changed: true, record: next };
}

export function resolveByPerson(
  record: IncidentRecord,
  by: string,
  at: string,
  note: string | null,
): HumanChange {
  const { incident } = record;
  if (incident.status === "resolved") {
    return unchanged(record, `${incident.id} is already resolved (${incident.resolvedAt})`);
  }
  const next = edit(record);
  Object.assign(next.incident, { status: "resolved", resolvedAt: at, resolvedBy: by });
  for (const alert of next.alerts) {
    if (alert.status === "firing") Object.assign(alert, { status: "resolved", resolvedAt: at });
  }
  next.timeline.push({ type: "resolved", at, by, reason: note });
  return { changed: true, record: next };
}

export function addNote(record: IncidentRecord, by: string, at: string, text: string): HumanChange {
  const next = edit(record);
  next.timeline.push({ type: "note", at, by, text });
  return { changed: true, record: next };
}
