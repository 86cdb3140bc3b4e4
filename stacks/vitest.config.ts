import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The infrastructure tests (`npm run test:infra`): they need `.sst/platform` from `sst install`,
 * so they are `*.spec.ts`, outside the root suite (`*.test.ts`), which a fresh clone runs as is.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["stacks/test/**/*.spec.ts"],
    // Every file runs the stacks from scratch in its own process (Pulumi's runtime is global).
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    // Synthesis bundles every function: ~50 s alone, several minutes with both cores busy.
    hookTimeout: 600_000,
    allowOnly: false,
    // Temporary directories a stopped worker could not remove go when the run ends.
    globalSetup: ["./vitest.global-setup.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
