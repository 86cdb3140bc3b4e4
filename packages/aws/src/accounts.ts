import type { AssumeRoleCommandInput } from "@aws-sdk/client-sts";
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

/** The part of `AssumeRole`'s output Firebreak reads, checked rather than trusted. */
const AssumeRoleOutputSchema = z.object({
  Credentials: z.object({
    AccessKeyId: z.string().min(1),
    SecretAccessKey: z.string().min(1),
    SessionToken: z.string().min(1),
    Expiration: z.coerce.date(),
  }),
});

/**
 * The STS calls account access makes: one `AssumeRole` per session, and `GetCallerIdentity`
 * once ({@link sdkSts} on AWS).
 */
export interface StsApi {
  assumeRole(input: AssumeRoleCommandInput): Promise<unknown>;
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

/** The STS package and one client in `region`, imported on first use. */
async function loadSts(region: string) {
  const sdk = await import("./sdk/sts");
  return { sdk, client: new sdk.STSClient({ region, maxAttempts: 3 }) };
}

/**
 * STS on SDK v3, on the regional endpoint. The client package is imported on the first call, so
 * that a cold start with no member account to reach never loads it.
 */
export function sdkSts(region: string): StsApi {
  let loaded: ReturnType<typeof loadSts> | undefined;
  const load = () => {
    loaded ??= loadSts(region);
    return loaded;
  };
  return {
    assumeRole: async (input) => {
      const { sdk, client } = await load();
      return client.send(new sdk.AssumeRoleCommand(input));
    },
    callerAccount: async () => {
      const { sdk, client } = await load();
      const { Account } = z
        .object({ Account: z.string() })
        .parse(await client.send(new sdk.GetCallerIdentityCommand({})));
      return Account;
    },
  };
}
