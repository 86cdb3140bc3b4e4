// esbuild plugins for every function bundle (SST's `nodejs.plugins`, and scripts/bundle.ts).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

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

/** Where Firebreak's bundled sources live, relative to the repository. */
const SOURCE_DIRS = ["functions", "packages/aws/src", "packages/core/src", "events"];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The names each AWS SDK client package is imported by in Firebreak's sources (`import { A, B }
 * from "@aws-sdk/client-x"`, re-exports included), or "all" for a package imported whole
 * (`import * as`, or `import("@aws-sdk/client-x")`, whose namespace esbuild cannot shake).
 */
export function sdkClientImports(root = ROOT) {
  const imports = new Map();
  const files = SOURCE_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter(
        (entry) => entry.isFile() && /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name),
      )
      .map((entry) => join(entry.parentPath, entry.name)),
  );
  for (const file of files) {
    if (relative(root, file).split(/[\\/]/).includes("test")) continue;
    const source = readFileSync(file, "utf8");
    for (const [, names, pkg] of source.matchAll(
      /(?:import|export)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*"@aws-sdk\/(client-[a-z0-9-]+)"/g,
    )) {
      if (imports.get(pkg) === "all") continue;
      const set = imports.get(pkg) ?? new Set();
      for (const name of names.split(",")) {
        const imported = name
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)[0];
        if (imported) set.add(imported);
      }
      imports.set(pkg, set);
    }
    for (const [, pkg] of source.matchAll(
      /(?:import\s*\*\s*as\s+\w+\s+from\s*|import\(\s*)"@aws-sdk\/(client-[a-z0-9-]+)"/g,
    )) {
      imports.set(pkg, "all");
    }
  }
  return imports;
}

/**
 * An SDK v3 client registers every error its service models in its schemas module
 * (`n0_registry.registerError(ParameterNotFound$, ParameterNotFound)`), a call esbuild must keep,
 * so every error class and its schema stays in the bundle whatever the function uses: 111 of
 * the 125 KB Parameter Store's client takes for one GetParameter. Here a client Firebreak imports
 * by name keeps the registrations of the errors it imports (the ones it tells apart with
 * `instanceof`) and its service's base exception; any other error the service answers with is
 * still thrown, as the SDK throws errors it has no class for: an instance of the base exception
 * (`SSMServiceException`) whose `name` is the error's code, with its message and metadata, and
 * is retried as before (the SDK tells throttling and transient errors by name and status).
 * A client imported whole keeps everything. The build fails if the module no longer has the
 * registrations this expects (an SDK release that changed its layout).
 */
export const awsSdkErrorsImported = {
  name: "aws-sdk-errors-imported",
  setup(build) {
    const imports = sdkClientImports();
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/ },
      (args) => {
        const pkg = /(client-[a-z0-9-]+)[\\/]dist-es/.exec(args.path)?.[1];
        const kept = imports.get(pkg);
        if (kept === undefined || kept === "all") return undefined;
        const source = readFileSync(args.path, "utf8");
        const registration = /^(\w+)_registry\.registerError\((\w+)\$, (\w+)\);$/;
        let base = 0;
        let modeled = 0;
        const lines = source.split("\n").filter((line) => {
          const match = registration.exec(line);
          if (!match) return true;
          if (match[1] === "_s") return ++base > 0;
          modeled += 1;
          return kept.has(match[3]);
        });
        if (base !== 1 || modeled === 0) {
          throw new Error(
            `aws-sdk-errors-imported: ${args.path} has ${base} base and ${modeled} modeled error registrations; expected 1 and some (has the SDK's layout changed?)`,
          );
        }
        return { contents: lines.join("\n"), loader: "js", resolveDir: dirname(args.path) };
      },
    );
  },
};

/**
 * Every function's schemas parse without zod's JIT (functions/lib/zod-jitless.ts says why). zod
 * reads its `jitless` setting when a schema is built, and a split bundle does not keep an entry's
 * first import first (esbuild hoists the shared chunks, schemas included, above it), so the
 * setting is zod's own default here: its global config starts as `{ jitless: true }`. The build
 * fails if zod's module no longer starts its config this way (a release that changed it).
 */
export const zodJitless = {
  name: "zod-jitless",
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]core[\\/]core\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const start = "(_a.__zod_globalConfig = {})";
      if (source.split(start).length !== 2) {
        throw new Error(
          `zod-jitless: ${args.path} does not start its global config with ${start} once (has zod's layout changed?)`,
        );
      }
      return {
        contents: source.replace(start, "(_a.__zod_globalConfig = { jitless: true })"),
        loader: "js",
        resolveDir: dirname(args.path),
      };
    });
  },
};

export default [
  zodEnglishOnly,
  zodJitless,
  zodMembersForPowertools,
  powertoolsSchemasPure,
  awsSdkErrorsImported,
];
