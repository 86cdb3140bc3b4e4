import type { IncidentStore } from "../ports";
import type { IncidentRecord, TimelineEntry, TimelinePage } from "./model";

/** Entries kept inline on the incident item before the oldest move to a page item. */
export const INLINE_TIMELINE_MAX = 60;
export const TIMELINE_PAGE_SIZE = 50;
/**
 * Bytes of JSON the inline tail may hold, and a page at most (beyond its first entry). A DynamoDB
 * item is at most 400 KB; 60 notes of 2,000 characters that are three UTF-8 bytes each would
 * take 360 KB, so entries are also counted in bytes, not only in number.
 */
export const INLINE_TIMELINE_BYTES = 128 * 1024;
export const TIMELINE_PAGE_BYTES = 128 * 1024;

const encoder = new TextEncoder();
const bytesOf = (entry: TimelineEntry) => encoder.encode(JSON.stringify(entry)).length;

/**
 * Keeps the incident item small: when the inline tail outgrows `INLINE_TIMELINE_MAX` entries or
 * `INLINE_TIMELINE_BYTES`, its oldest entries (up to `TIMELINE_PAGE_SIZE`, and to
 * `TIMELINE_PAGE_BYTES`) become page number `timelinePages`. The page's content depends only on
 * the state it was cut from, so writing it twice (a retry) writes the same page.
 */
export function spillTimeline(record: IncidentRecord): {
  record: IncidentRecord;
  page: TimelinePage | null;
} {
  const sizes = record.timeline.map(bytesOf);
  const inlineBytes = sizes.reduce((sum, size) => sum + size, 0);
  if (record.timeline.length <= INLINE_TIMELINE_MAX && inlineBytes <= INLINE_TIMELINE_BYTES) {
    return { record, page: null };
  }
  let taken = 1;
  let pageBytes = sizes[0] ?? 0;
  while (
    taken < Math.min(TIMELINE_PAGE_SIZE, sizes.length) &&
    pageBytes + (sizes[taken] as number) <= TIMELINE_PAGE_BYTES
  ) {
    pageBytes += sizes[taken] as number;
    taken++;
  }
  const page: TimelinePage = {
    incidentId: record.incident.id,
    page: record.timelinePages,
    entries: record.timeline.slice(0, taken),
  };
  return {
    record: {
      ...record,
      timeline: record.timeline.slice(taken),
      timelinePages: record.timelinePages + 1,
    },
    page,
  };
}

/**
 * Saves a changed incident the way every writer must (the processor, people's commands, the
 * dispatcher, the sweep): the timeline spilled first, so no writer lets the item grow past
 * DynamoDB's 400 KB. Returns the record as stored, which the caller must go on from: the next
 * page number lives in it.
 *
 * @example
 * record = await saveIncident(store, next);
 */
export async function saveIncident(
  store: IncidentStore,
  record: IncidentRecord,
): Promise<IncidentRecord> {
  const { record: spilled, page } = spillTimeline(record);
  await store.save(spilled, page);
  return spilled;
}

/** The whole timeline in order: pages first (by number), then the inline tail. */
export function assembleTimeline(
  record: IncidentRecord,
  pages: ReadonlyArray<TimelinePage>,
): TimelineEntry[] {
  const ordered = [...pages].sort((a, b) => a.page - b.page);
  return [...ordered.flatMap((page) => page.entries), ...record.timeline];
}
