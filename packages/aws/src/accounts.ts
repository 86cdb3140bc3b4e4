import type { MonitoringConfig } from "@firebreak/core";
import * as z from "zod";

type AccountConfig = MonitoringConfig["accounts"][string];

/** Credentials as SDK v3 clients take them (an `AwsCredentialIdentity`). */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** A provider SDK v3 clients call for credentials, and again as they near their expiry. */
export type CredentialsProvider = () => Promise<TemporaryCredentials>;

/** STS `AssumeRole`'s input, as the SDK's `AssumeRoleCommand` takes it. */
export interface AssumeRoleInput {
  RoleArn: string;
  RoleSessionName: string;
  ExternalId?: string;
  DurationSeconds: number;
}

/** The part of `AssumeRole`'s output Firebreak reads, checked rather than trusted. */
const AssumeRoleOutputSchema = z.object({
  Credentials: z.object({
    AccessKeyId: z.string().min(1),
    SecretAccessKey: z.string().min(1),
    SessionToken: z.string().min(1),
    Expiration: z.coerce.date(),
  }),
});

/** The STS calls account access makes: one `AssumeRole`, and `GetCallerIdentity` once. */
export interface StsApi {
  assumeRole(input: AssumeRoleInput): Promise<unknown>;
  /** The account Firebreak's own credentials belong to. */
  callerAccount(): Promise<string>;
}

/** Where a request for an account goes: Firebreak's own credentials, a role, or nowhere. */
export type AccountRoute =
  | { kind: "own" }
  | { kind: "role"; account: string; roleArn: string; credentials: CredentialsProvider }
  | { kind: "unknown"; account: string };

export interface AccountAccessOptions {
  accounts: Readonly<Record<string, AccountConfig>>;
  sts: StsApi;
  /** Names the session in the member account's CloudTrail. Default `firebreak`. */
  sessionName?: string;
  /** Default 900 s, STS's minimum: a remediation needs minutes, not hours. */
  durationSeconds?: number;
  clock?: () => number;
}

/**
 * Credentials are renewed this long before they expire, so that no call starts with a session
 * that lapses on its way (the SDK's own refresh window is five minutes too).
 */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/**
 * Access to the organization's member accounts: a request names its account; Firebreak's own
 * account uses its own credentials, a member account in `accounts` the role there (STS
 * `AssumeRole`, with the `ExternalId` its trust policy asks for), and any other account none.
 * A role's credentials are kept until five minutes before they expire, so a cold start assumes
 * each role once.
 *
 * @example
 * const access = new AccountAccess({ accounts: config.accounts, sts: sdkSts(region) });
 * const route = await access.route("111122223333"); // { kind: "role", roleArn, credentials }
 */
export class AccountAccess {
  private readonly cached = new Map<string, Promise<TemporaryCredentials>>();
  private ownAccount: Promise<string> | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: AccountAccessOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Where requests for `account` go; no account means Firebreak's own. */
  async route(account: string | undefined): Promise<AccountRoute> {
    if (account === undefined) return { kind: "own" };
    const configured = Object.hasOwn(this.options.accounts, account)
      ? this.options.accounts[account]
      : undefined;
    if (configured) {
      return {
        kind: "role",
        account,
        roleArn: configured.roleArn,
        credentials: () => this.credentials(account, configured),
      };
    }
    // Asked only for an account outside `accounts`: most requests never need it.
    this.ownAccount ??= this.options.sts.callerAccount().catch((error: unknown) => {
      this.ownAccount = undefined;
      throw error;
    });
    return account === (await this.ownAccount) ? { kind: "own" } : { kind: "unknown", account };
  }

  private credentials(account: string, config: AccountConfig): Promise<TemporaryCredentials> {
    const held = this.cached.get(account);
    if (held) {
      // A session still being assumed is shared; a settled one is checked for its expiry.
      return held.then((credentials) =>
        credentials.expiration.getTime() - RENEW_BEFORE_MS > this.clock()
          ? credentials
          : this.renew(account, config, held),
      );
    }
    return this.renew(account, config, undefined);
  }

  private renew(
    account: string,
    config: AccountConfig,
    stale: Promise<TemporaryCredentials> | undefined,
  ): Promise<TemporaryCredentials> {
    // Concurrent callers that all found the same stale session assume the role once.
    const current = this.cached.get(account);
    if (current && current !== stale) return current;
    const assumed = this.assume(config);
    this.cached.set(account, assumed);
    assumed.catch(() => {
      if (this.cached.get(account) === assumed) this.cached.delete(account);
    });
    return assumed;
  }

  private async assume(config: AccountConfig): Promise<TemporaryCredentials> {
    const output = AssumeRoleOutputSchema.parse(
      await this.options.sts.assumeRole({
        RoleArn: config.roleArn,
        RoleSessionName: this.options.sessionName ?? "firebreak",
        ...(config.externalId ? { ExternalId: config.externalId } : {}),
        DurationSeconds: this.options.durationSeconds ?? 900,
      }),
    );
    return {
      accessKeyId: output.Credentials.AccessKeyId,
      secretAccessKey: output.Credentials.SecretAccessKey,
      sessionToken: output.Credentials.SessionToken,
      expiration: output.Credentials.Expiration,
    };
  }
}

/**
 * STS through the Lambda runtime's SDK (`@aws-sdk/client-sts`), on the regional endpoint. The
 * package is not among this repository's installed dependencies, so it is loaded by name on
 * first use, as the runtime provides it; a machine without it fails then, saying so.
 */
export function sdkSts(region: string): StsApi {
  let loaded: Promise<{ client: SdkSender; sdk: Record<StsExport, SdkConstructor> }> | undefined;
  const load = () => {
    loaded ??= importRuntimeSdk("@aws-sdk/client-sts", STS_EXPORTS).then(
      (sdk) => ({ client: new sdk.STSClient({ region, maxAttempts: 3 }) as SdkSender, sdk }),
      (error: unknown) => {
        loaded = undefined;
        throw error;
      },
    );
    return loaded;
  };
  return {
    assumeRole: async (input) => {
      const { client, sdk } = await load();
      return client.send(new sdk.AssumeRoleCommand(input));
    },
    callerAccount: async () => {
      const { client, sdk } = await load();
      const { Account } = z
        .object({ Account: z.string() })
        .parse(await client.send(new sdk.GetCallerIdentityCommand({})));
      return Account;
    },
  };
}

const STS_EXPORTS = ["STSClient", "AssumeRoleCommand", "GetCallerIdentityCommand"] as const;
type StsExport = (typeof STS_EXPORTS)[number];

/** What the reader and STS adapters need of an SDK v3 client. */
export interface SdkSender {
  send(command: object): Promise<unknown>;
}

type SdkConstructor = new (input: object) => object;

/**
 * An SDK package the Lambda runtime provides but this repository does not install, with the
 * named exports checked. The specifier is a variable so that neither the type checker nor the
 * bundler looks for it here.
 */
export async function importRuntimeSdk<Name extends string>(
  specifier: string,
  names: readonly Name[],
): Promise<Record<Name, SdkConstructor>> {
  let sdk: Record<string, unknown>;
  try {
    sdk = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${specifier} is not available here (the Lambda runtime provides it)`, {
      cause: error,
    });
  }
  for (const name of names) {
    if (typeof sdk[name] !== "function") throw new Error(`${specifier} has no ${name}`);
  }
  return sdk as Record<Name, SdkConstructor>;
}
