/**
 * AWS limits a deploy would run into, as small checks over the values a stack declares. The
 * resource-graph tests (stacks/test) run each over every resource of a stage, so a config that
 * AWS would refuse, or that would fail once deployed, fails offline first. Each check returns
 * the figure it measured, for the record, and throws `LimitExceededError` past AWS's limit.
 */

/** AWS's figures, with where each is documented. */
export const LIMITS = {
  /**
   * Lambda: "Function resource-based policy: 20 KB" (Lambda quotas,
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Every
   * AddPermission (aws.lambda.Permission) adds a statement; past 20 KB AddPermission fails
   * with PolicyLengthExceededException.
   */
  lambdaResourcePolicyBytes: 20 * 1024,
  /**
   * Lambda: filters per event source mapping, 5 (Lambda quotas, and "Control which events Lambda
   * sends to your function", https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
   */
  filtersPerEventSource: 5,
  /**
   * IAM: "Role policy size cannot exceed 10,240 characters" for the inline policies of a role
   * together, whitespace not counted (IAM and AWS STS quotas,
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
   */
  rolePolicyCharacters: 10_240,
  /**
   * Lambda: "Environment variables: 4 KB, for all environment variables associated with the
   * function, in aggregate" (Lambda quotas), keys and values together.
   */
  environmentBytes: 4 * 1024,
  /**
   * Lambda with SQS: set the queue's visibility timeout to at least six times the function's
   * timeout, or a message may be received again while a batch still works on it
   * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
   */
  visibilityTimeoutPerFunctionTimeout: 6,
  /**
   * Lambda with SQS: a batch size over 10 needs a batching window of at least 1 s
   * (CreateEventSourceMapping, MaximumBatchingWindowInSeconds; services-sqs-configure.html), up
   * to 10,000 messages per batch.
   */
  sqsBatchSizeWithoutWindow: 10,
  sqsBatchSize: 10_000,
  /**
   * API Gateway: throttling per account and region, 10,000 requests per second with a burst of
   * 5,000, shared by every API; a stage or route limit cannot exceed the account's
   * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html,
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
   */
  accountRequestsPerSecond: 10_000,
  accountBurst: 5_000,
} as const;

export class LimitExceededError extends Error {
  constructor(
    readonly limit: keyof typeof LIMITS,
    readonly subject: string,
    readonly measured: number,
    readonly allowed: number,
    detail: string,
  ) {
    super(`${subject}: ${detail} (${measured}, AWS allows ${allowed})`);
    this.name = "LimitExceededError";
  }
}

/** One `lambda:AddPermission` grant, as aws.lambda.Permission takes it. */
export interface LambdaGrant {
  statementId: string;
  principal: string;
  action: string;
  sourceArn?: string;
  sourceAccount?: string;
}

/**
 * The resource-based policy Lambda keeps for a function: one statement per grant, written as
 * Lambda writes them (GetPolicy), principal and conditions included.
 */
export function lambdaResourcePolicy(functionArn: string, grants: ReadonlyArray<LambdaGrant>) {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "default",
    Statement: grants.map((grant) => ({
      Sid: grant.statementId,
      Effect: "Allow",
      Principal: { Service: grant.principal },
      Action: grant.action,
      Resource: functionArn,
      ...(grant.sourceAccount || grant.sourceArn
        ? {
            Condition: {
              ...(grant.sourceAccount
                ? { StringEquals: { "AWS:SourceAccount": grant.sourceAccount } }
                : {}),
              ...(grant.sourceArn ? { ArnLike: { "AWS:SourceArn": grant.sourceArn } } : {}),
            },
          }
        : {}),
    })),
  });
}

/** @returns the policy's size in bytes. */
export function checkResourcePolicy(subject: string, policy: string): number {
  const bytes = Buffer.byteLength(policy, "utf8");
  if (bytes > LIMITS.lambdaResourcePolicyBytes) {
    throw new LimitExceededError(
      "lambdaResourcePolicyBytes",
      subject,
      bytes,
      LIMITS.lambdaResourcePolicyBytes,
      "the function's resource-based policy is too large (bytes)",
    );
  }
  return bytes;
}

/** @returns how many filters the event source has. */
export function checkFilters(subject: string, filters: ReadonlyArray<unknown>): number {
  if (filters.length > LIMITS.filtersPerEventSource) {
    throw new LimitExceededError(
      "filtersPerEventSource",
      subject,
      filters.length,
      LIMITS.filtersPerEventSource,
      "too many filters on one event source",
    );
  }
  return filters.length;
}

/** @returns the characters of the role's inline policies together, whitespace excluded. */
export function checkInlinePolicies(subject: string, policies: ReadonlyArray<string>): number {
  const characters = policies.reduce((sum, policy) => sum + policy.replace(/\s/g, "").length, 0);
  if (characters > LIMITS.rolePolicyCharacters) {
    throw new LimitExceededError(
      "rolePolicyCharacters",
      subject,
      characters,
      LIMITS.rolePolicyCharacters,
      "the role's inline policies are too large (characters)",
    );
  }
  return characters;
}

/** @returns the environment's size in bytes, keys and values. */
export function checkEnvironment(subject: string, variables: Record<string, string>): number {
  const bytes = Object.entries(variables).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8"),
    0,
  );
  if (bytes > LIMITS.environmentBytes) {
    throw new LimitExceededError(
      "environmentBytes",
      subject,
      bytes,
      LIMITS.environmentBytes,
      "the function's environment is too large (bytes)",
    );
  }
  return bytes;
}

/** @returns the queue's visibility timeout as a multiple of its consumer's timeout. */
export function checkVisibilityTimeout(
  subject: string,
  visibilityTimeoutSeconds: number,
  functionTimeoutSeconds: number,
): number {
  const factor = visibilityTimeoutSeconds / functionTimeoutSeconds;
  if (factor < LIMITS.visibilityTimeoutPerFunctionTimeout) {
    throw new LimitExceededError(
      "visibilityTimeoutPerFunctionTimeout",
      subject,
      factor,
      LIMITS.visibilityTimeoutPerFunctionTimeout,
      `visibility timeout ${visibilityTimeoutSeconds} s is under six times the consumer's ${functionTimeoutSeconds} s timeout (factor)`,
    );
  }
  return factor;
}

/** @returns the batch size, once it is allowed with this window. */
export function checkSqsBatching(
  subject: string,
  batchSize: number,
  batchingWindowSeconds: number,
): number {
  if (batchSize > LIMITS.sqsBatchSize) {
    throw new LimitExceededError(
      "sqsBatchSize",
      subject,
      batchSize,
      LIMITS.sqsBatchSize,
      "batch size too large",
    );
  }
  if (batchSize > LIMITS.sqsBatchSizeWithoutWindow && batchingWindowSeconds < 1) {
    throw new LimitExceededError(
      "sqsBatchSizeWithoutWindow",
      subject,
      batchSize,
      LIMITS.sqsBatchSizeWithoutWindow,
      "a batch size over 10 needs a batching window of at least 1 second (batch size)",
    );
  }
  return batchSize;
}

/** @returns the throttle's share of the account's steady rate (1 = all of it). */
export function checkThrottle(
  subject: string,
  throttle: { rateLimit: number; burstLimit: number },
): number {
  if (throttle.rateLimit > LIMITS.accountRequestsPerSecond) {
    throw new LimitExceededError(
      "accountRequestsPerSecond",
      subject,
      throttle.rateLimit,
      LIMITS.accountRequestsPerSecond,
      "rate limit above the account's (requests per second)",
    );
  }
  if (throttle.burstLimit > LIMITS.accountBurst) {
    throw new LimitExceededError(
      "accountBurst",
      subject,
      throttle.burstLimit,
      LIMITS.accountBurst,
      "burst limit above the account's",
    );
  }
  return throttle.rateLimit / LIMITS.accountRequestsPerSecond;
}
