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
import { sstEsbuildOptions } from "../stacks/bundle";
import { FUNCTIONS } from "../stacks/topology";

// A proxy for cold start, which `bench:cold-start` measures. Every function carries the one
// composition root, and with it re2js (152 KB: linear-time patterns for rules and silences) and
// luxon (74 KB: on-call rotations in time zones), which esbuild cannot leave out without code
// splitting. 600 KB holds today's bundles (484-526 KB) and still catches an SDK client bundled
// by mistake; whether to bundle per function is the cold-start benchmark's call (issue 15).
const BUDGET_BYTES = 600 * 1024;

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
  for (const [name, { handler }] of Object.entries(FUNCTIONS)) {
    const entry = path.join(root, `${handler.slice(0, handler.lastIndexOf("."))}.ts`);
    const outfile = path.join(out, name, `${path.basename(entry, ".ts")}.mjs`);
    const result = await build(sstEsbuildOptions(entry, outfile));
    const metafile = result.metafile as Metafile;
    const output = Object.values(metafile.outputs)[0];
    if (!output) throw new Error(`${name}: esbuild wrote nothing`);
    const byPackage = new Map<string, number>();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = groupOf(path.relative(root, path.resolve(root, input)));
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
    const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const flag = output.bytes > BUDGET_BYTES ? "  over budget" : "";
    if (flag) over++;
    console.log(`${name.padEnd(15)} ${kb(output.bytes).padStart(10)}${flag}`);
    for (const [pkg, bytes] of top) {
      console.log(
        `    ${pkg.padEnd(44)} ${kb(bytes).padStart(10)}  ${((bytes / output.bytes) * 100).toFixed(0).padStart(3)}%`,
      );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`\nbudget ${kb(BUDGET_BYTES)} per function (minified): ${over} over`);
if (process.argv.includes("--check") && over > 0) process.exitCode = 1;
