import { ConfigError, formatIssues } from "@firebreak/core";
import type { z } from "zod";

/**
 * Reads environment variables through a schema once, failing fast with every bad name listed;
 * deep code never sees `process.env.X` as `string | undefined`.
 */
export function readEnv<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`Invalid environment: ${formatIssues(result.error, 20)}`);
  }
  return result.data;
}
