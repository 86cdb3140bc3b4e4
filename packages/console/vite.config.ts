import { fileURLToPath } from "node:url";
import { defineConfig, loadEnv, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The same policy the local stack sends as a header (packages/local/src/console.ts), also as a
 * meta tag, so a static host that sends no headers still forbids inline script and style; the
 * API's origin is added to connect-src when it is not this page's. (frame-ancestors cannot be
 * set by a meta tag: the host's header must.)
 */
export function contentSecurityPolicy(apiUrl: string): string {
  const connect = apiUrl ? `'self' ${new URL(apiUrl).origin}` : "'self'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** `VITE_API_URL`: empty (same origin) or an absolute http(s) URL; anything else stops the build. */
export function apiUrlFrom(env: Record<string, string>): string {
  const value = (env.VITE_API_URL ?? "").trim().replace(/\/+$/, "");
  if (value && !/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/i.test(value)) {
    throw new Error(
      `VITE_API_URL must be an http(s) URL such as https://api.example.com, got "${value}"`,
    );
  }
  return value;
}

const escapeAttribute = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

function consoleHtml(apiUrl: string): Plugin {
  return {
    name: "firebreak-console-html",
    apply: "build",
    transformIndexHtml(html) {
      return html
        .replace(
          '<meta name="firebreak-api-url" content="" />',
          `<meta name="firebreak-api-url" content="${escapeAttribute(apiUrl)}" />`,
        )
        .replace(
          '<meta charset="utf-8" />',
          `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(apiUrl))}" />`,
        );
    },
  };
}

export default defineConfig(({ mode }) => {
  const apiUrl = apiUrlFrom(loadEnv(mode, root, "VITE_"));
  return {
    root,
    // Relative asset URLs: the same build works at / on the local stack and under any path.
    base: "./",
    plugins: [consoleHtml(apiUrl)],
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      outDir: "dist",
      assetsDir: "assets",
      emptyOutDir: true,
      target: "es2022",
      // Everything is a file under assets/: nothing inlined that the CSP would have to allow.
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
    },
    server: {
      // `npm run dev -w packages/console` against `npm start`: the API on the local stack.
      proxy: Object.fromEntries(
        ["/incidents", "/silences", "/reports", "/openapi.json"].map((path) => [
          path,
          process.env.FIREBREAK_LOCAL_URL ?? "http://127.0.0.1:3000",
        ]),
      ),
    },
  };
});
