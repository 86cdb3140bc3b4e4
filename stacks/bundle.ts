import type { BuildOptions } from "esbuild";
import plugins from "./esbuild-plugins.mjs";

/**
 * The `nodejs` options every function deploys with: ESM, minified, no source maps shipped; the
 * AWS SDK v3 comes from the `nodejs22.x` runtime, not the bundle (it is most of the weight, and
 * the runtime's is kept current by AWS), and zod keeps only its English messages.
 */
export const NODEJS = {
  format: "esm" as const,
  minify: true,
  sourcemap: false,
  esbuild: { external: ["@aws-sdk/*"] },
  plugins: "stacks/esbuild-plugins.mjs",
};

/**
 * The esbuild options SST 4's Go CLI uses to bundle a Node function (pkg/runtime/node/build.go),
 * for the same `nodejs` settings: the bundle-size script and the infrastructure tests build with
 * these, so what they measure is what `sst deploy` uploads (SST's binary embeds its own esbuild
 * version, so a few bytes may differ).
 */
export function sstEsbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    platform: "node",
    bundle: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    keepNames: true,
    minify: NODEJS.minify,
    sourcemap: NODEJS.sourcemap,
    metafile: true,
    write: true,
    logLevel: "silent",
    // SST always leaves these two out (native code); Firebreak uses neither.
    external: ["sharp", "pg-native", ...NODEJS.esbuild.external],
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
