import { beforeAll, describe, expect, test } from "vitest";
import monitoringConfig from "../../monitoring.config";
import { firebreak } from "../index";
import {
  checkEnvironment,
  checkFilters,
  checkInlinePolicies,
  checkResourcePolicy,
  checkSqsBatching,
  checkThrottle,
  checkVisibilityTimeout,
  type LambdaGrant,
  LIMITS,
  LimitExceededError,
  lambdaResourcePolicy,
} from "../limits";
import { deployOptions } from "../options";
import { DISPATCH_FILTER, FUNCTIONS, type QueueSpec, topology } from "../topology";
import { ACCOUNT, REGION, type Synth, statementsOf, synth } from "./harness";
import { checkLimits, grantsOf, type LimitFigures } from "./limits";

/** What SQS sets when a queue names no visibility timeout. */
const SQS_DEFAULT_VISIBILITY_SECONDS = 30;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** CloudWatch Logs' longest group names are 512 characters; these are ordinary ones. */
const logGroup = (index: number) => `/aws/ecs/orders-service-production/api-container-${index}`;
const INGEST_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:firebreak-production-IngestFunction-abcdefgh`;

/** The most log groups the deploy options take, on a table with a customer managed key. */
let stage: Synth;
let figures: LimitFigures;
beforeAll(async () => {
  stage = await synth(
    async () =>
      firebreak({
        config: monitoringConfig,
        options: {
          logGroups: Array.from({ length: 200 }, (_, index) => logGroup(index)),
          table: { kmsKeyArn: KEY },
        },
      }).outputs,
    { stage: "limits" },
  );
  figures = checkLimits(stage);
});

describe("a stage at the options' maxima is within AWS's limits", () => {
  test("200 log groups: one grant to CloudWatch Logs, for the account's log groups", () => {
    const ingest = stage.named("aws:lambda/function:Function", "IngestFunction");
    const grants = grantsOf(stage, ingest);
    expect(grants.filter((grant) => grant.principal === "logs.amazonaws.com")).toEqual([
      expect.objectContaining({
        sourceAccount: ACCOUNT,
        sourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`,
      }),
    ]);
    expect(stage.ofType("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")).toHaveLength(
      200,
    );
    expect(figures.resourcePolicyBytes.IngestFunction).toBeLessThan(1024);
    // The API's function holds a grant per route: the largest policy, still far under 20 KB.
    expect(Math.max(...Object.values(figures.resourcePolicyBytes))).toBeLessThan(
      LIMITS.lambdaResourcePolicyBytes / 2,
    );
  });

  test("every role, environment, event source and throttle was measured", () => {
    const fnCount = Object.keys(FUNCTIONS).length;
    expect(Object.keys(figures.environmentBytes)).toHaveLength(fnCount);
    expect(Object.keys(figures.inlinePolicyCharacters).length).toBeGreaterThanOrEqual(fnCount);
    expect(Object.keys(figures.filters)).toHaveLength(2);
    expect(Object.values(figures.visibilityFactor)).toEqual([6]);
    expect(Object.values(figures.sqsBatchSize)).toEqual([1000]);
    // The stage, Sentry's webhook and Slack's two routes.
    expect(Object.keys(figures.throttleShare)).toHaveLength(4);
  });

  test("the table's key: every function using the table may decrypt with it, and only with it", () => {
    for (const name of ["Process", "Api", "Slack", "Dispatch", "Escalations"]) {
      const kms = statementsOf(stage.named("aws:iam/role:Role", `${name}Role`)).filter((s) =>
        s.Action.some((action) => action.startsWith("kms:")),
      );
      expect(kms, name).toEqual([
        { Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [KEY] },
      ]);
    }
    for (const name of ["Ingest", "SentryWebhook"]) {
      const actions = statementsOf(stage.named("aws:iam/role:Role", `${name}Role`)).flatMap(
        (s) => s.Action,
      );
      expect(
        actions.filter((action) => action.startsWith("kms:")),
        name,
      ).toEqual([]);
    }
  });
});

describe("each check fires where AWS would refuse or fail", () => {
  const fails = (check: () => unknown, limit: keyof typeof LIMITS) => {
    expect(check).toThrow(LimitExceededError);
    try {
      check();
    } catch (error) {
      expect((error as LimitExceededError).limit).toBe(limit);
    }
  };

  test("a resource policy over 20 KB: one grant per log group, as before, passes it near 50 groups", () => {
    const perGroup = (count: number): LambdaGrant[] =>
      Array.from({ length: count }, (_, index) => ({
        statementId: `IngestFromLogs${index}-a1b2c3d`,
        principal: "logs.amazonaws.com",
        action: "lambda:InvokeFunction",
        sourceAccount: ACCOUNT,
        sourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroup(index)}:*`,
      }));
    expect(
      checkResourcePolicy("Ingest", lambdaResourcePolicy(INGEST_ARN, perGroup(45))),
    ).toBeLessThan(LIMITS.lambdaResourcePolicyBytes);
    fails(
      () => checkResourcePolicy("Ingest", lambdaResourcePolicy(INGEST_ARN, perGroup(60))),
      "lambdaResourcePolicyBytes",
    );
  });

  test("more than 5 filters on one event source", () => {
    expect(checkFilters("Dispatch", Array(5).fill(DISPATCH_FILTER))).toBe(5);
    fails(() => checkFilters("Dispatch", Array(6).fill(DISPATCH_FILTER)), "filtersPerEventSource");
  });

  test("inline policies over 10,240 characters, whitespace not counted", () => {
    const statement = (index: number) => ({
      Effect: "Allow",
      Action: ["ecs:DescribeServices", "ecs:UpdateService"],
      Resource: [`arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/service-${index}`],
    });
    const policy = (count: number) =>
      JSON.stringify(
        { Version: "2012-10-17", Statement: Array.from({ length: count }, (_, i) => statement(i)) },
        null,
        2,
      );
    expect(checkInlinePolicies("DispatchRole", [policy(60)])).toBeLessThan(
      LIMITS.rolePolicyCharacters,
    );
    fails(() => checkInlinePolicies("DispatchRole", [policy(100)]), "rolePolicyCharacters");
  });

  test("an environment over 4 KB, keys and values", () => {
    expect(checkEnvironment("Api", { TABLE_NAME: "x".repeat(4086) })).toBe(4096);
    fails(() => checkEnvironment("Api", { TABLE_NAME: "x".repeat(4087) }), "environmentBytes");
  });

  test("a queue's visibility timeout under six times its consumer's timeout", () => {
    expect(checkVisibilityTimeout("Signals", 360, 60)).toBe(6);
    fails(() => checkVisibilityTimeout("Signals", 300, 60), "visibilityTimeoutPerFunctionTimeout");
  });

  test("an SQS batch over 10 without a batching window", () => {
    expect(checkSqsBatching("Signals", 10, 0)).toBe(10);
    expect(checkSqsBatching("Signals", 1000, 1)).toBe(1000);
    fails(() => checkSqsBatching("Signals", 11, 0), "sqsBatchSizeWithoutWindow");
    fails(() => checkSqsBatching("Signals", 10_001, 1), "sqsBatchSize");
  });

  test("a throttle above API Gateway's account limits", () => {
    expect(checkThrottle("webhooks", { rateLimit: 200, burstLimit: 500 })).toBe(0.02);
    fails(
      () => checkThrottle("api", { rateLimit: 10_001, burstLimit: 100 }),
      "accountRequestsPerSecond",
    );
    fails(() => checkThrottle("api", { rateLimit: 100, burstLimit: 5_001 }), "accountBurst");
  });

  test("the topology itself: the options' maxima stay within every limit it feeds", () => {
    const wiring = topology({
      options: deployOptions({ processor: { batchSize: 10_000, batchWindowSeconds: 1 } }),
      alarmPrefix: "firebreak-limits-",
    });
    for (const source of wiring.queueSources) {
      checkSqsBatching(source.queue, source.batchSize, source.batchingWindowSeconds);
      checkFilters(source.queue, source.filters);
      const queue: QueueSpec = wiring.queues[source.queue];
      checkVisibilityTimeout(
        source.queue,
        queue.visibilityTimeoutSeconds ?? SQS_DEFAULT_VISIBILITY_SECONDS,
        FUNCTIONS[source.function].timeoutSeconds,
      );
    }
    for (const source of wiring.streamSources) checkFilters(source.function, source.filters);
    for (const route of wiring.routes)
      checkThrottle(`${route.method} ${route.path}`, route.throttle);
  });
});
