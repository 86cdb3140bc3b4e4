import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import * as z from "zod";
import { ConfigError } from "../errors";
import type { MonitoringConfig } from "./schema";

/**
 * The deployed policy's file format: the config as `parseConfig` returned it (defaults applied,
 * durations in milliseconds, levels normalised), validated by the deploy that wrote it.
 */
export const DEPLOYED_POLICY_FORMAT = "firebreak-policy/1";

const DeployedPolicySchema = z.object({
  format: z.literal(DEPLOYED_POLICY_FORMAT),
  config: z.record(z.string(), z.unknown()),
});

/** Why a value would not come back from JSON as it is, or null when it would. */
function jsonProblem(value: unknown, path: string): string | null {
  if (value === null || typeof value === "string" || typeof value === "boolean") return null;
  if (typeof value === "number") return Number.isFinite(value) ? null : `${path} is ${value}`;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem =
        item === undefined
          ? `${path}[${index}] is undefined`
          : jsonProblem(item, `${path}[${index}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const problem = jsonProblem(item, `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return `${path} is a ${typeof value === "object" ? value.constructor?.name : typeof value}`;
}

/**
 * The file a deploy ships beside each function (`MONITORING_CONFIG`): the config already parsed,
 * so a cold start reads it without building or running the config's schema (about 130 ms of a
 * Lambda cold start, re2js and luxon included).
 *
 * @param config what `parseConfig` returned for the deploy's policy
 * @throws ConfigError when a value would not survive JSON
 * @example
 * writeFileSync("firebreak.config.json", deployedPolicyJson(parseConfig(monitoringConfig)));
 */
export function deployedPolicyJson(config: MonitoringConfig): string {
  const problem = jsonProblem(config, "config");
  if (problem) throw new ConfigError(`the parsed policy does not survive JSON: ${problem}`);
  return `${JSON.stringify({ format: DEPLOYED_POLICY_FORMAT, config }, null, 2)}\n`;
}

/**
 * Loads what `deployedPolicyJson` wrote. The config inside is trusted: the deploy validated it
 * with the config schema and nothing but a deploy writes the file. A file in another form (a
 * policy written by hand as JSON) is validated in full, with the schema loaded for it alone.
 *
 * @throws ConfigError when the file cannot be read, is not JSON, or is not a valid policy
 * @example
 * const config = await loadDeployedPolicy(process.env.MONITORING_CONFIG);
 */
export async function loadDeployedPolicy(path: string): Promise<MonitoringConfig> {
  const absolute = resolve(path);
  let input: unknown;
  try {
    input = JSON.parse(await readFile(absolute, "utf8"));
  } catch (error) {
    throw new ConfigError(
      `Cannot read monitoring config ${absolute}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const deployed = DeployedPolicySchema.safeParse(input);
  // Validated by the deploy that wrote it (deployedPolicyJson's caller parsed it first).
  if (deployed.success) return deployed.data.config as unknown as MonitoringConfig;
  const { parseConfig } = await import("./load");
  return parseConfig(input, absolute);
}
