import path from "node:path";
import { grantsOf, loadDeployedPolicy, parseConfig } from "@firebreak/core";
import { beforeAll, describe, expect, test } from "vitest";
import monitoringConfig from "../../monitoring.config";
import { createTableInput } from "../../packages/aws/src/table";
import { matchesAnyFilter } from "../../packages/local/src/content-filter";
import { nodejsFor, SDK_SOURCE } from "../bundle";
import { componentName } from "../names";
import type { FunctionName } from "../topology";
import {
  API_ROUTES,
  DISPATCH_FILTER,
  PENDING_AGE_METRIC,
  SENTRY_ROUTE,
  SLACK_INTERACTIONS_ROUTE,
  SLACK_ROUTE,
} from "../topology";
import {
  ACCOUNT,
  isRemediation,
  loadSstConfig,
  pairs,
  REGION,
  ROOT,
  type Synth,
  statementsOf,
  synth,
} from "./harness";
import { checkLimits } from "./limits";

const FUNCTIONS_API: string = path.join(ROOT, "functions/api.ts");
/** Every function the stage deploys, by its SST name. */
const FUNCTIONS = ["Ingest", "Process", "Api", "SentryWebhook", "Slack", "Dispatch", "Escalations"];
/** Every secret the stage reads, by the function that reads it (parameters under /firebreak/ci). */
const SECRET_READERS: Record<string, string[]> = {
  Api: ["ApiTokens", "CalendarToken"],
  SentryWebhook: ["SentryClientSecret"],
  Slack: ["SlackSigningSecret"],
  // monitoring.config.ts's channels name no env: secrets.
  Dispatch: [],
};

let stage: Synth;
let production: Synth;
beforeAll(async () => {
  const config = await loadSstConfig();
  const app = config.app({ stage: "prod" });
  expect(app).toMatchObject({ removal: "retain", protect: true });
  expect(config.app({ stage: "ci" })).toMatchObject({ removal: "remove", protect: false });
  stage = await synth(() => config.run(), { stage: "ci" });
  production = await synth(() => config.run(), { stage: "prod", removal: "retain" });
});

const fn = (s: Synth, name: string) => s.named("aws:lambda/function:Function", `${name}Function`);
const role = (s: Synth, name: string) => s.named("aws:iam/role:Role", `${name}Role`);
const env = (s: Synth, name: string): Record<string, string> =>
  fn(s, name).inputs.environment.variables;

describe("functions", () => {
  test.each(FUNCTIONS)("%s: nodejs22.x on arm64, sized, JSON logs kept, traced", (name) => {
    const { inputs } = fn(stage, name);
    expect(inputs.runtime).toBe("nodejs22.x");
    expect(inputs.architectures).toEqual(["arm64"]);
    expect(inputs.memorySize).toBeGreaterThanOrEqual(256);
    expect(inputs.timeout).toBeGreaterThan(0);
    expect(inputs.timeout).toBeLessThanOrEqual(120);
    expect(inputs.loggingConfig).toMatchObject({ logFormat: "JSON", applicationLogLevel: "INFO" });
    expect(inputs.tracingConfig).toEqual({ mode: "Active" });
    const logGroup = stage.named("aws:cloudwatch/logGroup:LogGroup", `${name}LogGroup`);
    expect(logGroup.inputs.retentionInDays).toBe(30);
    expect(inputs.loggingConfig.logGroup).toBe(logGroup.inputs.name);
  });

  test("each has a role of its own, which only Lambda may assume", () => {
    const roles = FUNCTIONS.map((name) => fn(stage, name).inputs.role);
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
    for (const name of FUNCTIONS) {
      const { inputs } = role(stage, name);
      expect(fn(stage, name).inputs.role).toContain(inputs.name);
      expect(JSON.parse(inputs.assumeRolePolicy).Statement).toEqual([
        {
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Principal: { Service: "lambda.amazonaws.com" },
        },
      ]);
      expect(inputs.managedPolicyArns).toEqual([
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      ]);
    }
  });

  test("every handler bundles with esbuild as in deployment, the policy shipped beside it", async () => {
    expect([...stage.builds.keys()].sort()).toEqual([...FUNCTIONS].sort());
    const shipped = parseConfig(monitoringConfig);
    for (const [name, build] of stage.builds) {
      expect(build.runtime).toBe("nodejs22.x");
      expect(build.properties).toMatchObject({
        format: "esm",
        minify: true,
        architecture: "arm64",
      });
      expect(build.bytes).toBeGreaterThan(10_000);
      expect(build.copyFiles).toEqual([expect.objectContaining({ to: "firebreak.config.json" })]);
      expect(env(stage, name).MONITORING_CONFIG).toBe("firebreak.config.json");
      const file = path.resolve(ROOT, build.copyFiles[0]?.from ?? "");
      // Shipped parsed (the functions trust it without the schema): the same policy.
      expect(await loadDeployedPolicy(file)).toEqual(shipped);
    }
  });

  test("each function bundles the AWS SDK or leaves it to the runtime as its measured choice says", () => {
    for (const key of Object.keys(SDK_SOURCE) as FunctionName[]) {
      const build = stage.builds.get(componentName(key));
      expect(build?.properties).toMatchObject({
        splitting: true,
        esbuild: { external: nodejsFor(key).esbuild.external },
      });
      // Bundled, the function's files hold the SDK's clients (about 1.2 MB of chunks loaded on
      // demand); from the runtime, they import it.
      const sdkBundled = (build?.bytes ?? 0) > 1_000_000;
      expect(sdkBundled).toBe(SDK_SOURCE[key] === "bundled");
    }
  });
});

describe("table", () => {
  test("the keys and indexes the store uses, on demand, TTL, a stream of new images", () => {
    const table = stage.named("aws:dynamodb/table:Table", "IncidentsTable").inputs;
    const reference = createTableInput("x");
    expect(table.billingMode).toBe("PAY_PER_REQUEST");
    expect(table.hashKey).toBe("pk");
    expect(table.rangeKey).toBe("sk");
    expect(table.attributes).toEqual(
      reference.AttributeDefinitions?.map((a) => ({
        name: a.AttributeName,
        type: a.AttributeType,
      })),
    );
    expect(table.globalSecondaryIndexes).toEqual(
      reference.GlobalSecondaryIndexes?.map((index) => ({
        name: index.IndexName,
        hashKey: index.KeySchema?.find((key) => key.KeyType === "HASH")?.AttributeName,
        rangeKey: index.KeySchema?.find((key) => key.KeyType === "RANGE")?.AttributeName,
        projectionType: index.Projection?.ProjectionType,
        ...(index.Projection?.NonKeyAttributes
          ? { nonKeyAttributes: index.Projection.NonKeyAttributes }
          : {}),
      })),
    );
    expect(table.globalSecondaryIndexes).toContainEqual({
      name: "gsi2",
      hashKey: "gsi2pk",
      rangeKey: "gsi2sk",
      projectionType: "KEYS_ONLY",
    });
    expect(table.ttl).toEqual({ attributeName: "expiresAt", enabled: true });
    expect(table.streamEnabled).toBe(true);
    expect(table.streamViewType).toBe("NEW_IMAGE");
    expect(table.pointInTimeRecovery).toEqual({ enabled: true, recoveryPeriodInDays: 35 });
    // The AWS owned key unless a customer key is configured.
    expect(table.serverSideEncryption).toBeUndefined();
  });

  test("production keeps its data: deletion protection and retain; other stages do not", () => {
    const ci = stage.named("aws:dynamodb/table:Table", "IncidentsTable");
    const prod = production.named("aws:dynamodb/table:Table", "IncidentsTable");
    expect([ci.inputs.deletionProtectionEnabled, ci.retainOnDelete]).toEqual([false, false]);
    expect([prod.inputs.deletionProtectionEnabled, prod.retainOnDelete]).toEqual([true, true]);
    expect(production.outputs._protect).toBe(true);
  });
});

describe("ingest", () => {
  test("one queue with a dead-letter queue: 5 receives, 14 days, encrypted", () => {
    const queue = stage.named("aws:sqs/queue:Queue", "SignalsQueue").inputs;
    const dlq = stage.named("aws:sqs/queue:Queue", "SignalsDeadLetterQueue").inputs;
    expect(JSON.parse(queue.redrivePolicy)).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${dlq.name}`,
      maxReceiveCount: 5,
    });
    expect(dlq.messageRetentionSeconds).toBe(14 * 86_400);
    expect(queue.messageRetentionSeconds).toBeLessThanOrEqual(dlq.messageRetentionSeconds);
    expect([queue.sqsManagedSseEnabled, dlq.sqsManagedSseEnabled]).toEqual([true, true]);
    // Six times the processor's timeout, as AWS advises for a Lambda consumer.
    expect(queue.visibilityTimeoutSeconds).toBe(6 * fn(stage, "Process").inputs.timeout);
  });

  test("alarm state changes: an EventBridge rule to the queue, leaving out Firebreak's own alarms", () => {
    const rule = stage.named("aws:cloudwatch/eventRule:EventRule", "AlarmStateChanges").inputs;
    expect(JSON.parse(rule.eventPattern)).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [{ "anything-but": { prefix: "firebreak-ci-" } }] },
    });
    const target = stage.named(
      "aws:cloudwatch/eventTarget:EventTarget",
      "AlarmStateChangesToQueue",
    ).inputs;
    expect(target.arn).toBe(queueArn());
  });

  test("an SNS topic for alarm actions, subscribed to the queue with its envelope", () => {
    const subscription = stage.named(
      "aws:sns/topicSubscription:TopicSubscription",
      "AlarmTopicToQueue",
    ).inputs;
    expect(subscription).toMatchObject({
      protocol: "sqs",
      endpoint: queueArn(),
      rawMessageDelivery: false,
    });
    expect(subscription.topic).toBe(stage.outputs.alarmTopicArn);
  });

  test("the queue's one policy admits exactly the rules and the topic, over TLS", () => {
    const policies = stage.ofType("aws:sqs/queuePolicy:QueuePolicy");
    expect(policies).toHaveLength(1);
    const statements = JSON.parse(policies[0]?.inputs.policy).Statement;
    const rules = stage.ofType("aws:cloudwatch/eventRule:EventRule");
    // Alarms, deploys, and security and health events: each rule admitted on its own ARN.
    expect(rules).toHaveLength(3);
    expect(statements).toEqual([
      ...rules.map(() =>
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Condition: { ArnEquals: { "aws:SourceArn": expect.stringContaining(":rule/") } },
        }),
      ),
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": stage.outputs.alarmTopicArn } },
      }),
      expect.objectContaining({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
  });

  test("the processor consumes in batches, reporting partial batch failures", () => {
    const mapping = stage
      .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
      .find((m) => m.inputs.eventSourceArn === queueArn());
    expect(mapping?.inputs).toMatchObject({
      functionName: expect.stringContaining("ProcessFunction"),
      batchSize: 1000,
      maximumBatchingWindowInSeconds: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: 10 },
    });
  });

  test("events AWS pushes to the ingest function are retried, then kept, never dropped", () => {
    const config = stage.named(
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "IngestEventInvokeConfig",
    );
    expect(config.inputs).toMatchObject({
      functionName: fn(stage, "Ingest").inputs.name,
      maximumRetryAttempts: 2,
      destinationConfig: {
        onFailure: { destination: expect.stringContaining("IngestFailuresQueue") },
      },
    });
    expect(
      stage.named("aws:sqs/queue:Queue", "IngestFailuresQueue").inputs.messageRetentionSeconds,
    ).toBe(14 * 86_400);
  });

  test("alarm actions may invoke the ingest function, from this account only", () => {
    const permission = stage.named(
      "aws:lambda/permission:Permission",
      "IngestFromAlarmActions",
    ).inputs;
    expect(permission).toMatchObject({
      principal: "lambda.alarms.cloudwatch.amazonaws.com",
      sourceAccount: ACCOUNT,
      sourceArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`,
      function: fn(stage, "Ingest").inputs.name,
    });
    // sst.config.ts lists no log groups yet: no subscriptions (stacks/test/options.spec.ts has some).
    expect(stage.ofType("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")).toEqual([]);
  });
});

describe("HTTP API", () => {
  const routes = () =>
    new Map(
      stage.ofType("aws:apigatewayv2/route:Route").map((route) => {
        const integrationId = String(route.inputs.target).replace("integrations/", "");
        const integration = stage
          .ofType("aws:apigatewayv2/integration:Integration")
          .find((i) => `${i.name}-id` === integrationId);
        return [route.inputs.routeKey as string, integration?.inputs.integrationUri as string];
      }),
    );

  test("the routes the incidents API serves, and only those", async () => {
    // Imported by path: the stacks' typecheck runs on SST's Node 22 types, and the functions are
    // the root typecheck's (Node 20 types); the two disagree about URL.
    const api: {
      apiRoutes(deps: () => Promise<never>): Promise<Array<{ method: string; path: string }>>;
    } = await import(FUNCTIONS_API);
    const served = (
      await api.apiRoutes(async () => {
        throw new Error("not called");
      })
    ).map((route) => `${route.method} ${route.path}`);
    expect([...API_ROUTES].sort()).toEqual([...served, "GET /openapi.json"].sort());
  });

  test("each route reaches its function", () => {
    const byRoute = routes();
    expect([...byRoute.keys()].sort()).toEqual(
      [...API_ROUTES, SENTRY_ROUTE, SLACK_ROUTE, SLACK_INTERACTIONS_ROUTE].sort(),
    );
    for (const route of API_ROUTES) expect(byRoute.get(route)).toContain("ApiFunction");
    expect(byRoute.get(SENTRY_ROUTE)).toContain("SentryWebhookFunction");
    expect(byRoute.get(SLACK_ROUTE)).toContain("SlackFunction");
    // One function serves both of Slack's URLs: the command and the button presses.
    expect(byRoute.get(SLACK_INTERACTIONS_ROUTE)).toBe(byRoute.get(SLACK_ROUTE));
    for (const integration of stage.ofType("aws:apigatewayv2/integration:Integration")) {
      expect(integration.inputs).toMatchObject({
        integrationType: "AWS_PROXY",
        payloadFormatVersion: "2.0",
      });
    }
  });

  test("throttled at the stage, the webhooks sized for their bursts", () => {
    const stageSettings = stage.named("aws:apigatewayv2/stage:Stage", "HttpApiStage").inputs;
    expect(stageSettings.defaultRouteSettings).toEqual({
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
    });
    // One setting per route whose throttle differs from the stage's: the webhooks.
    expect(stageSettings.routeSettings).toEqual(
      [SENTRY_ROUTE, SLACK_ROUTE, SLACK_INTERACTIONS_ROUTE].map((routeKey) => ({
        routeKey,
        throttlingRateLimit: 200,
        throttlingBurstLimit: 500,
      })),
    );
    expect(
      stage.named("aws:cloudwatch/logGroup:LogGroup", "HttpApiAccessLog").inputs.retentionInDays,
    ).toBe(30);
  });

  test("browsers may call it with a bearer token, never with cookies", () => {
    const api = stage.named("aws:apigatewayv2/api:Api", "HttpApiApi").inputs;
    expect(api.corsConfiguration).toEqual({
      allowOrigins: ["*"],
      allowMethods: ["GET", "POST", "DELETE"],
      allowHeaders: ["authorization", "content-type"],
      allowCredentials: false,
      maxAge: 86_400,
    });
  });
});

describe("console", () => {
  test("a static site built with the API's URL, served through CloudFront from a private bucket", () => {
    const builder = stage.ofType("command:local:Command").find((c) => c.name === "ConsoleBuilder");
    expect(builder?.inputs).toMatchObject({
      create: "npm run build",
      dir: path.join(ROOT, "packages/console"),
      environment: { VITE_API_URL: stage.outputs.apiUrl },
    });
    expect(stage.ofType("aws:cloudfront/distribution:Distribution")).toHaveLength(1);
    for (const block of stage.ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")) {
      expect(block.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true });
    }
    expect(stage.outputs.consoleUrl).toMatch(/^https:\/\//);
  });
});

describe("responses", () => {
  test("the dispatcher reads the stream, filtered to incidents with pending actions", () => {
    const mapping = stage
      .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
      .find((m) => String(m.inputs.eventSourceArn).includes("/stream/"));
    expect(mapping?.inputs).toMatchObject({
      functionName: expect.stringContaining("DispatchFunction"),
      startingPosition: "LATEST",
      functionResponseTypes: ["ReportBatchItemFailures"],
      bisectBatchOnFunctionError: true,
      destinationConfig: {
        onFailure: { destinationArn: expect.stringContaining("DispatchFailuresQueue") },
      },
    });
    const patterns = deployedDispatchFilters().map((pattern) => JSON.parse(pattern));
    expect(patterns).toEqual([DISPATCH_FILTER]);
    // The string attribute the store sets while actions wait, never the `pending` count: a
    // stream record carries numbers as strings, which `numeric` never matches.
    expect(patterns[0].dynamodb.NewImage).toEqual({
      pk: { S: [{ prefix: "INC#" }] },
      gsi2pk: { S: [{ prefix: "PENDING" }] },
    });
  });

  test("the deployed filter passes a pending incident's stream record, and only that", () => {
    const filters = deployedDispatchFilters();
    const record = pendingIncidentRecord();
    expect(matchesAnyFilter(filters, record)).toBe(true);
    const { gsi2pk: _, gsi2sk: __, ...drained } = record.dynamodb.NewImage;
    expect(
      matchesAnyFilter(filters, { ...record, dynamodb: { ...record.dynamodb, NewImage: drained } }),
    ).toBe(false);
    // What the filter used to be: numeric on `pending`, which never matches {"N": "1"}.
    const numeric = JSON.stringify({
      dynamodb: {
        NewImage: { pk: { S: [{ prefix: "INC#" }] }, pending: { N: [{ numeric: [">", 0] }] } },
      },
    });
    expect(matchesAnyFilter([numeric], record)).toBe(false);
  });

  test("the escalation sweep runs every minute", () => {
    const schedule = stage.named(
      "aws:scheduler/schedule:Schedule",
      "EscalationSweepSchedule",
    ).inputs;
    expect(schedule.scheduleExpression).toBe("rate(1 minute)");
    expect(schedule.state).toBe("ENABLED");
    expect(schedule.target.arn).toContain("EscalationsFunction");
    expect(schedule.target.retryPolicy).toEqual({ maximumRetryAttempts: 0 });
    // Nor does Lambda retry it: a failed sweep is made good by the next.
    expect(
      stage.named(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "EscalationsEventInvokeConfig",
      ).inputs,
    ).toMatchObject({ maximumRetryAttempts: 0 });
  });

  test("the escalation sweep's liveness: pages when pending actions age or the sweep goes quiet", () => {
    const alarm = stage
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.inputs.name === "firebreak-ci-pending-actions-age")?.inputs;
    expect(alarm).toMatchObject({
      namespace: PENDING_AGE_METRIC.namespace,
      metricName: PENDING_AGE_METRIC.name,
      dimensions: { FunctionName: fn(stage, "Escalations").inputs.name },
      threshold: 300,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "breaching",
    });
  });

  test("pages link to the API", () => {
    expect(env(stage, "Dispatch").API_URL).toBe(stage.outputs.apiUrl);
  });
});

describe("IAM", () => {
  const allRoles = () => stage.ofType("aws:iam/role:Role");

  test("no role anywhere has a wildcard action, on remediation services or otherwise", () => {
    for (const r of allRoles()) {
      for (const statement of statementsOf(r)) {
        for (const action of statement.Action) {
          expect(action, r.name).not.toMatch(/\*/);
        }
      }
    }
  });

  test("only the dispatcher may call remediation APIs, exactly what its configured actions declare", () => {
    for (const r of allRoles()) {
      const remediation = statementsOf(r).flatMap((s) => s.Action.filter(isRemediation));
      if (r.name === "DispatchRole") continue;
      // The schedule's role invokes the sweep: lambda:InvokeFunction is not a remediation.
      expect(
        remediation.filter((a) => a !== "lambda:InvokeFunction"),
        r.name,
      ).toEqual([]);
    }
    const config = parseConfig(monitoringConfig);
    const declared = config.rules
      .flatMap((rule) => rule.actions)
      // A ladder's steps run in the dispatcher's role too.
      .flatMap((a) => (a.type === "page" ? [] : [a, ...(a.ifIneffective ?? [])]))
      .flatMap((action) =>
        action.type === "page"
          ? []
          : grantsOf(action, { partition: "aws", region: REGION, account: ACCOUNT }),
      );
    const granted = statementsOf(role(stage, "Dispatch"))
      .map((s) => ({ actions: s.Action.filter(isRemediation), resources: s.Resource }))
      .filter((s) => s.actions.length > 0);
    expect(pairs(granted)).toEqual(pairs(declared));
    expect(declared.length).toBeGreaterThan(0);
  });

  test("the dispatcher publishes to the channels' topics and touches only its table, stream and failure queue", () => {
    const other = statementsOf(role(stage, "Dispatch")).filter(
      (s) => !s.Action.some(isRemediation) && !s.Action.includes("ssm:GetParameter"),
    );
    const table = stage.named("aws:dynamodb/table:Table", "IncidentsTable").inputs.name;
    expect(other).toEqual([
      {
        Effect: "Allow",
        Action: ["sns:Publish"],
        Resource: [
          "arn:aws:sns:us-east-1:123456789012:firebreak-managers",
          "arn:aws:sns:us-east-1:123456789012:firebreak-oncall",
        ],
      },
      expect.objectContaining({
        Action: expect.arrayContaining(["dynamodb:UpdateItem"]),
        Resource: tableArns(table),
      }),
      expect.objectContaining({
        Action: expect.arrayContaining(["dynamodb:GetRecords"]),
        Resource: [expect.stringContaining(`${table}/stream/`)],
      }),
      expect.objectContaining({
        Action: ["sqs:SendMessage"],
        Resource: [expect.stringContaining("DispatchFailuresQueue")],
      }),
      {
        Effect: "Allow",
        Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        Resource: ["*"],
      },
    ]);
  });

  test("ingest functions may send to the queue and nothing else", () => {
    const ingestFailures = `arn:aws:sqs:${REGION}:${ACCOUNT}:${stage.named("aws:sqs/queue:Queue", "IngestFailuresQueue").inputs.name}`;
    const tracing = {
      Effect: "Allow",
      Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      Resource: ["*"],
    };
    expect(statementsOf(role(stage, "Ingest"))).toEqual([
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn()] },
      // ...and to its own failure queue, which Lambda writes with the function's role.
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [ingestFailures] },
      tracing,
    ]);
    expect(statementsOf(role(stage, "SentryWebhook"))).toEqual([
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn()] },
      // ...and read its one secret.
      {
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: [parameterArn("SentryClientSecret")],
      },
      tracing,
    ]);
  });

  test("table access is per function: only the API and Slack delete (silences), no dynamodb:*", () => {
    const table = stage.named("aws:dynamodb/table:Table", "IncidentsTable").inputs.name;
    const dynamo = (name: string) =>
      statementsOf(role(stage, name)).filter((s) =>
        s.Action.some(
          (a) =>
            a.startsWith("dynamodb:") &&
            !a.includes("Stream") &&
            a !== "dynamodb:GetRecords" &&
            a !== "dynamodb:GetShardIterator",
        ),
      );
    for (const name of ["Process", "Api", "Slack", "Dispatch", "Escalations"]) {
      const [statement, ...rest] = dynamo(name);
      expect(rest).toEqual([]);
      expect(statement?.Resource).toEqual(tableArns(table));
      expect(statement?.Action.includes("dynamodb:DeleteItem")).toBe(
        name === "Api" || name === "Slack",
      );
    }
    for (const name of ["Ingest", "SentryWebhook"]) expect(dynamo(name)).toEqual([]);
  });
});

describe("secrets", () => {
  test("no function holds a secret: nothing linked into its bundle, only the parameters' path", () => {
    for (const name of FUNCTIONS) {
      // Nothing for SST to encrypt into resource.enc, whose key is in the environment (SST_KEY).
      expect(stage.builds.get(name)?.links, name).toEqual({});
      const variables = env(stage, name);
      for (const secret of [
        "API_TOKENS",
        "CALENDAR_TOKEN",
        "SENTRY_CLIENT_SECRET",
        "SLACK_SIGNING_SECRET",
      ]) {
        expect(variables[secret], `${name} ${secret}`).toBeUndefined();
      }
      // Every variable is a known setting: nothing else could carry a value.
      expect(
        Object.keys(variables).filter(
          (key) =>
            ![
              "TABLE_NAME",
              "QUEUE_URL",
              "API_URL",
              "MONITORING_CONFIG",
              "SECRETS_PATH",
              "SST_RESOURCE_App",
              "SST_KEY",
              "SST_KEY_FILE",
            ].includes(key),
        ),
        name,
      ).toEqual([]);
      const reads = (SECRET_READERS[name] ?? []).length > 0;
      expect(variables.SECRETS_PATH, name).toBe(reads ? "/firebreak/ci" : undefined);
    }
    expect(stage.outputs.secretParameters).toEqual([
      "/firebreak/ci/ApiTokens",
      "/firebreak/ci/CalendarToken",
      "/firebreak/ci/SentryClientSecret",
      "/firebreak/ci/SlackSigningSecret",
    ]);
    expect(production.outputs.secretParameters).toContain("/firebreak/prod/ApiTokens");
  });

  test("each role may read exactly its own parameters, by name, and nothing else of SSM", () => {
    for (const r of stage.ofType("aws:iam/role:Role")) {
      const ssm = statementsOf(r).filter((s) => s.Action.some((a) => a.startsWith("ssm:")));
      const own = SECRET_READERS[r.name.replace(/Role$/, "")] ?? [];
      if (own.length === 0) {
        expect(ssm, r.name).toEqual([]);
        continue;
      }
      expect(ssm, r.name).toEqual([
        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: own.map(parameterArn) },
      ]);
      // The AWS managed key decrypts for any principal of the account through SSM (its key
      // policy): no KMS grant unless the options name a key (stacks/test/options.spec.ts).
      expect(
        statementsOf(r).filter((s) => s.Action.some((a) => a.startsWith("kms:"))),
        r.name,
      ).toEqual([]);
    }
  });
});

describe("trust boundaries: who may put a signal in", () => {
  const topicPolicy = (name: string) =>
    JSON.parse(stage.named("aws:sns/topicPolicy:TopicPolicy", name).inputs.policy);

  test("the alarm topic takes publishes from CloudWatch alarms of this account and region only", () => {
    const policy = stage.named("aws:sns/topicPolicy:TopicPolicy", "AlarmTopicPolicy").inputs;
    expect(policy.arn).toBe(stage.outputs.alarmTopicArn);
    expect(JSON.parse(policy.policy).Statement).toEqual([
      {
        Sid: "CloudWatchAlarmsOnly",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: stage.outputs.alarmTopicArn,
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
          // Firebreak's own alarms page the ops topic, never Firebreak (as the rule leaves them out).
          ArnNotLike: {
            "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:firebreak-ci-*`,
          },
        },
      },
    ]);
  });

  test("the ops topic takes publishes from Firebreak's own alarms only", () => {
    const policy = stage.named("aws:sns/topicPolicy:TopicPolicy", "OpsTopicPolicy").inputs;
    expect(policy.arn).toBe(stage.outputs.opsTopicArn);
    expect(topicPolicy("OpsTopicPolicy").Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: {
            "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:firebreak-ci-*`,
          },
        },
      }),
    ]);
    expect(stage.ofType("aws:sns/topicPolicy:TopicPolicy")).toHaveLength(2);
  });

  test("ingest may be invoked by CloudWatch alarm actions and Logs of this account, and nothing else", () => {
    const ingest = fn(stage, "Ingest").inputs.name;
    const grants = stage
      .ofType("aws:lambda/permission:Permission")
      .filter((p) => p.inputs.function === ingest || String(p.inputs.function).endsWith(ingest))
      .map((p) => p.inputs);
    expect(grants).toEqual([
      expect.objectContaining({
        action: "lambda:InvokeFunction",
        principal: "lambda.alarms.cloudwatch.amazonaws.com",
        sourceAccount: ACCOUNT,
        sourceArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`,
      }),
    ]);
    // With log groups, one more: CloudWatch Logs for this account's groups (options.spec.ts).
  });

  test("every resource policy names a service and conditions it on the source: no * principal, no unconditioned Allow", () => {
    for (const permission of stage.ofType("aws:lambda/permission:Permission")) {
      const { principal, sourceArn, sourceAccount } = permission.inputs;
      expect(principal, permission.name).toMatch(/^[a-z.-]+\.amazonaws\.com$/);
      expect(sourceArn, permission.name).toMatch(
        new RegExp(`^arn:aws:[a-z-]+:${REGION}:${ACCOUNT}:`),
      );
      // API Gateway's ARN names the API itself; every other service is also pinned to the account.
      if (principal !== "apigateway.amazonaws.com")
        expect(sourceAccount, permission.name).toBe(ACCOUNT);
    }
    const documents = [
      ...stage.ofType("aws:sns/topicPolicy:TopicPolicy"),
      ...stage.ofType("aws:sqs/queuePolicy:QueuePolicy"),
    ].map((resource) => ({ name: resource.name, policy: JSON.parse(resource.inputs.policy) }));
    expect(documents.length).toBeGreaterThanOrEqual(3);
    for (const { name, policy } of documents) {
      for (const statement of policy.Statement) {
        expect(statement.Condition, `${name} ${statement.Sid}`).toBeDefined();
        if (statement.Effect !== "Allow") continue;
        expect(statement.Principal, `${name} ${statement.Sid}`).toEqual({
          Service: expect.stringMatching(/\.amazonaws\.com$/),
        });
        expect(JSON.stringify(statement.Condition), `${name} ${statement.Sid}`).toContain(
          "aws:SourceArn",
        );
      }
    }
  });
});

describe("self-monitoring", () => {
  const alarms = () => stage.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");

  test("alarms on dead letters, errors, throttles, queue age and a heartbeat", () => {
    const names = alarms().map((a) => a.inputs.name as string);
    expect(names).toEqual(
      expect.arrayContaining([
        "firebreak-ci-dead-letters",
        "firebreak-ci-ingest-failures",
        "firebreak-ci-dispatch-failures",
        "firebreak-ci-queue-age",
        "firebreak-ci-dispatch-iterator-age",
        "firebreak-ci-pending-actions-age",
        "firebreak-ci-alarm-rule-failures",
        "firebreak-ci-api-5xx",
        "firebreak-ci-heartbeat",
        ...[
          "ingest",
          "process",
          "api",
          "dispatch",
          "escalations",
          "sentry-webhook",
          "slack",
        ].flatMap((f) => [`firebreak-ci-${f}-errors`, `firebreak-ci-${f}-throttles`]),
      ]),
    );
    expect(names).toHaveLength(9 + 2 * FUNCTIONS.length);
    const dlq = alarms().find((a) => a.inputs.name === "firebreak-ci-dead-letters")?.inputs;
    expect(dlq).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: {
        QueueName: stage.named("aws:sqs/queue:Queue", "SignalsDeadLetterQueue").inputs.name,
      },
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    const age = alarms().find((a) => a.inputs.name === "firebreak-ci-queue-age")?.inputs;
    expect(age).toMatchObject({ metricName: "ApproximateAgeOfOldestMessage", threshold: 300 });
  });

  test("the heartbeat pages when the processor has succeeded at nothing for the configured time", () => {
    const heartbeat = alarms().find((a) => a.inputs.name === "firebreak-ci-heartbeat")?.inputs;
    expect(heartbeat).toMatchObject({
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      evaluationPeriods: 6,
      datapointsToAlarm: 6,
      treatMissingData: "breaching",
    });
    const [invocations, errors, processed] = heartbeat.metricQueries;
    expect(invocations.metric).toMatchObject({
      metricName: "Invocations",
      period: 3600,
      dimensions: { FunctionName: fn(stage, "Process").inputs.name },
    });
    expect(errors.metric).toMatchObject({ metricName: "Errors", period: 3600 });
    expect(processed).toMatchObject({
      expression: "FILL(invocations, 0) - FILL(errors, 0)",
      returnData: true,
    });
  });

  test("every alarm pages through Firebreak's own topic directly, and stays out of Firebreak", () => {
    const ops = stage.outputs.opsTopicArn;
    expect(ops).not.toBe(stage.outputs.alarmTopicArn);
    for (const alarm of alarms()) {
      expect(alarm.inputs.alarmActions).toEqual([ops]);
      expect(alarm.inputs.okActions).toEqual([ops]);
      expect(alarm.inputs.name).toMatch(/^firebreak-ci-/);
    }
  });
});

test("the shipped stage is within AWS's limits (stacks/limits.ts)", () => {
  const figures = checkLimits(stage);
  expect(Object.keys(figures.resourcePolicyBytes).sort()).toEqual(
    FUNCTIONS.map((name) => `${name}Function`).sort(),
  );
  expect(figures.filters).not.toEqual({});
  expect(figures.visibilityFactor).not.toEqual({});
});

test("the stage's outputs: API, the topic for alarms, Slack's and Sentry's URLs", () => {
  const api = stage.outputs.apiUrl as string;
  expect(api).toMatch(/^https:\/\/.+\.execute-api\.us-east-1\.amazonaws\.com$/);
  expect(stage.outputs).toMatchObject({
    alarmTopicArn: expect.stringMatching(/^arn:aws:sns:/),
    opsTopicArn: expect.stringMatching(/^arn:aws:sns:/),
    slackCommandUrl: `${api}/slack/commands`,
    slackInteractionsUrl: `${api}/slack/interactions`,
    sentryWebhookUrl: `${api}/webhooks/sentry`,
    ingestFunctionArn: expect.stringContaining("IngestFunction"),
  });
});

function queueArn() {
  return `arn:aws:sqs:${REGION}:${ACCOUNT}:${stage.named("aws:sqs/queue:Queue", "SignalsQueue").inputs.name}`;
}

function parameterArn(name: string) {
  return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/firebreak/ci/${name}`;
}

function tableArns(table: string) {
  const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
  return [arn, `${arn}/index/*`];
}

/** The dispatcher's filter patterns as the deployed event source mapping carries them. */
function deployedDispatchFilters(): string[] {
  const mapping = stage
    .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
    .find((m) => String(m.inputs.eventSourceArn).includes("/stream/"));
  return mapping?.inputs.filterCriteria.filters.map((f: { pattern: string }) => f.pattern) ?? [];
}

/**
 * A stream record of an incident with one action waiting, as DynamoDB Streams delivers it to
 * Lambda (the item the store writes, in DynamoDB JSON: every number a string).
 */
function pendingIncidentRecord() {
  const table = stage.named("aws:dynamodb/table:Table", "IncidentsTable").inputs.name;
  return {
    eventID: "c81e728d9d4c2f636f067f89cc14862c",
    eventName: "MODIFY",
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: REGION,
    dynamodb: {
      ApproximateCreationDateTime: 1767225600,
      Keys: { pk: { S: "INC#01JGX4Z8K2M3N4P5Q6R7S8T9V0" }, sk: { S: "INC" } },
      NewImage: {
        pk: { S: "INC#01JGX4Z8K2M3N4P5Q6R7S8T9V0" },
        sk: { S: "INC" },
        gsi1pk: { S: "INCIDENTS#open" },
        gsi1sk: { S: "2026-01-01T00:00:00.000Z#01JGX4Z8K2M3N4P5Q6R7S8T9V0" },
        status: { S: "open" },
        severity: { S: "critical" },
        source: { S: "cloudwatch" },
        version: { N: "2" },
        pending: { N: "1" },
        gsi2pk: { S: "PENDING" },
        gsi2sk: { S: "01JGX4Z8K2M3N4P5Q6R7S8T9V0" },
        data: { S: '{"incident":{"id":"01JGX4Z8K2M3N4P5Q6R7S8T9V0"}}' },
      },
      SequenceNumber: "4421584500000000017450439091",
      SizeBytes: 412,
      StreamViewType: "NEW_IMAGE",
    },
    eventSourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/stream/2026-01-01T00:00:00.000`,
  };
}
