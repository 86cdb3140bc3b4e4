import type { CountRange, IncidentRecord, IncidentStore } from "@firebreak/core";

/** The most incidents one summary reads, as before it read their alerts. */
const MAX_INCIDENTS = 50_000;
/** Records read at once: the table takes many small reads in flight. */
const READS_IN_FLIGHT = 16;

/**
 * The records of the incidents that opened in a range, for `summarize`: the list index finds
 * them (200 a page), then each record is read for its alerts and actions, which the list does not
 * carry. An incident that expired between the two reads is left out.
 */
export async function summaryRecords(
  store: Pick<IncidentStore, "list" | "get">,
  range: CountRange,
): Promise<IncidentRecord[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      since: range.since ?? undefined,
      until: range.until ?? undefined,
      limit: 200,
      cursor,
    });
    ids.push(...page.items.map((incident) => incident.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && ids.length < MAX_INCIDENTS);
  const records: IncidentRecord[] = [];
  let next = 0;
  const reader = async () => {
    for (let index = next++; index < ids.length; index = next++) {
      const record = await store.get(ids[index] as string);
      if (record) records.push(record);
    }
  };
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
  return records;
}
