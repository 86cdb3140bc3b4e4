/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    // Keep in step with DEPLOY.productionStages (stacks/deploy.ts): no imports are allowed here.
    const production = ["production", "prod"].includes(input.stage);
    return {
      name: "firebreak",
      home: "aws",
      // Production keeps its table when the stack goes, and refuses `sst remove`.
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },
  async run() {
    // SST allows no top-level imports here: the stacks and the policy load in run().
    const { firebreak } = await import("./stacks");
    const { DEPLOY } = await import("./stacks/deploy");
    const policy = await import("./monitoring.config");
    const { outputs } = firebreak({
      config: policy.default,
      configOrigin: "monitoring.config.ts",
      options: DEPLOY,
    });
    return outputs;
  },
});
