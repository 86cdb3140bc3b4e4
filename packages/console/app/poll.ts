import type { RefObject } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** Every few seconds: quick enough for an incident, light enough for a 200-item page. */
export const REFRESH_MS = 5000;

export interface Polled<T> {
  data: T | null;
  error: unknown;
  /** When the data was last fetched successfully (ms since epoch). */
  updatedAt: number | null;
  loading: boolean;
  refresh: () => Promise<void>;
}

/**
 * Fetches now, then every `intervalMs` while the tab is visible (and at once when it becomes
 * visible again). The last good data stays on screen while a refresh fails, and a new `key`
 * (other filters) replaces it. Requests never overlap; a late answer for an old key is dropped.
 */
export function usePoll<T>(key: string, load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{
    key: string;
    data: T | null;
    error: unknown;
    updatedAt: number | null;
  }>({
    key,
    data: null,
    error: null,
    updatedAt: null,
  });
  const [loading, setLoading] = useState(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;
  const inFlight = useRef<Promise<void> | null>(null);

  const refresh = useCallback(async () => {
    if (inFlight.current) return inFlight.current;
    const asked = keyRef.current;
    setLoading(true);
    const run = loadRef
      .current()
      .then(
        (data) => {
          if (keyRef.current === asked)
            setState({ key: asked, data, error: null, updatedAt: Date.now() });
        },
        (error: unknown) => {
          if (keyRef.current === asked)
            setState((previous) => ({
              key: asked,
              data: previous.key === asked ? previous.data : null,
              error,
              updatedAt: previous.key === asked ? previous.updatedAt : null,
            }));
        },
      )
      .finally(() => {
        inFlight.current = null;
        setLoading(false);
      });
    inFlight.current = run;
    return run;
  }, []);

  useEffect(() => {
    inFlight.current = null;
    void refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, intervalMs);
    const visible = () => {
      if (document.visibilityState === "visible") void refresh();
    };
    document.addEventListener("visibilitychange", visible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", visible);
    };
  }, [key, intervalMs, refresh]);

  const current = state.key === key;
  return {
    data: current ? state.data : null,
    error: current ? state.error : null,
    updatedAt: current ? state.updatedAt : null,
    loading,
    refresh,
  };
}

/** The time now, ticking every `everyMs`, so ages on screen stay true between fetches. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * The element's width in CSS pixels, following resizes: charts draw at 1:1 so their text stays
 * readable from a phone to a wide screen.
 */
export function useWidth(ref: RefObject<Element | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () =>
      setWidth(Math.max(240, Math.round(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}
