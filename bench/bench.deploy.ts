import { DEPLOY as REPOSITORY } from "../stacks/deploy";
import type { DeployOptionsInput } from "../stacks/options";

/**
 * The repository's deploy options, with the webhook routes' throttle at its highest: the
 * distinct scenario sends Sentry webhooks as fast as 16 clients can, to measure the pipeline,
 * and the deployed 200 a second (burst 500) would answer most of them 429, as API Gateway would.
 */
export const DEPLOY: DeployOptionsInput = {
  ...REPOSITORY,
  api: { ...REPOSITORY.api, webhookRateLimit: 10_000, webhookBurstLimit: 5_000 },
};
