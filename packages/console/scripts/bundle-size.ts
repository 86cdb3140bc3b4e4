/**
 * Prints what the console costs a browser, gzipped, and fails the build past the budget:
 * `npm run build -w packages/console` runs it after `vite build`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** The budget for all JavaScript, gzipped. */
export const JS_BUDGET_BYTES = 100 * 1024;

export interface AssetSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export function assetSizes(dist: string): AssetSize[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(dist);
  return files
    .filter((file) => /\.(js|mjs|css|html|svg)$/.test(file))
    .map((file) => {
      const body = readFileSync(file);
      return {
        file: relative(dist, file),
        bytes: body.length,
        gzipBytes: gzipSync(body, { level: 9 }).length,
      };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function main() {
  const dist = fileURLToPath(new URL("../dist/", import.meta.url));
  const sizes = assetSizes(dist);
  const width = Math.max(...sizes.map((size) => size.file.length));
  for (const size of sizes) {
    console.log(
      `  ${size.file.padEnd(width)}  ${kb(size.bytes).padStart(9)}  gzip ${kb(size.gzipBytes).padStart(8)}`,
    );
  }
  const js = sizes.filter((size) => /\.m?js$/.test(size.file));
  const total = js.reduce((sum, size) => sum + size.gzipBytes, 0);
  const verdict = total <= JS_BUDGET_BYTES ? "within" : "OVER";
  console.log(
    `console JavaScript: ${kb(total)} gzipped, ${verdict} the ${kb(JS_BUDGET_BYTES)} budget`,
  );
  if (total > JS_BUDGET_BYTES) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
