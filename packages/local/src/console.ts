import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the console's build lands (`npm run build:console`). */
export const CONSOLE_DIR = fileURLToPath(new URL("../../console/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/**
 * Everything an incident shows can come from an attacker (alarm names, log lines, Sentry
 * titles): no inline script, no framing, nothing fetched from anywhere but here.
 */
export const CONSOLE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/**
 * Serves the console's static files: `/` is its index.html, `/assets/...` its bundles. A path
 * that leaves the build directory is not found.
 * @returns false when the path is not the console's
 */
export async function serveConsole(
  path: string,
  response: ServerResponse,
  root = CONSOLE_DIR,
): Promise<boolean> {
  if (
    path !== "/" &&
    path !== "/index.html" &&
    !path.startsWith("/assets/") &&
    path !== "/favicon.svg"
  ) {
    return false;
  }
  const file = resolve(root, normalize(`.${path === "/" ? "/index.html" : path}`));
  if (!file.startsWith(resolve(root) + sep)) return false;
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    if (path !== "/" && path !== "/index.html") return false;
    body = Buffer.from(
      "<!doctype html><title>Firebreak</title><p>The console is not built yet: run <code>npm run build:console</code>.</p>",
    );
  }
  response.writeHead(200, {
    ...CONSOLE_HEADERS,
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": String(body.length),
    // Bundles have content hashes in their names; the index must always be fresh.
    "cache-control": path.startsWith("/assets/")
      ? "public, max-age=31536000, immutable"
      : "no-cache",
  });
  response.end(body);
  return true;
}
