import type { IncidentRecord, TimelineEntry, TimelinePage } from "./model";

/** Entries kept inline on the incident item before the oldest move to a page item. */
export const INLINE_TIMELINE_MAX = 60;
export const TIMELINE_PAGE_SIZE = 50;

/**
 * Keeps the incident item small: when the inline tail outgrows `INLINE_TIMELINE_MAX`, the oldest
 * `TIMELINE_PAGE_SIZE` entries become page number `timelinePages`. The page's content depends
 * only on the state it was cut from, so writing it twice (a retry) writes the same page.
 */
export function spillTimeline(record: IncidentRecord): {
  record: IncidentRecord;
  page: TimelinePage | null;
} {
  if (record.timeline.length <= INLINE_TIMELINE_MAX) return { record, page: null };
  const page: TimelinePage = {
    incidentId: record.incident.id,
    page: record.timelinePages,
    entries: record.timeline.slice(0, TIMELINE_PAGE_SIZE),
  };
  return {
    record: {
      ...record,
      timeline: record.timeline.slice(TIMELINE_PAGE_SIZE),
      timelinePages: record.timelinePages + 1,
    },
    page,
  };
}

/** The whole timeline in order: pages first (by number), then the inline tail. */
export function assembleTimeline(
  record: IncidentRecord,
  pages: ReadonlyArray<TimelinePage>,
): TimelineEntry[] {
  const ordered = [...pages].sort((a, b) => a.page - b.page);
  return [...ordered.flatMap((page) => page.entries), ...record.timeline];
}
