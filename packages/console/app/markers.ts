import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "./api";
import { type Markers, markersOf } from "./grouping";
import type { IncidentDetail, IncidentItem } from "./wire";

/** Details are read again at most this often when nothing in the list changed. */
const DETAILS_MS = 30_000;
/** Requests in flight at once: a full page of open incidents must not flood the API. */
const PARALLEL = 4;

/**
 * The list's markers. The list API carries `silencedBy` but not an incident's actions or
 * alerts, so the details of open incidents are read: again when the incident changed (its
 * last signal, status or count) and every 30 seconds otherwise. A detail that fails to load
 * leaves the last markers in place.
 */
export function useMarkers(api: Api, items: ReadonlyArray<IncidentItem> | null) {
  const [details, setDetails] = useState<ReadonlyMap<string, IncidentDetail>>(new Map());
  const seen = useRef(new Map<string, { signature: string; at: number }>());
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((value) => value + 1), DETAILS_MS);
    return () => clearInterval(timer);
  }, []);

  const open = (items ?? []).filter((item) => item.status !== "resolved");
  const signatures = open.map(
    (item) => `${item.id}:${item.status}:${item.count}:${item.lastSeenAt}`,
  );
  const key = signatures.join(",");
  // Looked at again when an open incident changed (the key) or on the tick.
  useEffect(() => {
    let cancelled = false;
    const now = Date.now();
    const due = open.filter((item, index) => {
      const last = seen.current.get(item.id);
      return !last || last.signature !== signatures[index] || now - last.at >= DETAILS_MS;
    });
    const queue = [...due];
    const worker = async () => {
      for (let item = queue.shift(); item && !cancelled; item = queue.shift()) {
        try {
          const detail = await api.incident(item.id);
          if (cancelled) return;
          seen.current.set(item.id, {
            signature: `${item.id}:${item.status}:${item.count}:${item.lastSeenAt}`,
            at: Date.now(),
          });
          const id = item.id;
          setDetails((previous) => new Map(previous).set(id, detail));
        } catch {
          // The last markers stay; the next change or tick tries again.
        }
      }
    };
    void Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
    return () => {
      cancelled = true;
    };
  }, [key, tick]);

  return (item: IncidentItem): Markers => markersOf(item, details.get(item.id));
}
