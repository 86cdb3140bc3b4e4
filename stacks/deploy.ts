import type { DeployOptionsInput } from "./options";

/**
 * How this repository's stages are deployed (validated by stacks/options.ts, which documents
 * every key). `sst deploy` and the local stack both read it, so `npm start` runs with the batch
 * sizes, concurrency and throttles a deploy creates. The policy itself (rules, channels,
 * remediations) is monitoring.config.ts.
 */
export const DEPLOY: DeployOptionsInput = {
  productionStages: ["production", "prod"],
  // CloudWatch Logs groups whose lines become signals, e.g. "/aws/lambda/checkout" or
  // { name: "/ecs/orders", filterPattern: "?ERROR ?FATAL ?Exception" }.
  logGroups: [],
  alarms: { heartbeat: "6h", emails: [] },
  // An organization's member accounts forwarding their events here: organizationId: "o-a1b2c3d4e5".
};
