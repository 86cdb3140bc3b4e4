import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The structured JSON logger of one function. Level from `LOG_LEVEL` (Powertools also reads
 * `POWERTOOLS_LOG_LEVEL`); the local stack sets WARN so its console stays readable.
 */
export function createLogger(functionName: string): Logger {
  return new Logger({ serviceName: "firebreak", persistentKeys: { function: functionName } });
}
