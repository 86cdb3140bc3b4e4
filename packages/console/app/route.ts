import { useEffect, useState } from "preact/hooks";

/**
 * Where the reader is, in the URL's fragment (`#/incidents/K7Q2XPD`): a static site needs no
 * server rewrites, a reload keeps the place, and links can be shared. Filters go there too; the
 * token never does.
 */
export type Route =
  | { page: "incidents"; query: URLSearchParams }
  | { page: "incident"; id: string }
  | { page: "silences" }
  | { page: "summary"; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const query = new URLSearchParams(search);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "incidents" && parts[1]) return { page: "incident", id: parts[1] };
  if (parts[0] === "silences") return { page: "silences" };
  if (parts[0] === "summary") return { page: "summary", query };
  return { page: "incidents", query };
}

export const href = {
  incidents: (query?: URLSearchParams) => `#/incidents${query?.size ? `?${query}` : ""}`,
  incident: (id: string) => `#/incidents/${encodeURIComponent(id)}`,
  silences: () => "#/silences",
  summary: (query?: URLSearchParams) => `#/summary${query?.size ? `?${query}` : ""}`,
};

/** The current route, following the fragment. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

/** Changes the query of the current page without adding a history entry per filter click. */
export function replaceQuery(path: string, query: URLSearchParams): void {
  const hash = `#${path}${query.size ? `?${query}` : ""}`;
  history.replaceState(null, "", hash);
  dispatchEvent(new HashChangeEvent("hashchange"));
}
