import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AwsEnvironment,
  type AwsGateway,
  type AwsRequest,
  type Change,
  ConfigError,
  type ConfigInput,
  executeRemediation,
  grantsOf,
  type IncidentRecord,
  lastChangeForPlanning,
  needsLastChange,
  parseConfig,
  permissionsOf,
  planResponses,
  type RemediationAction,
  type RemediationSpec,
  RollbackActionSchema,
  resolveAction,
  type TemplateSubject,
  templateProblem,
} from "../src";
import { aConfig, aRecord } from "../src/testing";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const ENV: AwsEnvironment = { partition: "aws", region: REGION, account: ACCOUNT };

const alarm = (dimensions: Record<string, string>, service: string | null = null) =>
  ({
    source: "cloudwatch",
    attributes: { account: ACCOUNT, region: "eu-west-1", alarmName: "x", dimensions },
    service,
  }) satisfies TemplateSubject;

const ALIAS_FROM_ALARM = {
  type: "rollback",
  target: { kind: "lambda-alias", functionName: "{dimensions.FunctionName}", alias: "live" },
} satisfies RemediationSpec;
const ECS_FROM_ALARM = {
  type: "scale",
  target: {
    kind: "ecs-service",
    cluster: "{dimensions.ClusterName}",
    service: "{dimensions.ServiceName}",
  },
  by: 2,
  max: 10,
} satisfies RemediationSpec;
const RDS_FROM_ALARM = {
  type: "failover",
  target: { kind: "rds-cluster", clusterId: "{dimensions.DBClusterIdentifier}" },
  approve: false,
} satisfies RemediationSpec;
const ASG_FROM_ALARM = {
  type: "scale",
  target: { kind: "autoscaling-group", name: "{dimensions.AutoScalingGroupName}" },
  by: 1,
  max: 10,
} satisfies RemediationSpec;
const LAST_CHANGE = { type: "rollback", target: "last-change" } satisfies RemediationSpec;

const CHANGE: Change = {
  id: "chg-7",
  service: "checkout",
  version: "43",
  previousVersion: "42",
  target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
  commit: "abc123",
  author: "ci",
  url: null,
  at: "2026-11-26T09:55:00.000Z",
  origin: "lambda",
  account: ACCOUNT,
};

describe("templates in the config", () => {
  it("accepts the placeholders and plain names", () => {
    for (const value of [
      "{dimensions.FunctionName}",
      "orders-{dimensions.Stage}-db",
      "{service}",
      "{account}-{region}",
      "checkout",
    ]) {
      expect(templateProblem(value), value).toBeNull();
    }
  });

  it("refuses an unknown placeholder or a stray brace, naming the path", () => {
    expect(templateProblem("{dimension.FunctionName}")).toBe(
      "unknown placeholder {dimension.FunctionName} (use {dimensions.NAME}, {service}, {account} or {region})",
    );
    expect(templateProblem("{dimensions.}")).toMatch(/^unknown placeholder \{dimensions\.\}/);
    expect(templateProblem("{{service}}")).toMatch(/unmatched/);
    expect(templateProblem("checkout}")).toMatch(/unmatched/);
    const config = (target: unknown) => ({
      responders: "anyone",
      rules: [
        {
          name: "r",
          match: { source: "cloudwatch" },
          severity: "critical",
          actions: [{ type: "rollback", target }],
        },
      ],
    });
    const typo = { kind: "lambda-alias", functionName: "{dimension.FunctionName}", alias: "live" };
    expect(() => parseConfig(config(typo))).toThrow(ConfigError);
    expect(() => parseConfig(config(typo))).toThrow(
      /rules\[0\]\.actions\[0\]\.target\.functionName: unknown placeholder \{dimension\.FunctionName\}/,
    );
    const region = { kind: "ecs-service", cluster: "prod", service: "api", region: "{regoin}" };
    expect(() => parseConfig(config(region))).toThrow(/target\.region: unknown placeholder/);
    expect(() => parseConfig(config("last-change"))).not.toThrow();
    expect(() => parseConfig(config("first-change"))).toThrow(ConfigError);
  });
});

describe("resolveAction", () => {
  it("fills each kind's target from the alarm's dimensions", () => {
    const alias = resolveAction(ALIAS_FROM_ALARM, alarm({ FunctionName: "checkout-api" }), {
      region: REGION,
    });
    expect(alias).toStrictEqual({
      ok: true,
      action: {
        type: "rollback",
        target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
      },
      targetKey: "lambda-alias:us-east-1/checkout-api:live",
    });
    const ecs = resolveAction(
      ECS_FROM_ALARM,
      alarm({ ClusterName: "prod", ServiceName: "checkout" }),
      { region: REGION },
    );
    expect(ecs.ok && ecs.action.target).toStrictEqual({
      kind: "ecs-service",
      cluster: "prod",
      service: "checkout",
    });
    expect(ecs.targetKey).toBe("ecs-service:us-east-1/prod/checkout");
    const rds = resolveAction(RDS_FROM_ALARM, alarm({ DBClusterIdentifier: "payments-db" }), {
      region: REGION,
    });
    expect(rds.targetKey).toBe("rds-cluster:us-east-1/payments-db");
  });

  it("fills {service}, {account}, {region} and parts of names", () => {
    const spec = {
      type: "scale",
      target: {
        kind: "ecs-service",
        cluster: "{account}-{dimensions.Stage}",
        service: "{service}",
        region: "{region}",
      },
      by: 1,
      max: 5,
    } satisfies RemediationSpec;
    const resolved = resolveAction(spec, alarm({ Stage: "prod" }, "checkout"), { region: REGION });
    expect(resolved).toMatchObject({
      ok: true,
      action: {
        target: {
          kind: "ecs-service",
          cluster: "123456789012-prod",
          service: "checkout",
          region: "eu-west-1",
        },
      },
      targetKey: "ecs-service:eu-west-1/123456789012-prod/checkout",
    });
  });

  it("skips with the placeholder that is not on the alarm", () => {
    expect(resolveAction(ALIAS_FROM_ALARM, alarm({ Resource: "x" }), { region: REGION })).toEqual({
      ok: false,
      reason:
        '{dimensions.FunctionName} is not on this alarm (functionName "{dimensions.FunctionName}")',
      targetKey: "lambda-alias:us-east-1/{dimensions.FunctionName}:live",
    });
    const logs: TemplateSubject = { source: "logs", attributes: { logGroup: "/x" } };
    const byService = {
      type: "rollback",
      target: { kind: "ecs-service", cluster: "prod", service: "{service}" },
    } satisfies RemediationSpec;
    expect(resolveAction(byService, logs, { region: REGION })).toMatchObject({
      ok: false,
      reason: '{service} is not on this incident (service "{service}")',
    });
    // An empty dimension value is nothing, too.
    expect(
      resolveAction(ALIAS_FROM_ALARM, alarm({ FunctionName: "" }), { region: REGION }).ok,
    ).toBe(false);
  });

  it("skips a value that is not the kind's identifier, saying which and why", () => {
    const arn = "arn:aws:lambda:us-east-1:999999999999:function:other";
    expect(
      resolveAction(ALIAS_FROM_ALARM, alarm({ FunctionName: arn }), { region: REGION }),
    ).toEqual({
      ok: false,
      reason: `functionName "${arn}" is not a Lambda function name: 1 to 64 letters, digits, hyphens or underscores`,
      targetKey: "lambda-alias:us-east-1/{dimensions.FunctionName}:live",
    });
    const rds = resolveAction(RDS_FROM_ALARM, alarm({ DBClusterIdentifier: "orders--db" }), {
      region: REGION,
    });
    expect(rds).toMatchObject({
      ok: false,
      reason:
        'clusterId "orders--db" is not an RDS DB cluster identifier: 1 to 63 letters, digits or hyphens, a letter first, no trailing or double hyphen',
    });
    const ecs = resolveAction(ECS_FROM_ALARM, alarm({ ClusterName: "prod", ServiceName: "a/b" }), {
      region: REGION,
    });
    expect(ecs).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^service "a\/b" is not an ECS service name/),
    });
    const asg = resolveAction(ASG_FROM_ALARM, alarm({ AutoScalingGroupName: "web\nx" }), {
      region: REGION,
    });
    expect(asg).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^name "web\\nx" is not/),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// No resolved value that fails its format ever reaches a request.

/** The identifier formats AWS documents, written out again here, independently of the code. */
const DOCUMENTED: Record<string, RegExp> = {
  FunctionName: /^[A-Za-z0-9_-]{1,64}$/,
  cluster: /^[A-Za-z0-9_-]{1,255}$/,
  service: /^[A-Za-z0-9_-]{1,255}$/,
  DBClusterIdentifier: /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}$/,
  AutoScalingGroupName: /^[^\p{Cc}]{1,255}$/u,
};

/** Answers every describe as a healthy target would, and records each request. */
class HealthyTargets implements AwsGateway {
  readonly requests: AwsRequest[] = [];
  async send(request: AwsRequest): Promise<unknown> {
    this.requests.push(request);
    switch (`${request.service}:${request.operation}`) {
      case "ecs:DescribeServices":
        return { services: [{ desiredCount: 2, status: "ACTIVE", deployments: [{}] }] };
      case "application-autoscaling:DescribeScalableTargets":
        return { ScalableTargets: [] };
      case "lambda:GetAlias":
        return { FunctionVersion: "5" };
      case "lambda:ListVersionsByFunction":
        return { Versions: [{ Version: "4" }, { Version: "5" }] };
      case "rds:DescribeDBClusters":
        return {
          DBClusters: [
            {
              Status: "available",
              DBClusterMembers: [
                { DBInstanceIdentifier: "w", IsClusterWriter: true },
                { DBInstanceIdentifier: "r", IsClusterWriter: false },
              ],
            },
          ],
        };
      case "autoscaling:DescribeAutoScalingGroups":
        return { AutoScalingGroups: [{ DesiredCapacity: 2, MaxSize: 10 }] };
      default:
        return {};
    }
  }
}

describe("format check (property)", () => {
  const value = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 80 }),
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,70}$/),
    fc.constantFrom(
      "arn:aws:lambda:us-east-1:999999999999:function:x",
      "a--b",
      "a-",
      "x".repeat(64),
    ),
  );
  const dimensions = fc.record({
    FunctionName: value,
    ClusterName: value,
    ServiceName: value,
    DBClusterIdentifier: value,
    AutoScalingGroupName: value,
  });
  const spec = fc.constantFrom<RemediationSpec>(
    ALIAS_FROM_ALARM,
    ECS_FROM_ALARM,
    RDS_FROM_ALARM,
    ASG_FROM_ALARM,
  );

  it("no resolved value that fails the format ever reaches a request", async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(spec, dimensions, async (chosen, dims) => {
        const resolved = resolveAction(chosen, alarm(dims), { region: REGION });
        const gateway = new HealthyTargets();
        if (resolved.ok) {
          await executeRemediation(resolved.action, {
            gateway,
            mode: "live",
            region: REGION,
            reference: "INC/a1",
          });
          expect(gateway.requests.length).toBeGreaterThan(0);
          sent += 1;
        }
        for (const request of gateway.requests) {
          for (const [field, format] of Object.entries(DOCUMENTED)) {
            const sent = request.input[field];
            if (typeof sent === "string")
              expect(sent, `${field} in ${request.operation}`).toMatch(format);
          }
          for (const name of (request.input.services as string[] | undefined) ?? []) {
            expect(name).toMatch(DOCUMENTED.service as RegExp);
          }
        }
      }),
      { numRuns: 400 },
    );
    // Both sides were exercised: well-formed names were acted on, the rest never sent.
    expect(sent).toBeGreaterThan(20);
    expect(sent).toBeLessThan(380);
  });
});

// ---------------------------------------------------------------------------------------------
// Planning: the ledger holds the resolved action and is keyed by the resolved target.

const AT = "2026-11-26T10:00:00.000Z";
const NOW = Date.parse(AT);

/** Actions as a config file writes them (durations as text). */
type ActionsInput = NonNullable<ConfigInput["rules"]>[number]["actions"];

function openedWith(actions: ActionsInput, dimensions: Record<string, string>): IncidentRecord {
  const record = aRecord({ rule: "lambda-errors", severity: "critical" });
  record.incident.attributes = { ...record.incident.attributes, dimensions };
  record.incident.service = "checkout";
  const config = aConfig({
    rules: [
      { name: "lambda-errors", match: { source: "cloudwatch" }, severity: "critical", actions },
    ],
  });
  return planResponses(record, [{ type: "opened", at: AT }], {
    config,
    now: NOW,
    region: REGION,
    lastChange: CHANGE,
  });
}

describe("planning resolves targets", () => {
  it("records the filled-in action under the resolved target's key", () => {
    const record = openedWith([ALIAS_FROM_ALARM], { FunctionName: "checkout-api" });
    expect(record.actions).toHaveLength(1);
    expect(record.actions[0]).toMatchObject({
      type: "rollback",
      status: "planned",
      targetKey: "lambda-alias:us-east-1/checkout-api:live",
      spec: { type: "rollback", target: { functionName: "checkout-api", alias: "live" } },
    });
    expect(RollbackActionSchema.parse(record.actions[0]?.spec)).toBeTruthy();
  });

  it("records a skipped action with the reason when the alarm lacks the dimension", () => {
    const record = openedWith([ALIAS_FROM_ALARM, ECS_FROM_ALARM], { FunctionName: "checkout-api" });
    expect(record.actions.map((action) => [action.status, action.reason])).toEqual([
      ["planned", null],
      [
        "skipped",
        '{dimensions.ClusterName} is not on this alarm (cluster "{dimensions.ClusterName}")',
      ],
    ]);
    expect(record.timeline.filter((entry) => entry.type === "action")).toMatchObject([
      { status: "planned", target: "lambda-alias:us-east-1/checkout-api:live" },
      {
        status: "skipped",
        target: "ecs-service:us-east-1/{dimensions.ClusterName}/{dimensions.ServiceName}",
      },
    ]);
  });

  it("counts a re-trigger's cooldown against the resolved target", () => {
    const opened = openedWith([ECS_FROM_ALARM], { ClusterName: "prod", ServiceName: "api" });
    const config = aConfig({
      rules: [
        {
          name: "lambda-errors",
          match: { source: "cloudwatch" },
          severity: "critical",
          actions: [ECS_FROM_ALARM],
        },
      ],
    });
    const retrigger = (minutes: number) =>
      planResponses(structuredClone(opened), [{ type: "retriggered", at: AT, count: 2 }], {
        config,
        now: NOW + minutes * 60_000,
        region: REGION,
      }).actions.length;
    // The default cooldown is 10 minutes: within it, the same resolved target is not scaled again.
    expect(retrigger(5)).toBe(1);
    expect(retrigger(11)).toBe(2);
  });

  it("plans last-change as the rollback of exactly that change", () => {
    const record = openedWith([LAST_CHANGE], {});
    expect(record.actions[0]).toMatchObject({
      status: "planned",
      targetKey: "lambda-alias:us-east-1/checkout-api:live",
      spec: {
        type: "rollback",
        target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
        change: { id: "chg-7", version: "43", previousVersion: "42" },
      },
    });
  });
});

describe("last-change", () => {
  const subject = (service: string | null) => alarm({}, service);
  const resolve = (lastChange: Change | null | undefined, service: string | null = "checkout") =>
    resolveAction(LAST_CHANGE, subject(service), { region: REGION, lastChange });

  it("skips, saying why, with no service, nothing read, or no change", () => {
    expect(resolve(CHANGE, null)).toEqual({
      ok: false,
      reason: "rollback of the last change: the incident has no service (see `services`)",
      targetKey: "last-change:(no service)",
    });
    expect(resolve(undefined)).toEqual({
      ok: false,
      reason: "rollback of the last change: changes are not recorded here",
      targetKey: "last-change:checkout",
    });
    expect(resolve(null)).toEqual({
      ok: false,
      reason: "rollback of the last change: no change to checkout recorded",
      targetKey: "last-change:checkout",
    });
    expect(resolve({ ...CHANGE, target: null })).toMatchObject({
      reason:
        "rollback of the last change: change chg-7 (checkout 43) names no target to roll back",
    });
    expect(resolve({ ...CHANGE, previousVersion: null })).toMatchObject({
      reason:
        "rollback of the last change: change chg-7 (checkout 43): no previous version to go back to",
    });
    expect(resolve({ ...CHANGE, previousVersion: "v42" })).toMatchObject({
      reason:
        'rollback of the last change: change chg-7 (checkout 43): previousVersion "v42" is not a published Lambda version number',
    });
    expect(resolve({ ...CHANGE, service: "orders" })).toMatchObject({
      reason: "rollback of the last change: change chg-7 (orders 43) is not a change to checkout",
    });
    const codedeploy: Change = {
      ...CHANGE,
      version: "build-43",
      target: { kind: "codedeploy", application: "shop", deploymentGroup: "prod" },
    };
    expect(resolve(codedeploy)).toMatchObject({
      reason:
        'rollback of the last change: change chg-7 (checkout build-43): version "build-43" is not a CodeDeploy deployment id such as d-A1B2C3D4E',
    });
  });

  it("resolves to the change's target and versions", () => {
    expect(resolve(CHANGE)).toStrictEqual({
      ok: true,
      action: {
        type: "rollback",
        target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
        change: { id: "chg-7", version: "43", previousVersion: "42" },
      },
      targetKey: "lambda-alias:us-east-1/checkout-api:live",
    });
  });

  it("reads the change store only when planning may roll back", async () => {
    const asked: Array<[string, string]> = [];
    const lookup = {
      async lastChange(service: string, before: string) {
        asked.push([service, before]);
        return CHANGE;
      },
    };
    const config = aConfig({
      rules: [
        {
          name: "undo",
          match: { source: "cloudwatch" },
          severity: "critical",
          actions: [LAST_CHANGE],
        },
        { name: "page-only", match: { source: "logs" }, severity: "critical" },
      ],
    });
    const incident = { ...alarm({}, "checkout"), rule: "undo" };
    const opened = [{ type: "opened", at: AT }] as const;
    expect(await lastChangeForPlanning(lookup, incident, opened, config, NOW)).toBe(CHANGE);
    expect(asked).toEqual([["checkout", AT]]);
    const resolved = [{ type: "resolved", at: AT, by: "x" }] as const;
    expect(await lastChangeForPlanning(lookup, incident, resolved, config, NOW)).toBeUndefined();
    const other = { ...incident, rule: "page-only" };
    expect(await lastChangeForPlanning(lookup, other, opened, config, NOW)).toBeUndefined();
    expect(needsLastChange(config.rules[1]?.actions ?? [])).toBe(false);
    const ladder = [{ ...ECS_FROM_ALARM, ifIneffective: [LAST_CHANGE] }];
    expect(needsLastChange(ladder)).toBe(true);
    const noService = { ...incident, service: null };
    expect(await lastChangeForPlanning(lookup, noService, opened, config, NOW)).toBeUndefined();
    expect(asked).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Rolling back to a change's version.

type Replies = Record<string, unknown>;

class Scripted implements AwsGateway {
  readonly requests: AwsRequest[] = [];
  constructor(private readonly replies: Replies) {}
  async send(request: AwsRequest): Promise<unknown> {
    this.requests.push(request);
    return this.replies[`${request.service}:${request.operation}`] ?? {};
  }
  get changes() {
    return this.requests.filter((request) =>
      ["UpdateAlias", "StopDeployment", "CreateDeployment", "UpdateService"].includes(
        request.operation,
      ),
    );
  }
}

async function undo(change: Change, replies: Replies) {
  const resolved = resolveAction(LAST_CHANGE, alarm({}, "checkout"), {
    region: REGION,
    lastChange: change,
  });
  if (!resolved.ok) throw new Error(resolved.reason);
  const gateway = new Scripted(replies);
  const outcome = await executeRemediation(resolved.action, {
    gateway,
    mode: "live",
    region: REGION,
    reference: "INC/a1",
  });
  return { outcome, gateway, action: resolved.action };
}

const TD = (revision: number) =>
  `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/checkout:${revision}`;
const ECS_CHANGE: Change = {
  ...CHANGE,
  origin: "ecs",
  version: "checkout:43",
  previousVersion: "checkout:42",
  target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
};
const DEPLOYMENT_CHANGE: Change = {
  ...CHANGE,
  origin: "codedeploy",
  version: "d-A1B2C3D4E",
  previousVersion: null,
  target: { kind: "codedeploy", application: "shop", deploymentGroup: "prod" },
};
const REVISION = {
  revisionType: "S3",
  s3Location: { bucket: "builds", key: "shop-42.zip", bundleType: "zip" },
};
const deployment = (status: string, group = "prod", previousRevision?: unknown) => ({
  deploymentInfo: {
    applicationName: "shop",
    deploymentGroupName: group,
    status,
    ...(previousRevision ? { previousRevision } : {}),
  },
});

describe("rolling back a change", () => {
  it("sets the alias back to the change's previous version", async () => {
    const { outcome, gateway } = await undo(CHANGE, {
      "lambda:GetAlias": { FunctionVersion: "43" },
    });
    expect(outcome).toMatchObject({
      status: "succeeded",
      reason: "alias live: version 43 → 42 (rolls back change chg-7)",
    });
    expect(gateway.changes).toEqual([
      {
        service: "lambda",
        operation: "UpdateAlias",
        region: REGION,
        input: {
          FunctionName: "checkout-api",
          Name: "live",
          FunctionVersion: "42",
          RoutingConfig: { AdditionalVersionWeights: {} },
        },
      },
    ]);
  });

  it("stops the change's canary as well", async () => {
    const { gateway } = await undo(CHANGE, {
      "lambda:GetAlias": {
        FunctionVersion: "42",
        RoutingConfig: { AdditionalVersionWeights: { "43": 0.1 } },
      },
    });
    expect(gateway.changes.map((request) => request.input.FunctionVersion)).toEqual(["42"]);
  });

  it("leaves an alias that moved since alone", async () => {
    const { outcome, gateway } = await undo(CHANGE, {
      "lambda:GetAlias": { FunctionVersion: "44" },
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason:
        "alias live serves 44, not version 43 that change chg-7 deployed: changed since, left alone",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("stops exactly the change's CodeDeploy deployment, with automatic rollback", async () => {
    const { outcome, gateway } = await undo(DEPLOYMENT_CHANGE, {
      "codedeploy:GetDeployment": deployment("InProgress"),
    });
    expect(outcome.reason).toBe(
      "stopped d-A1B2C3D4E with automatic rollback (rolls back change chg-7)",
    );
    expect(gateway.requests.map((request) => [request.operation, request.input])).toEqual([
      ["GetDeployment", { deploymentId: "d-A1B2C3D4E" }],
      ["StopDeployment", { deploymentId: "d-A1B2C3D4E", autoRollbackEnabled: true }],
    ]);
  });

  it("deploys the revision before a deployment that already succeeded again", async () => {
    const { outcome, gateway } = await undo(DEPLOYMENT_CHANGE, {
      "codedeploy:GetDeployment": deployment("Succeeded", "prod", REVISION),
    });
    expect(outcome.reason).toBe(
      "deployed the revision before d-A1B2C3D4E again (rolls back change chg-7)",
    );
    expect(gateway.requests.map((request) => [request.operation, request.input])).toEqual([
      ["GetDeployment", { deploymentId: "d-A1B2C3D4E" }],
      [
        "CreateDeployment",
        {
          applicationName: "shop",
          deploymentGroupName: "prod",
          revision: REVISION,
          description: "Firebreak: rolls back d-A1B2C3D4E (change chg-7)",
        },
      ],
    ]);
  });

  it("skips a finished deployment with nothing before it, or one of another group", async () => {
    const finished = await undo(DEPLOYMENT_CHANGE, {
      "codedeploy:GetDeployment": deployment("Succeeded"),
    });
    expect(finished.outcome).toMatchObject({
      status: "skipped",
      reason:
        "deployment d-A1B2C3D4E is Succeeded: neither in progress (to stop) nor succeeded with a revision before it (to deploy again)",
    });
    const elsewhere = await undo(DEPLOYMENT_CHANGE, {
      "codedeploy:GetDeployment": deployment("InProgress", "staging"),
    });
    expect(elsewhere.outcome.reason).toBe(
      "deployment d-A1B2C3D4E belongs to shop/staging, not shop/prod",
    );
    expect([...finished.gateway.changes, ...elsewhere.gateway.changes]).toEqual([]);
  });

  it("sets an ECS service back to the change's previous task definition", async () => {
    const service = (revision: number) => ({
      "ecs:DescribeServices": { services: [{ desiredCount: 3, taskDefinition: TD(revision) }] },
    });
    const { outcome, gateway } = await undo(ECS_CHANGE, service(43));
    expect(outcome.reason).toBe(
      "task definition checkout:43 → checkout:42 (rolls back change chg-7)",
    );
    expect(gateway.changes).toEqual([
      {
        service: "ecs",
        operation: "UpdateService",
        region: REGION,
        input: { cluster: "prod", service: "checkout", taskDefinition: TD(42) },
      },
    ]);
    const moved = await undo(ECS_CHANGE, service(44));
    expect(moved.outcome).toMatchObject({
      status: "skipped",
      reason:
        "service runs checkout:44, not checkout:43 that change chg-7 deployed: changed since, left alone",
    });
  });

  it("declares every operation a change's rollback sends", async () => {
    const runs = [
      await undo(CHANGE, { "lambda:GetAlias": { FunctionVersion: "43" } }),
      await undo(DEPLOYMENT_CHANGE, { "codedeploy:GetDeployment": deployment("InProgress") }),
      await undo(DEPLOYMENT_CHANGE, {
        "codedeploy:GetDeployment": deployment("Succeeded", "prod", REVISION),
      }),
      await undo(ECS_CHANGE, {
        "ecs:DescribeServices": { services: [{ desiredCount: 3, taskDefinition: TD(43) }] },
      }),
    ];
    for (const { gateway, action } of runs) {
      const declared = permissionsOf(action, ENV).flatMap((statement) => statement.actions);
      const granted = grantsOf(LAST_CHANGE, ENV).flatMap((statement) => statement.actions);
      for (const request of gateway.requests) {
        expect(declared).toContain(`${request.service}:${request.operation}`);
        expect(granted).toContain(`${request.service}:${request.operation}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// IAM derived from what templates can produce.

describe("grantsOf", () => {
  const lambda = (resource: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:${resource}`;

  it("a templated function name is function:* in its own account and region, nothing wider", () => {
    expect(grantsOf(ALIAS_FROM_ALARM, ENV)).toStrictEqual([
      {
        actions: ["lambda:GetAlias", "lambda:UpdateAlias"],
        resources: [lambda("function:*"), lambda("function:*:live")],
      },
      { actions: ["lambda:ListVersionsByFunction"], resources: [lambda("function:*")] },
    ]);
  });

  it("only the templated part of a name becomes *", () => {
    const spec = {
      type: "rollback",
      target: { kind: "lambda-alias", functionName: "checkout-{dimensions.Stage}", alias: "live" },
    } satisfies RemediationSpec;
    expect(grantsOf(spec, ENV)[0]?.resources).toEqual([
      lambda("function:checkout-*"),
      lambda("function:checkout-*:live"),
    ]);
  });

  it("ECS, RDS and Auto Scaling templates", () => {
    expect(grantsOf(ECS_FROM_ALARM, ENV)[0]).toStrictEqual({
      actions: ["ecs:DescribeServices", "ecs:UpdateService"],
      resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/*/*`],
    });
    expect(grantsOf(RDS_FROM_ALARM, ENV)).toStrictEqual([
      {
        actions: ["rds:DescribeDBClusters"],
        resources: [`arn:aws:rds:us-east-1:${ACCOUNT}:cluster:*`],
      },
      {
        actions: ["rds:FailoverDBCluster"],
        resources: [
          `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:*`,
          `arn:aws:rds:us-east-1:${ACCOUNT}:db:*`,
        ],
      },
    ]);
    expect(grantsOf(ASG_FROM_ALARM, ENV)[1]).toStrictEqual({
      actions: ["autoscaling:SetDesiredCapacity"],
      resources: [
        `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`,
      ],
    });
  });

  it("a templated region is * in the region segment only", () => {
    const spec = {
      type: "rollback",
      target: { kind: "lambda-alias", functionName: "checkout", alias: "live", region: "{region}" },
    } satisfies RemediationSpec;
    expect(grantsOf(spec, ENV)[0]?.resources).toEqual([
      `arn:aws:lambda:*:${ACCOUNT}:function:checkout`,
      `arn:aws:lambda:*:${ACCOUNT}:function:checkout:live`,
    ]);
  });

  it("a plain target is granted exactly as before", () => {
    const plain: RemediationAction = {
      type: "rollback",
      target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
    };
    expect(grantsOf(plain, ENV)).toStrictEqual(permissionsOf(plain, ENV));
  });

  it("last-change: the rollback operations of the kinds a change can name", () => {
    const codedeploy = (resource: string) => `arn:aws:codedeploy:us-east-1:${ACCOUNT}:${resource}`;
    expect(grantsOf(LAST_CHANGE, ENV)).toStrictEqual([
      {
        actions: ["lambda:GetAlias", "lambda:UpdateAlias"],
        resources: [lambda("function:*"), lambda("function:*:*")],
      },
      { actions: ["lambda:ListVersionsByFunction"], resources: [lambda("function:*")] },
      {
        actions: [
          "codedeploy:CreateDeployment",
          "codedeploy:GetDeployment",
          "codedeploy:ListDeployments",
          "codedeploy:StopDeployment",
        ],
        resources: [codedeploy("deploymentgroup:*/*")],
      },
      { actions: ["codedeploy:GetApplicationRevision"], resources: [codedeploy("application:*")] },
      {
        actions: ["codedeploy:GetDeploymentConfig"],
        resources: [codedeploy("deploymentconfig:*")],
      },
      {
        actions: ["ecs:DescribeServices", "ecs:UpdateService"],
        resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/*/*`],
      },
      { actions: ["ecs:ListTaskDefinitions"], resources: ["*"] },
      {
        actions: [
          "codedeploy:GetDeployment",
          "codedeploy:ListDeployments",
          "codedeploy:StopDeployment",
        ],
        resources: [codedeploy("deploymentgroup:*/*")],
      },
    ]);
  });
});
