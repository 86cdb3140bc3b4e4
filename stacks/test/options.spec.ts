import {
  type ConfigInput,
  defineConfig,
  grantsOf,
  parseConfig,
  type RemediationAction,
} from "@firebreak/core";
import { beforeAll, describe, expect, test } from "vitest";
import { firebreak } from "../index";
import { deployOptions } from "../options";
import { checkPolicySize, policyForDeploy, remediationStatements, secretNameOf } from "../policy";
import { ACCOUNT, isRemediation, pairs, REGION, type Synth, statementsOf, synth } from "./harness";

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const REPLICA_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abcd1234-12ab-34cd-56ef-1234567890ab`;

/** Every remediation kind there is, some in another region, and channels with secrets. */
const everything = defineConfig({
  responders: "anyone",
  rules: [
    {
      name: "all-remediations",
      match: { source: "cloudwatch", alarmName: "*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "api" },
          by: 2,
          max: 10,
        },
        {
          type: "scale",
          target: { kind: "autoscaling-group", name: "web", region: "eu-west-1" },
          factor: 2,
          max: 8,
        },
        {
          type: "scale",
          target: {
            kind: "lambda-provisioned-concurrency",
            functionName: "checkout",
            qualifier: "live",
          },
          by: 5,
          max: 50,
        },
        {
          type: "rollback",
          target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
        },
        {
          type: "rollback",
          target: { kind: "codedeploy", application: "shop", deploymentGroup: "prod" },
        },
        { type: "rollback", target: { kind: "ecs-service", cluster: "prod", service: "worker" } },
        // Templated: the function name comes from the alarm, so the grant is function:* there.
        {
          type: "rollback",
          target: {
            kind: "lambda-alias",
            functionName: "{dimensions.FunctionName}",
            alias: "live",
          },
        },
        { type: "rollback", target: "last-change" },
        {
          type: "failover",
          target: { kind: "rds-cluster", clusterId: "orders", targetInstance: "orders-2" },
        },
        {
          type: "failover",
          target: {
            kind: "route53-weights",
            hostedZoneId: "Z0123456789ABC",
            recordName: "api.example.com.",
            primary: "a",
            secondary: "b",
          },
        },
        { type: "page", channel: "oncall" },
      ],
    },
  ],
  channels: {
    oncall: {
      pagerduty: { routingKey: "env:PAGERDUTY_ONCALL_KEY" },
      slackWebhook: "env:SLACK_ONCALL_WEBHOOK",
    },
    managers: {
      sns: `arn:aws:sns:${REGION}:${ACCOUNT}:managers`,
      pagerduty: { routingKey: "env:PAGERDUTY_ONCALL_KEY" },
    },
  },
});

/** A customer managed key for the stage's SecureString parameters. */
const SECRETS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/5678abcd-12ab-34cd-56ef-1234567890ab`;
const parameterArn = (name: string) =>
  `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/firebreak/staging/${name}`;

let s: Synth;
beforeAll(async () => {
  s = await synth(
    async () =>
      firebreak({
        config: everything,
        configOrigin: "test config",
        options: {
          logGroups: [
            "/aws/lambda/checkout",
            { name: "/ecs/orders", filterPattern: "?ERROR ?FATAL" },
          ],
          table: {
            kmsKeyArn: KEY,
            replicaRegions: [{ region: "eu-west-1", kmsKeyArn: REPLICA_KEY }],
            recoveryDays: 14,
          },
          integrations: { slack: false },
          secrets: { kmsKeyArn: SECRETS_KEY },
          console: false,
          alarms: { heartbeat: "30m", emails: ["oncall@example.com"] },
          logRetention: "3 months",
        },
      }).outputs,
    { stage: "staging" },
  );
});

const fn = (name: string) => s.named("aws:lambda/function:Function", `${name}Function`);
const env = (name: string): Record<string, string> => fn(name).inputs.environment.variables;

describe("remediation grants", () => {
  test("every kind of remediation: the dispatcher may do exactly what grantsOf declares", () => {
    const remediations = parseConfig(everything).rules.flatMap((rule) =>
      rule.actions.flatMap((a) => (a.type === "page" ? [] : [a])),
    );
    expect(remediations).toHaveLength(10);
    const declared = remediations.flatMap((action) =>
      grantsOf(action, { partition: "aws", region: REGION, account: ACCOUNT }),
    );
    const dispatch = s.named("aws:iam/role:Role", "DispatchRole");
    const granted = statementsOf(dispatch)
      .map((st) => ({ actions: st.Action.filter(isRemediation), resources: st.Resource }))
      .filter((st) => st.actions.length > 0);
    expect(pairs(granted)).toEqual(pairs(declared));
    // The target in eu-west-1 is granted there, not in the stack's region.
    expect([...pairs(granted)]).toContain(
      `autoscaling:SetDesiredCapacity arn:aws:autoscaling:eu-west-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/web`,
    );
    for (const role of s.ofType("aws:iam/role:Role")) {
      if (role.name === "DispatchRole") continue;
      const actions = statementsOf(role).flatMap((st) => st.Action.filter(isRemediation));
      expect(
        actions.filter((a) => a !== "lambda:InvokeFunction"),
        role.name,
      ).toEqual([]);
    }
  });

  test("identical action lists are merged; the policy budget stops a config too big for one role", () => {
    const ecs = (service: string): RemediationAction => ({
      type: "rollback",
      target: { kind: "ecs-service", cluster: "prod", service },
    });
    const env = { partition: "aws", region: REGION, account: ACCOUNT };
    const merged = remediationStatements([ecs("a"), ecs("b"), ecs("a")], env);
    expect(merged).toContainEqual({
      actions: ["ecs:DescribeServices", "ecs:UpdateService"],
      resources: [
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/a`,
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/b`,
      ],
    });
    const many = Array.from({ length: 200 }, (_, i) => ecs(`service-${i}`));
    expect(() => checkPolicySize(remediationStatements(many, env))).toThrow(
      /budget of the dispatcher's role/,
    );
    // ...checked with the policy, before anything is deployed.
    const big = {
      responders: "anyone",
      rules: Array.from({ length: 10 }, (_, i) => ({
        name: `rule-${i}`,
        match: { source: "logs" },
        severity: "critical",
        actions: many.slice(i * 20, i * 20 + 20),
      })),
    };
    expect(() => policyForDeploy(big)).toThrow(/IAM policy, over the 8000 budget/);
  });
});

describe("channel secrets", () => {
  test("a parameter per env: reference, read by the dispatcher and no other function", () => {
    expect(s.outputs.secretParameters).toEqual([
      "/firebreak/staging/ApiTokens",
      "/firebreak/staging/CalendarToken",
      "/firebreak/staging/SentryClientSecret",
      "/firebreak/staging/SlackOncallWebhook",
      "/firebreak/staging/PagerdutyOncallKey",
    ]);
    const reads = (name: string) =>
      statementsOf(s.named("aws:iam/role:Role", `${name}Role`)).filter(
        (st) =>
          // The table's own key has grants of its own (kms:Decrypt for DynamoDB): not these.
          st.Action.some((action) => action.startsWith("ssm:")) ||
          st.Resource.includes(SECRETS_KEY),
      );
    // With a customer managed key: kms:Decrypt on that key, through SSM only.
    const keyGrant = {
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [SECRETS_KEY],
      Condition: { StringEquals: { "kms:ViaService": [`ssm.${REGION}.amazonaws.com`] } },
    };
    expect(reads("Dispatch")).toEqual([
      {
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: [parameterArn("SlackOncallWebhook"), parameterArn("PagerdutyOncallKey")],
      },
      keyGrant,
    ]);
    expect(reads("Api")).toEqual([
      {
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: [parameterArn("ApiTokens"), parameterArn("CalendarToken")],
      },
      keyGrant,
    ]);
    for (const name of ["Ingest", "Process", "Escalations"]) expect(reads(name), name).toEqual([]);
    // Names, never values: the dispatcher gets the path, and no variable per channel secret.
    expect(env("Dispatch").SECRETS_PATH).toBe("/firebreak/staging");
    expect(env("Dispatch").PAGERDUTY_ONCALL_KEY).toBeUndefined();
    expect(s.builds.get("Dispatch")?.links).toEqual({});
    expect(secretNameOf("PAGERDUTY_ONCALL_KEY")).toBe("PagerdutyOncallKey");
  });

  test("the dispatcher may publish to the SNS channels only", () => {
    const publish = statementsOf(s.named("aws:iam/role:Role", "DispatchRole")).filter((st) =>
      st.Action.includes("sns:Publish"),
    );
    expect(publish).toEqual([
      {
        Effect: "Allow",
        Action: ["sns:Publish"],
        Resource: [`arn:aws:sns:${REGION}:${ACCOUNT}:managers`],
      },
    ]);
  });
});

describe("deploy options", () => {
  test("log groups: a subscription filter each, invocable only by CloudWatch Logs of this account", () => {
    const filters = s
      .ofType("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
      .map((f) => f.inputs);
    expect(filters).toEqual([
      expect.objectContaining({
        logGroup: "/aws/lambda/checkout",
        filterPattern: "",
        destinationArn: expect.stringContaining("IngestFunction"),
      }),
      expect.objectContaining({
        logGroup: "/ecs/orders",
        filterPattern: "?ERROR ?FATAL",
        destinationArn: expect.stringContaining("IngestFunction"),
      }),
    ]);
    const permissions = s
      .ofType("aws:lambda/permission:Permission")
      .filter((p) => p.inputs.principal === "logs.amazonaws.com")
      .map((p) => p.inputs);
    // One grant for the account's log groups, however many are watched: a grant per group
    // would outgrow the function's 20 KB resource policy (stacks/test/limits.spec.ts).
    expect(permissions).toEqual([
      expect.objectContaining({
        sourceAccount: ACCOUNT,
        sourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`,
      }),
    ]);
  });

  test("a customer key and a replica region: encrypted with the key, replicated with PITR", () => {
    const table = s.named("aws:dynamodb/table:Table", "IncidentsTable").inputs;
    expect(table.serverSideEncryption).toEqual({ enabled: true, kmsKeyArn: KEY });
    expect(table.replicas).toEqual([
      { regionName: "eu-west-1", pointInTimeRecovery: true, kmsKeyArn: REPLICA_KEY },
    ]);
    expect(table.streamViewType).toBe("NEW_AND_OLD_IMAGES");
    expect(table.pointInTimeRecovery).toEqual({ enabled: true, recoveryPeriodInDays: 14 });
    // Not a production stage: removable.
    expect(table.deletionProtectionEnabled).toBe(false);
  });

  test("Slack turned off: no function, route, secret or URL", () => {
    expect(s.ofType("sst:aws:Function").map((f) => f.name)).not.toContain("Slack");
    expect(s.outputs.secretParameters).not.toContain("/firebreak/staging/SlackSigningSecret");
    expect(s.ofType("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey)).not.toContain(
      "POST /slack/commands",
    );
    expect(s.outputs.slackCommandUrl).toBeUndefined();
    expect(s.outputs.sentryWebhookUrl).toBeDefined();
  });

  test("the console turned off: no site, no distribution, and no browser may call the API", () => {
    expect(s.ofType("aws:cloudfront/distribution:Distribution")).toEqual([]);
    expect(s.outputs.consoleUrl).toBeUndefined();
    expect(
      s.named("aws:apigatewayv2/api:Api", "HttpApiApi").inputs.corsConfiguration ?? {},
    ).toEqual({});
  });

  test("a 30-minute heartbeat is one period; operators get email; logs kept 3 months", () => {
    const heartbeat = s
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.inputs.name === "firebreak-staging-heartbeat");
    expect(heartbeat?.inputs).toMatchObject({ evaluationPeriods: 1, datapointsToAlarm: 1 });
    expect(heartbeat?.inputs.metricQueries[0].metric.period).toBe(1800);
    expect(
      s.named("aws:sns/topicSubscription:TopicSubscription", "OpsEmail0").inputs,
    ).toMatchObject({
      protocol: "email",
      endpoint: "oncall@example.com",
      topic: s.outputs.opsTopicArn,
    });
    expect(
      s.named("aws:cloudwatch/logGroup:LogGroup", "DispatchLogGroup").inputs.retentionInDays,
    ).toBe(90);
  });

  test("bad options fail before anything is created, naming the path", () => {
    expect(() => deployOptions({ logGroups: ["/aws/lambda/*"] })).toThrow(
      /logGroups\[0\].*no wildcards/,
    );
    expect(() => deployOptions({ alarms: { heartbeat: "90m" } })).toThrow(
      /alarms\.heartbeat.*whole hours/,
    );
    expect(() =>
      deployOptions({ table: { kmsKeyArn: KEY, replicaRegions: [{ region: "eu-west-1" }] } }),
    ).toThrow(/table\.replicaRegions.*same kind of key/);
    expect(() => deployOptions({ processor: { batchSize: 100, batchWindowSeconds: 0 } })).toThrow(
      /batchWindowSeconds/,
    );
    expect(() => deployOptions({ logGroup: [] } as never)).toThrow(/logGroup: unknown key/);
  });
});

describe("the policy at deploy time", () => {
  test("an invalid policy stops the deploy, naming the path", () => {
    const bad = { rules: [{ name: "x", match: { alarmNam: "*" }, severity: "critical" }] };
    expect(() => policyForDeploy(bad, "monitoring.config.ts")).toThrow(
      /monitoring\.config\.ts.*rules\[0\]\.match\.alarmNam: unknown key/,
    );
  });

  test("secrets written into the policy are refused: they would ship inside the bundle", () => {
    const literal: ConfigInput = {
      channels: { oncall: { pagerduty: { routingKey: "R0UT1NGKEY" } } },
    };
    expect(() => policyForDeploy(literal)).toThrow(
      /channels\.oncall\.pagerduty\.routingKey: write env:NAME/,
    );
    const reserved: ConfigInput = {
      channels: { oncall: { slackWebhook: "env:AWS_SECRET_ACCESS_KEY" } },
    };
    expect(() => policyForDeploy(reserved)).toThrow(/AWS_SECRET_ACCESS_KEY is reserved/);
    const clash: ConfigInput = {
      channels: { a: { slackWebhook: "env:ONCALL_HOOK" }, b: { slackWebhook: "env:ONCALL__HOOK" } },
    };
    expect(() => policyForDeploy(clash)).toThrow(/would share the parameter OncallHook/);
  });

  test("a policy that does not survive JSON is refused: the functions read the JSON", () => {
    // What the module says and what its JSON says differ (a value JSON cannot carry).
    const hidden = Object.defineProperty({ rules: [] }, "default", {
      value: { severity: "warning" },
      enumerable: false,
    });
    expect(() => policyForDeploy(hidden)).toThrow(/does not survive JSON/);
    const withUndefined = {
      rules: [
        { name: "r", match: { source: "logs" }, severity: "warning", description: undefined },
      ],
    };
    expect(policyForDeploy(withUndefined).json).not.toContain("description");
  });
});
