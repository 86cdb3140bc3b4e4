import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { build, type Plugin } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodejsOptions, sstEsbuildOptions } from "../../stacks/bundle";
import plugins, { zodJitless } from "../../stacks/esbuild-plugins.mjs";

const run = promisify(execFile);

/**
 * An entry that builds a schema the way Firebreak's modules do (at import), parses a Sentry issue
 * webhook twice, and prints how many functions were compiled at run time (`new Function`, which
 * zod's JIT builds its parsers with) and whether the parses succeeded.
 */
const ENTRY = `
let compiled = 0;
globalThis.Function = new Proxy(Function, {
  construct(target, args, newTarget) {
    compiled++;
    return Reflect.construct(target, args, newTarget);
  },
});
const { parseSentryWebhook } = await import(${JSON.stringify(path.join(import.meta.dirname, "../../events/index.ts"))});
const webhook = ${readFileSync(path.join(import.meta.dirname, "../../events/sentry/issue-created.json"), "utf8")};
const parsed = [parseSentryWebhook("issue", webhook), parseSentryWebhook("issue", webhook)];
console.log(JSON.stringify({ compiled, parsed: parsed.map((result) => result.success) }));
`;

async function bundleAndRun(dir: string, name: string, bundlePlugins: Plugin[]) {
  const entry = path.join(dir, `${name}.mjs`);
  writeFileSync(entry, ENTRY);
  const outdir = path.join(dir, `${name}-out`);
  // As the functions deploy (split: the setting must hold across chunks), these plugins aside.
  const result = await build({
    ...sstEsbuildOptions(entry, path.join(outdir, `${name}.mjs`), nodejsOptions("bundled")),
    plugins: bundlePlugins,
  });
  expect(result.errors).toEqual([]);
  const { stdout } = await run(process.execPath, [path.join(outdir, `${name}.mjs`)]);
  return JSON.parse(stdout) as { compiled: number; parsed: boolean[] };
}

describe("bundled functions parse without zod's JIT", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "firebreak-zod-jitless-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("compiles no parser at run time, and parses as before", async () => {
    const jitless = await bundleAndRun(dir, "jitless", plugins);
    expect(jitless).toEqual({ compiled: 0, parsed: [true, true] });
  });

  it("would compile parsers without the plugin (what the test above rules out)", async () => {
    const jit = await bundleAndRun(
      dir,
      "jit",
      plugins.filter((plugin) => plugin !== zodJitless),
    );
    expect(jit.parsed).toEqual([true, true]);
    expect(jit.compiled).toBeGreaterThan(0);
  });

  it("fails the build when zod no longer starts its config as the plugin expects", async () => {
    // A stand-in for a zod release whose core module starts its config another way.
    const core = path.join(dir, "changed/zod/v4/core/core.js");
    mkdirSync(path.dirname(core), { recursive: true });
    writeFileSync(core, "export const globalConfig = {};\n");
    const building = build({
      stdin: { contents: `export { globalConfig } from ${JSON.stringify(core)};`, resolveDir: dir },
      bundle: true,
      format: "esm",
      platform: "node",
      write: false,
      logLevel: "silent",
      plugins: [zodJitless],
    });
    await expect(building).rejects.toThrow(/zod-jitless: .* does not start its global config/);
  });
});
