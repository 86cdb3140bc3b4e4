/**
 * Builds every function as `sst deploy` does (esbuild, ESM, minified: stacks/bundle.ts) and
 * prints each bundle's size, with the packages that make up most of it.
 *
 *   npm run bundle            sizes, and what makes up most of each bundle
 *   npm run bundle -- --check also exit 1 when a bundle is over the budget
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { bundleSizes, nodejsFor, SDK_SOURCE, sstEsbuildOptions } from "../stacks/bundle";
import { FUNCTIONS, type FunctionName } from "../stacks/topology";

// A proxy for cold start, which `bench:cold-start` measures (about 1 ms per 5 KB parsed, and more
// for what runs at import: zod schemas above all). The budget holds what a function loads at
// import (its entry and the chunks it imports statically); the SDK's clients and each function's
// own pieces (composeApp imports them when first built) are chunks loaded on demand, counted
// apart ("in all"). slack imports on-call and the incident commands, with planning beneath
// them, when a command needs them, and the silence matcher (with RE2, 150 KB) only to make a
// silence or match one in force; api loads each route's module on its first request, so its
// entry is the router; escalations imports its planning, silences and on-call (and so both)
// only when a sweep finds something due; a static import that brought RE2 or luxon back (or an
// SDK client, about 200 KB), or every schema of Powertools' parser (about 26 KB:
// stacks/esbuild-plugins.mjs keeps only those used), takes a function over.
const BUDGET_BYTES: Readonly<Record<FunctionName, number>> = {
  ingest: 210 * 1024,
  process: 210 * 1024,
  "sentry-webhook": 190 * 1024,
  dispatch: 190 * 1024,
  api: 190 * 1024,
  slack: 250 * 1024,
  escalations: 160 * 1024,
};

const root = path.resolve(import.meta.dirname, "..");
const out = mkdtempSync(path.join(tmpdir(), "firebreak-bundle-"));

/** What an input file belongs to: the AWS SDK as one, other packages by name, own code by folder. */
function groupOf(input: string): string {
  const parts = input.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return parts[0] === "packages" ? parts.slice(0, 2).join("/") : (parts[0] ?? "?");
  const name = parts[at + 1] ?? "?";
  if (["@aws-sdk", "@smithy", "@aws-crypto", "@aws"].includes(name)) return "AWS SDK v3";
  return name.startsWith("@") ? `${name}/${parts[at + 2]}` : name;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

let over = 0;
try {
  for (const [name, { handler }] of Object.entries(FUNCTIONS) as Array<
    [FunctionName, { handler: string }]
  >) {
    const entry = path.join(root, `${handler.slice(0, handler.lastIndexOf("."))}.ts`);
    const outfile = path.join(out, name, `${path.basename(entry, ".ts")}.mjs`);
    const result = await build(sstEsbuildOptions(entry, outfile, nodejsFor(name)));
    const metafile = result.metafile as Metafile;
    const sizes = bundleSizes(metafile, outfile);
    const byPackage = new Map<string, number>();
    for (const output of Object.values(metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const key = groupOf(path.relative(root, path.resolve(root, input)));
        byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
      }
    }
    const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const budget = BUDGET_BYTES[name];
    const flag = sizes.loadedBytes > budget ? `  over its ${kb(budget)} budget` : "";
    if (flag) over++;
    console.log(
      `${name.padEnd(15)} ${kb(sizes.loadedBytes).padStart(10)} loaded at import, ${kb(sizes.totalBytes)} in all, SDK ${SDK_SOURCE[name]}${flag}`,
    );
    for (const [pkg, bytes] of top) {
      console.log(
        `    ${pkg.padEnd(44)} ${kb(bytes).padStart(10)}  ${((bytes / sizes.totalBytes) * 100).toFixed(0).padStart(3)}%`,
      );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`\nbudgets per function (minified, loaded at import): ${over} over`);
if (process.argv.includes("--check") && over > 0) process.exitCode = 1;
