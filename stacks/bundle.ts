import path from "node:path";
import type { BuildOptions, Metafile } from "esbuild";
import plugins from "./esbuild-plugins.mjs";
import type { FunctionName } from "./topology";

/** Where a function's AWS SDK v3 comes from. */
export type SdkSource = "runtime" | "bundled";

/**
 * Each function's SDK, chosen by measured cold start (`npm run bench:cold-start` builds both and
 * writes bench/results/cold-start.json). Bundled, the clients are tree-shaken ESM chunks of the
 * function's own files, loaded when a port first needs them; from the runtime, Node loads the
 * `nodejs22.x` image's CommonJS copy, file by file. Measured 2026-12-02 on a quiet machine (5 runs
 * each, load about 1): bundled took 23 to 40% less CPU than the runtime's copy for every function
 * (ingest 375 against 485 ms, sentry-webhook 338 against 564, slack 483 against 717). A function
 * whose measurement turns the other way is switched here, and nowhere else.
 */
export const SDK_SOURCE: Readonly<Record<FunctionName, SdkSource>> = {
  ingest: "bundled",
  process: "bundled",
  "sentry-webhook": "bundled",
  api: "bundled",
  slack: "bundled",
  dispatch: "bundled",
  escalations: "bundled",
};

/** SST's `nodejs` options (the ones Firebreak sets). */
export interface NodejsOptions {
  format: "esm";
  minify: boolean;
  sourcemap: boolean;
  splitting: boolean;
  esbuild: { external: string[] };
  plugins: string;
}

/**
 * The `nodejs` options a function deploys with: ESM, minified, no source maps shipped; the AWS
 * SDK v3 bundled or left to the runtime as `sdk` says; zod keeps only its English messages.
 * Code splitting: every function carries the one composition root, which imports each function's
 * pieces (the correlator, the dispatcher) when that function first builds them, and whose ports
 * import their SDK clients (and the dispatcher's remediation clients) dynamically; split, each
 * dynamic import is a chunk of its own that a function loads only when it calls it, instead of
 * every client and every other function's code being parsed by every function at import.
 */
export function nodejsOptions(sdk: SdkSource): NodejsOptions {
  return {
    format: "esm",
    minify: true,
    sourcemap: false,
    splitting: true,
    esbuild: { external: sdk === "runtime" ? ["@aws-sdk/*"] : [] },
    plugins: "stacks/esbuild-plugins.mjs",
  };
}

/** The options of one deployed function (its measured SDK source). */
export const nodejsFor = (name: FunctionName) => nodejsOptions(SDK_SOURCE[name]);

/**
 * The esbuild options SST 4's Go CLI uses to bundle a Node function (pkg/runtime/node/build.go),
 * for the given `nodejs` settings: the bundle-size script, the infrastructure tests and the
 * cold-start benchmark build with these, so what they measure is what `sst deploy` uploads (SST's
 * binary embeds its own esbuild version, so a few bytes may differ).
 */
export function sstEsbuildOptions(
  entry: string,
  outfile: string,
  nodejs: Pick<NodejsOptions, "minify" | "sourcemap" | "splitting" | "esbuild">,
): BuildOptions {
  return {
    entryPoints: [entry],
    // Split, SST writes the entry (named after its file) and its chunks into the output folder.
    ...(nodejs.splitting
      ? { splitting: true, outdir: path.dirname(outfile), outExtension: { ".js": ".mjs" } }
      : { outfile }),
    platform: "node",
    bundle: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    keepNames: true,
    minify: nodejs.minify,
    sourcemap: nodejs.sourcemap,
    metafile: true,
    write: true,
    logLevel: "silent",
    // SST always leaves these two out (native code); Firebreak uses neither.
    external: ["sharp", "pg-native", ...nodejs.esbuild.external],
    plugins,
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        `const require = topLevelCreateRequire(import.meta.url);`,
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        `const __filename = topLevelFileUrlToPath(import.meta.url)`,
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
        "",
      ].join("\n"),
    },
  };
}

/**
 * A build's sizes: the entry file and the chunks it imports statically (what a cold start loads
 * before the handler runs), and everything written (chunks loaded on demand included).
 * `outfile` is the entry's output, as given to `sstEsbuildOptions`.
 */
export function bundleSizes(
  metafile: Metafile,
  outfile: string,
): { loadedBytes: number; totalBytes: number } {
  const { outputs } = metafile;
  // Output paths are relative to the working directory; dynamic imports' chunks are entries too.
  const entry = Object.keys(outputs).find((file) => path.resolve(file) === path.resolve(outfile));
  if (!entry) throw new Error(`esbuild wrote no ${outfile}`);
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of outputs[file]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  const sum = (files: Iterable<string>) =>
    [...files].reduce((total, file) => total + (outputs[file]?.bytes ?? 0), 0);
  return { loadedBytes: sum(loaded), totalBytes: sum(Object.keys(outputs)) };
}
