import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type ApiToken, ConfigError, formatIssues, parseApiTokens } from "@firebreak/core";
import type { DeployOptionsInput } from "@firebreak/stacks/options";
import * as z from "zod";
import type { LocalSecrets } from "./stack";

/** The local stack's environment, validated once: a bad value stops it with the variable named. */
export const LocalEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default(".data"),
  MONITORING_CONFIG: z.string().min(1).default("monitoring.config.ts"),
  /** A module exporting `DEPLOY` (another stage's deploy options); unset: stacks/deploy.ts. */
  DEPLOY_OPTIONS: z.string().min(1).optional(),
  API_TOKENS: z.string().optional(),
  SENTRY_CLIENT_SECRET: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  /** The token in the iCalendar feeds' URLs (`?token=`). */
  CALENDAR_TOKEN: z.string().min(16).optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  REMEDIATION_MODE: z.enum(["simulated", "live"]).default("simulated"),
  /** How often the escalation sweep runs locally (AWS: every minute). */
  ESCALATIONS_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  LOG_LEVEL: z
    .string()
    .transform((text) => text.toLowerCase())
    .pipe(z.enum(["debug", "info", "warn", "error"]))
    .default("info"),
});
export type LocalEnv = z.output<typeof LocalEnvSchema>;

export function readLocalEnv(env: NodeJS.ProcessEnv = process.env): LocalEnv {
  const result = LocalEnvSchema.safeParse(env);
  if (!result.success)
    throw new ConfigError(`Invalid environment: ${formatIssues(result.error, 20)}`);
  return result.data;
}

/** The deploy options a `DEPLOY_OPTIONS` module exports as `DEPLOY` (validated by the stack). */
export async function loadDeployOptions(path: string): Promise<DeployOptionsInput> {
  const absolute = resolve(path);
  let module: { DEPLOY?: unknown };
  try {
    module = (await import(pathToFileURL(absolute).href)) as { DEPLOY?: unknown };
  } catch (error) {
    throw new ConfigError(`Cannot read deploy options ${absolute}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof module.DEPLOY !== "object" || module.DEPLOY === null)
    throw new ConfigError(`Deploy options ${absolute} export no DEPLOY object`);
  return module.DEPLOY as DeployOptionsInput;
}

/** `DATA_DIR=memory` keeps DynamoDB and the queue in memory; anything else is a directory. */
export const dataDirOf = (env: LocalEnv): string | null =>
  env.DATA_DIR === "memory" ? null : resolve(env.DATA_DIR);

const newSecret = () => randomBytes(24).toString("base64url");

const StoredSecrets = z.object({
  apiToken: z.string(),
  sentryClientSecret: z.string(),
  slackSigningSecret: z.string(),
  // Added later than the others: a file without it gains one and keeps the rest.
  calendarToken: z.string().optional(),
});

/**
 * Dev secrets: from the environment when set, otherwise generated once and kept in DATA_DIR so a
 * restart keeps the same token (in memory mode they are new each start).
 */
export async function localSecrets(
  env: LocalEnv,
  dataDir: string | null,
): Promise<LocalSecrets & { generated: string[] }> {
  const file = dataDir ? join(dataDir, "dev-secrets.json") : null;
  let stored: z.infer<typeof StoredSecrets> | undefined;
  if (file) {
    stored = await readFile(file, "utf8")
      .then((text) => StoredSecrets.parse(JSON.parse(text)))
      .catch(() => undefined);
  }
  const fresh = {
    ...(stored ?? {
      apiToken: newSecret(),
      sentryClientSecret: newSecret(),
      slackSigningSecret: newSecret(),
    }),
    calendarToken: stored?.calendarToken ?? newSecret(),
  };
  if (file && !stored?.calendarToken)
    await writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 });

  const generated: string[] = [];
  let apiTokens: ApiToken[];
  if (env.API_TOKENS) apiTokens = parseApiTokens(env.API_TOKENS);
  else {
    apiTokens = [{ name: "local", token: fresh.apiToken }];
    generated.push("API_TOKENS");
  }
  if (!env.SENTRY_CLIENT_SECRET) generated.push("SENTRY_CLIENT_SECRET");
  if (!env.SLACK_SIGNING_SECRET) generated.push("SLACK_SIGNING_SECRET");
  if (!env.CALENDAR_TOKEN) generated.push("CALENDAR_TOKEN");
  return {
    apiTokens,
    sentryClientSecret: env.SENTRY_CLIENT_SECRET ?? fresh.sentryClientSecret,
    slackSigningSecret: env.SLACK_SIGNING_SECRET ?? fresh.slackSigningSecret,
    calendarToken: env.CALENDAR_TOKEN ?? fresh.calendarToken,
    generated,
  };
}
