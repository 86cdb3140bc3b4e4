import { deployOptions } from "@firebreak/stacks/options";
import { describe, expect, it } from "vitest";
import { loadDeployOptions, readLocalEnv } from "../src/settings";

describe("the local stack's settings", () => {
  it("refuses a bad variable, naming it", () => {
    expect(() => readLocalEnv({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => readLocalEnv({ DEPLOY_OPTIONS: "" })).toThrow(/DEPLOY_OPTIONS/);
  });

  it("runs with another stage's deploy options from DEPLOY_OPTIONS", async () => {
    const input = await loadDeployOptions("bench/bench.deploy.ts");
    const options = deployOptions(input);
    expect(options.api.webhookRateLimit).toBe(10_000);
    // Everything else is the repository's, validated as a deploy would.
    expect(options.processor).toEqual(deployOptions().processor);
  });

  it("names the file that cannot be read or exports no DEPLOY", async () => {
    await expect(loadDeployOptions("no/such/deploy.ts")).rejects.toThrow(
      /Cannot read deploy options .*no\/such\/deploy\.ts/,
    );
    await expect(loadDeployOptions("monitoring.config.ts")).rejects.toThrow(
      /monitoring\.config\.ts export no DEPLOY object/,
    );
  });
});
