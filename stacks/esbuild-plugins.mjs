// esbuild plugins for every function bundle (SST's `nodejs.plugins`, and scripts/bundle.ts).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * zod ships every locale's error messages (about 250 KB minified) behind `z.locales`, and any
 * `import { z } from "zod"` (Powertools' parser has one) keeps them all. Firebreak's messages are
 * English: bundle only `en`.
 */
export const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), "../locales/en.js"), namespace: "zod-locales" };
    });
    build.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};

/**
 * Powertools' parser imports `{ z }`, zod's namespace as one object, which keeps all of zod in
 * the bundle (about 100 KB minified more than Firebreak's own `import * as z` uses). Each of its
 * modules gets instead an object holding exactly the members that module reads (`z.string`,
 * `z.iso.datetime`...), found in its source, so esbuild drops the rest. A member the scan missed
 * would fail at load, on the first cold start: bench/cold-start.ts runs every bundle.
 */
export const zodMembersForPowertools = {
  name: "zod-members-for-powertools",
  async setup(build) {
    const zodExports = await import("zod");
    build.onResolve({ filter: /^zod$/ }, (args) => {
      // The object's own import of zod (from this namespace) is the real package.
      if (args.namespace === "powertools-zod") return undefined;
      if (!/[\\/]@aws-lambda-powertools[\\/]/.test(args.importer)) return undefined;
      return { path: args.importer, namespace: "powertools-zod" };
    });
    build.onLoad({ filter: /.*/, namespace: "powertools-zod" }, (args) => {
      // `z` may be followed by a line break (`z\n  .union(...)`). Comments count too (stripping
      // them is not safe: "*/*" occurs in strings); names zod does not export (`z.infer` in an
      // example) are left out.
      const source = readFileSync(args.path, "utf8");
      const members = [
        ...new Set([...source.matchAll(/\bz\s*\.\s*([A-Za-z_$][\w$]*)/g)].map((m) => m[1])),
      ].filter((member) => member in zodExports);
      const object = members.map((member) => `${JSON.stringify(member)}: zod.${member}`).join(", ");
      return {
        contents: `import * as zod from "zod";\nexport * from "zod";\nexport const z = { ${object} };\n`,
        // Resolved from the importer's folder, so "zod" is the same package Powertools would get.
        resolveDir: dirname(args.path),
        loader: "js",
      };
    });
  },
};

/**
 * Powertools' parser declares no `sideEffects`, so a bundle that imports one schema from its
 * barrel (`SqsSchema` from `@aws-lambda-powertools/parser/schemas`) keeps every event schema it
 * has (Cognito, S3, Kafka, AppSync...: about 36 KB of zod schemas built at import). Its schema
 * modules only define schemas: marked free of side effects, esbuild keeps the ones used.
 */
export const powertoolsSchemasPure = {
  name: "powertools-schemas-pure",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData?.powertoolsSchemasPure) return undefined;
      if (
        !/[\\/]@aws-lambda-powertools[\\/]parser[\\/]lib[\\/]esm[\\/]schemas[\\/]/.test(
          args.importer,
        )
      ) {
        return undefined;
      }
      const result = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { powertoolsSchemasPure: true },
      });
      return result.errors.length > 0 ? undefined : { ...result, sideEffects: false };
    });
  },
};

export default [zodEnglishOnly, zodMembersForPowertools, powertoolsSchemasPure];
