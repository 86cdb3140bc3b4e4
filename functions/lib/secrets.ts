import type { SSMClient } from "@aws-sdk/client-ssm";
import { ConfigError, sstSecretName } from "@firebreak/core";
import * as z from "zod";
import { envCredentials } from "./credentials";
import { readEnv } from "./env";

/**
 * Where a stage's secrets live in Parameter Store (`/firebreak/prod`): the stacks set it, and it
 * is the only trace of the secrets in a function's configuration. Unset, secrets are environment
 * variables (the local stack, tests, the cold-start bench without its SSM stand-in).
 */
const SecretsEnvSchema = z.object({
  SECRETS_PATH: z
    .string()
    .regex(/^(\/[A-Za-z0-9_.-]+)+$/, "a Parameter Store path such as /firebreak/prod")
    .optional(),
});

/**
 * The parameter that holds a secret, by its environment name:
 * `secretParameterName("/firebreak/prod", "API_TOKENS")` is `/firebreak/prod/ApiTokens`.
 */
export const secretParameterName = (path: string, envName: string) =>
  `${path}/${sstSecretName(envName)}`;

export interface SecretReaderOptions {
  /** The stage's parameter path; absent, secrets come from `env`. */
  path?: string;
  /** The SSM client (tests and tracing swap it); built once, on the first read, when absent. */
  client?: SSMClient;
  /**
   * How long a value read from SSM is kept. The ports keep what they built for the life of the
   * execution environment anyway; this stops two readers of one parameter from calling twice.
   */
  maxAgeSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

export interface SecretReader {
  /**
   * A secret by its environment name (`SENTRY_CLIENT_SECRET`, `PAGERDUTY_ONCALL_KEY`).
   * @throws ConfigError naming the parameter or variable when it is not set (never its value)
   */
  read(envName: string): Promise<string>;
}

/** One hour: values are read at cold start; a rotated secret reaches new environments. */
const DEFAULT_MAX_AGE_SECONDS = 3600;

/**
 * Reads secrets from SSM Parameter Store (SecureString, decrypted by SSM with the function's own
 * permissions) when a path is given, else from the environment. The SSM client loads only on the
 * first SSM read, so a function that reads no secret pays nothing for it; one GetParameter per
 * secret, with the SDK's own client rather than Powertools' provider (about 35 KB less to load
 * at a cold start, and the caching it added is the few lines below).
 *
 * @example
 * const secrets = createSecretReader({ path: "/firebreak/prod" });
 * const tokens = await secrets.read("API_TOKENS"); // GetParameter /firebreak/prod/ApiTokens
 */
export function createSecretReader(options: SecretReaderOptions = {}): SecretReader {
  const env = options.env ?? process.env;
  const { path } = options;
  if (path === undefined) {
    return {
      read: async (envName) => {
        const value = env[envName];
        if (!value) throw new ConfigError(`secret ${envName}: environment variable is not set`);
        return value;
      },
    };
  }
  const maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
  let client: Promise<SSMClient> | undefined;
  const ssm = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : import("./adapters/ssm").then(
          ({ SSMClient }) =>
            new SSMClient({
              // A hung call fails instead, and the SDK's retries (and Lambda's) take over.
              requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
              // The role's credentials as Lambda sets them, without the default chain.
              credentials: envCredentials(options.env ?? process.env),
            }),
        );
    return client;
  };
  // One read per parameter at a time and per maximum age; a failed read is not kept.
  const kept = new Map<string, { value: Promise<string>; until: number }>();
  const fetchValue = async (envName: string, name: string): Promise<string> => {
    const [sdk, { GetParameterCommand, ParameterNotFound }] = await Promise.all([
      ssm(),
      import("./adapters/ssm"),
    ]);
    try {
      const { Parameter } = await sdk.send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      if (!Parameter?.Value) throw new ParameterNotFound({ message: name, $metadata: {} });
      return Parameter.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) {
        throw new ConfigError(
          `secret ${envName}: SSM parameter ${name} does not exist (create it with: aws ssm put-parameter --type SecureString --name ${name} --value ...)`,
          { cause: error },
        );
      }
      throw error;
    }
  };
  return {
    read: (envName) => {
      const name = secretParameterName(path, envName);
      const now = Date.now();
      const cached = kept.get(name);
      if (cached && cached.until > now) return cached.value;
      const value = fetchValue(envName, name);
      kept.set(name, { value, until: now + maxAgeMs });
      value.catch(() => {
        if (kept.get(name)?.value === value) kept.delete(name);
      });
      return value;
    },
  };
}

let stageReader: SecretReader | undefined;

/** The reader this function's environment configures (`SECRETS_PATH`), made once. */
export function stageSecrets(): SecretReader {
  stageReader ??= createSecretReader({ path: readEnv(SecretsEnvSchema).SECRETS_PATH });
  return stageReader;
}
