import {
  AccountNotConfiguredError,
  AwsCallError,
  type AwsGateway,
  type AwsRequest,
  type AwsService,
} from "@firebreak/core";
import type { AccountRoute, CredentialsProvider } from "./accounts";

/**
 * What the gateway needs of an SDK v3 client. Any client (or an X-Ray-wrapped one) fits: the
 * gateway only hands it commands taken from its own table.
 */
export interface SdkClient {
  send(command: object): Promise<unknown>;
}

/**
 * Builds the client of one service in one region, with a member account's credentials when
 * given; called once per (service, region, account).
 */
export type SdkClientFactory = (
  service: AwsService,
  region: string,
  credentials?: CredentialsProvider,
) => SdkClient | Promise<SdkClient>;

/** Says where a request for an account goes (`AccountAccess` on AWS). */
export interface AccountRouter {
  route(account: string | undefined): Promise<AccountRoute>;
}

export interface AwsSdkGatewayOptions {
  /** Region of requests that name none. */
  region: string;
  /** Defaults to {@link createSdkClient}; swap it to wrap clients (X-Ray) or in tests. */
  clientFactory?: SdkClientFactory;
  /**
   * Member accounts: a request naming an account goes through the role there. Without it
   * every request uses the gateway's own credentials.
   */
  accounts?: AccountRouter;
}

/**
 * The SDK's standard retry mode already retries throttling and transient faults with backoff
 * inside one call; 3 attempts keeps a remediation step well inside its Lambda's time budget.
 */
const MAX_ATTEMPTS = 3;

/** What every SDK client Firebreak builds for remediation and paging is configured with. */
export interface SdkClientSettings {
  maxAttempts: number;
  /**
   * The Node HTTP handler's limits: a call that cannot connect or answer in time fails as a
   * `TimeoutError` (retryable), instead of hanging until the Lambda itself times out.
   */
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

const settings = (requestTimeout: number): SdkClientSettings => ({
  maxAttempts: MAX_ATTEMPTS,
  // A regional endpoint connects in tens of milliseconds; a second means it will not.
  requestHandler: { connectionTimeout: 1_000, requestTimeout },
});

/**
 * Each client's settings, in one place. The request timeout is per attempt: with 3 attempts
 * and backoff the slowest call stays well under a minute, inside the dispatcher's 120 s. Most
 * of these APIs answer in well under a second; RDS (the Query API, describing whole clusters)
 * and Route 53 (ChangeResourceRecordSets validates the batch before answering) get longer.
 */
export const SDK_CLIENT_SETTINGS: Readonly<Record<AwsService, SdkClientSettings>> = {
  ecs: settings(5_000),
  "application-autoscaling": settings(5_000),
  autoscaling: settings(5_000),
  lambda: settings(5_000),
  codedeploy: settings(5_000),
  rds: settings(10_000),
  route53: settings(10_000),
  // A page held up for long is worse than one retried: the dispatcher retries per channel.
  sns: settings(5_000),
};

type ClientClass = new (
  config: { region: string; credentials?: CredentialsProvider } & SdkClientSettings,
) => SdkClient;
// Constructors differ in their input types; `never` accepts them all, the one cast is in `send`.
type CommandClass = new (input: never) => object;

interface ServiceEntry {
  /**
   * The service's client and commands (./sdk), imported on first use: loading a client costs
   * a cold start 20 to 90 ms, so the dispatcher loads only the services its actions call.
   */
  sdk: () => Promise<object>;
  /** The client class, by its export name. */
  client: string;
  /** Each operation's command is the module's `<operation>Command` export. */
  operations: readonly string[];
}

/**
 * Every operation remediation may perform, and nothing else. Core's actions declare these same
 * operations (and the IAM permissions they need); a request outside this table is a bug or an
 * attack, and is refused before any client exists.
 */
const SERVICES: Readonly<Record<AwsService, ServiceEntry>> = {
  ecs: {
    sdk: () => import("./sdk/ecs"),
    client: "ECSClient",
    operations: ["DescribeServices", "UpdateService", "ListTaskDefinitions"],
  },
  "application-autoscaling": {
    sdk: () => import("./sdk/application-auto-scaling"),
    client: "ApplicationAutoScalingClient",
    operations: ["DescribeScalableTargets", "RegisterScalableTarget"],
  },
  autoscaling: {
    sdk: () => import("./sdk/auto-scaling"),
    client: "AutoScalingClient",
    operations: ["DescribeAutoScalingGroups", "SetDesiredCapacity"],
  },
  lambda: {
    sdk: () => import("./sdk/lambda"),
    client: "LambdaClient",
    operations: [
      "GetProvisionedConcurrencyConfig",
      "PutProvisionedConcurrencyConfig",
      "GetAlias",
      "ListVersionsByFunction",
      "UpdateAlias",
    ],
  },
  codedeploy: {
    sdk: () => import("./sdk/codedeploy"),
    client: "CodeDeployClient",
    operations: ["ListDeployments", "GetDeployment", "StopDeployment", "CreateDeployment"],
  },
  rds: {
    sdk: () => import("./sdk/rds"),
    client: "RDSClient",
    operations: ["DescribeDBClusters", "FailoverDBCluster"],
  },
  route53: {
    sdk: () => import("./sdk/route-53"),
    client: "Route53Client",
    operations: ["ListResourceRecordSets", "ChangeResourceRecordSets"],
  },
  sns: {
    sdk: () => import("./sdk/sns"),
    client: "SNSClient",
    operations: ["Publish"],
  },
};

/** The operations the gateway sends, per service (for tests and for checking declarations). */
export const AWS_GATEWAY_OPERATIONS: Readonly<Record<AwsService, readonly string[]>> =
  Object.freeze(
    Object.fromEntries(
      Object.entries(SERVICES).map(([service, entry]) => [
        service,
        Object.freeze([...entry.operations]),
      ]),
    ) as Record<AwsService, readonly string[]>,
  );

/** A service's SDK package, as the classes the table names (the one untyped step). */
async function sdkOf(service: AwsService): Promise<Record<string, unknown>> {
  return (await SERVICES[service].sdk()) as Record<string, unknown>;
}

/** The command class of an operation the table allows. */
export async function commandOf(service: AwsService, operation: string): Promise<CommandClass> {
  const Command = (await sdkOf(service))[`${operation}Command`];
  if (typeof Command !== "function") {
    throw new Error(`@aws-sdk has no ${operation}Command for ${service}`);
  }
  return Command as CommandClass;
}

/** The default client factory: the service's SDK v3 client with its {@link SDK_CLIENT_SETTINGS}. */
export const createSdkClient: SdkClientFactory = async (service, region, credentials) => {
  const Client = (await sdkOf(service))[SERVICES[service].client] as ClientClass;
  return new Client({
    region,
    ...SDK_CLIENT_SETTINGS[service],
    ...(credentials ? { credentials } : {}),
  });
};

/**
 * Regions become part of the endpoint's host name; anything that does not look like a region
 * ("us-east-1", "us-gov-west-1", "cn-north-1") is refused rather than sent somewhere else.
 */
export function isRegionName(region: string): boolean {
  return /^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$/.test(region);
}

/**
 * The remediation gateway on AWS SDK v3: looks each (service, operation) up in a fixed table of
 * SDK commands, sends the request's input as is, and returns the SDK's output as is. SDK errors
 * become {@link AwsCallError}s that say whether a later attempt may help. A request naming a
 * member account is sent with the credentials of the role `accounts` names there; an account
 * with none is refused with {@link AccountNotConfiguredError} before anything is sent.
 *
 * @example
 * ```ts
 * const gateway = new AwsSdkGateway({ region: "eu-west-1" });
 * const output = await gateway.send({
 *   service: "ecs",
 *   operation: "UpdateService",
 *   input: { cluster: "prod", service: "checkout", desiredCount: 6 },
 * });
 * ```
 */
export class AwsSdkGateway implements AwsGateway {
  private readonly clientFactory: SdkClientFactory;
  /** One client per `service@region@account`, built on first use and kept for the cold start. */
  private readonly clients = new Map<string, Promise<SdkClient>>();

  constructor(private readonly options: AwsSdkGatewayOptions) {
    // Fail at start rather than refuse every request later.
    if (!isRegionName(options.region)) {
      throw new Error(`AwsSdkGateway: "${options.region}" is not a region name`);
    }
    this.clientFactory = options.clientFactory ?? createSdkClient;
  }

  async send(request: AwsRequest): Promise<unknown> {
    // Errors carry the call's name only: inputs can be large, and they are on the action anyway.
    const call = { service: request.service, operation: request.operation };
    if (!isAllowed(request)) {
      throw new AwsCallError(call, "OperationNotAllowed", "operation not allowed", false);
    }
    const region = request.region ?? this.options.region;
    if (!isRegionName(region)) {
      throw new AwsCallError(call, "InvalidRegion", "not a region name", false);
    }
    try {
      // Core builds the input in the SDK's own shape and AWS validates it; this is the one
      // place where the untyped record meets the command's input type.
      const route: AccountRoute =
        request.account && this.options.accounts
          ? await this.options.accounts.route(request.account)
          : { kind: "own" };
      if (route.kind === "unknown") throw new AccountNotConfiguredError(call, route.account);
      const [client, Command] = await Promise.all([
        this.client(request.service, region, route),
        commandOf(request.service, request.operation),
      ]);
      return await client.send(new Command(request.input as never));
    } catch (error) {
      throw toAwsCallError(call, error);
    }
  }

  private client(
    service: AwsService,
    region: string,
    route: Exclude<AccountRoute, { kind: "unknown" }>,
  ): Promise<SdkClient> {
    const key = `${service}@${region}@${route.kind === "role" ? route.account : "own"}`;
    let client = this.clients.get(key);
    if (!client) {
      const credentials = route.kind === "role" ? route.credentials : undefined;
      client = Promise.resolve().then(() =>
        credentials
          ? this.clientFactory(service, region, credentials)
          : this.clientFactory(service, region),
      );
      // A client that could not be built is tried again next time, not remembered.
      client.catch(() => this.clients.delete(key));
      this.clients.set(key, client);
    }
    return client;
  }
}

/** Own properties only, so that "constructor" or "__proto__" never reach Object.prototype. */
function isAllowed(request: AwsRequest): boolean {
  return (
    Object.hasOwn(SERVICES, request.service) &&
    SERVICES[request.service].operations.includes(request.operation)
  );
}

/**
 * Throttling: a later attempt succeeds once the rate drops. The SDK's own list, plus SNS's KMS
 * throttling. The SDK also counts `LimitExceededException` as throttling; see
 * {@link NEVER_RETRYABLE}.
 */
const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "BandwidthLimitExceeded",
  "SlowDown",
  "EC2ThrottledException",
  "KMSThrottlingException",
  // Route 53: the previous change batch to the zone is still being applied.
  "PriorRequestNotComplete",
]);

/** Faults on AWS's side or on the way there; most also carry `$fault: "server"`. */
const TRANSIENT = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalFailure",
  "InternalError",
  "InternalErrorException",
  "InternalServerError",
  "InternalServerErrorException",
  "InternalServiceError",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

/** Node socket and DNS errors (`error.code`) that a new connection may not meet. */
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * Not retryable whatever else they look like. `LimitExceededException` (ECS, Application Auto
 * Scaling) is an account quota, not a rate: the SDK has already retried it as throttling, and
 * waiting does not raise a quota. `AbortError` means someone gave up on purpose.
 */
const NEVER_RETRYABLE = new Set(["LimitExceededException", "AbortError"]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Whether an SDK (or network) error may go away on a later attempt: throttling, 5xx and server
 * faults, timeouts and dropped connections. Validation, access, not-found and state conflicts
 * (Lambda's `ResourceConflictException`, RDS's `InvalidDBClusterStateFault`) are not: someone
 * has to look, or core has to re-read the target before deciding again.
 */
export function isRetryableAwsError(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null) return false;
  const shape = error as ErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "";
  if (NEVER_RETRYABLE.has(name)) return false;
  const status = shape.$metadata?.httpStatusCode;
  if (
    shape.$retryable !== undefined ||
    shape.$fault === "server" ||
    THROTTLING.has(name) ||
    TRANSIENT.has(name) ||
    (typeof shape.code === "string" && NETWORK.has(shape.code)) ||
    (typeof status === "number" && TRANSIENT_STATUS.has(status))
  ) {
    return true;
  }
  // fetch and the HTTP handlers wrap socket errors ("fetch failed", cause ECONNRESET).
  return depth < 5 && shape.cause !== undefined && isRetryableAwsError(shape.cause, depth + 1);
}

/**
 * The error's code: its `name` (the AWS error code for service errors), or Node's `code` for
 * plain `Error`s such as socket errors, whose name says nothing.
 */
export function awsErrorCode(error: unknown): string {
  if (typeof error !== "object" || error === null) return "UnknownError";
  const { name, code } = error as ErrorShape;
  if (name === "Error" && typeof code === "string" && code) return code;
  return typeof name === "string" && name ? name : "UnknownError";
}

/** The error's message, bounded: it goes into action records and logs. */
export function awsErrorMessage(error: unknown): string {
  const message =
    typeof error === "object" && error !== null ? (error as ErrorShape).message : error;
  const text = typeof message === "string" && message ? message : String(message ?? "");
  return text.length > 500 ? `${text.slice(0, 500)}…` : text || "no message";
}

/** Translates anything a send threw, keeping it as `cause`. */
export function toAwsCallError(
  request: Pick<AwsRequest, "service" | "operation">,
  error: unknown,
): AwsCallError {
  if (error instanceof AwsCallError) return error;
  return new AwsCallError(
    { service: request.service, operation: request.operation },
    awsErrorCode(error),
    awsErrorMessage(error),
    isRetryableAwsError(error),
    { cause: error },
  );
}
