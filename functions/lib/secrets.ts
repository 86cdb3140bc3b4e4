import { sstSecretName } from "@firebreak/core";
import { Resource } from "sst/resource";

/** Secrets SST linked to this function: it encrypts them into the bundle (`SST_KEY_FILE`). */
const linked = () => Boolean(process.env.SST_KEY_FILE || process.env.SST_RESOURCES_JSON);

/**
 * A secret by its environment name (`SENTRY_CLIENT_SECRET`, `PAGERDUTY_ONCALL_KEY`): in AWS the
 * SST secret linked to this function (decrypted on first use, never in the function's
 * configuration); locally, the environment variable.
 */
export function readSecret(envName: string): string | undefined {
  if (linked()) {
    const resources = Resource as unknown as Record<string, { value?: unknown } | undefined>;
    const name = sstSecretName(envName);
    if (name in resources) {
      const value = resources[name]?.value;
      if (typeof value === "string" && value) return value;
    }
  }
  return process.env[envName] || undefined;
}

/** Every secret by environment name, for `env:NAME` references in the policy's channels. */
export const secretEnvironment = (): Record<string, string | undefined> =>
  new Proxy(
    {},
    { get: (_target, name) => (typeof name === "string" ? readSecret(name) : undefined) },
  );
