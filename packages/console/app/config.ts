/**
 * Where the API is. Same origin by default (the local stack serves both); a deployed static site
 * names the API in `<meta name="firebreak-api-url">`, written at build time from
 * `VITE_API_URL` (see vite.config.ts) or edited in the deployed index.html afterwards.
 */
export function apiBase(doc: Document = document): string {
  const value = doc.querySelector<HTMLMetaElement>('meta[name="firebreak-api-url"]')?.content;
  return normalizeApiBase(value ?? "");
}

/** `""` for same origin, else an absolute http(s) URL without a trailing slash. */
export function normalizeApiBase(value: string): string {
  const trimmed = value.trim();
  if (trimmed === "") return "";
  if (!/^https?:\/\/[^/\s]+/i.test(trimmed)) {
    throw new Error(`firebreak-api-url must be an http(s) URL, not "${trimmed.slice(0, 80)}"`);
  }
  return trimmed.replace(/\/+$/, "");
}
