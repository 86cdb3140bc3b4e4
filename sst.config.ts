/// <reference path="./.sst/platform/config.d.ts" />

/**
 * How each stage is deployed (validated by stacks/options.ts, which documents every key). The
 * policy itself (rules, channels, remediations) is monitoring.config.ts.
 */
const deploy = {
  productionStages: ["production", "prod"],
  // CloudWatch Logs groups whose lines become signals, e.g. "/aws/lambda/checkout" or
  // { name: "/ecs/orders", filterPattern: "?ERROR ?FATAL ?Exception" }.
  logGroups: [],
  alarms: { heartbeat: "6h", emails: [] },
};

export default $config({
  app(input) {
    const production = deploy.productionStages.includes(input.stage);
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
    const policy = await import("./monitoring.config");
    const { outputs } = firebreak({
      config: policy.default,
      configOrigin: "monitoring.config.ts",
      options: deploy,
    });
    return outputs;
  },
});
