import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, formatIssues } from "../errors";
import { ConfigSchema, type MonitoringConfig } from "./schema";

/**
 * Validates a config object, naming every bad path.
 * @param origin where it came from, for the error message (a file path)
 */
export function parseConfig(input: unknown, origin = "config"): MonitoringConfig {
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      `Invalid monitoring config in ${origin}: ${formatIssues(result.error, 20)}`,
    );
  }
  return result.data;
}

/**
 * Loads the policy from a `.json` file, or a `.ts`/`.js` module whose default export is the
 * config (TypeScript works where a loader is present: the local stack, tests).
 */
export async function loadConfigFile(path: string): Promise<MonitoringConfig> {
  const absolute = resolve(path);
  let input: unknown;
  try {
    if (extname(absolute) === ".json") {
      input = JSON.parse(await readFile(absolute, "utf8"));
    } else {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      input = module.default;
    }
  } catch (error) {
    throw new ConfigError(
      `Cannot read monitoring config ${absolute}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parseConfig(input, absolute);
}
