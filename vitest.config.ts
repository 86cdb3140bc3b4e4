import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", ".sst/**", "**/*.soak.test.ts"],
    // Two cores here: one worker per core keeps the embedded DynamoDB suites from starving.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Focused tests must never reach main.
    allowOnly: false,
    // Temporary directories a stopped worker could not remove go when the run ends.
    globalSetup: ["./vitest.global-setup.ts"],
    // The SDK warns that Node 20 support ends in 2027; Lambda runs nodejs22.x.
    // Handlers log through Powertools; a test asserts on what they return, not on their logs.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: "SILENT",
    },
  },
});
