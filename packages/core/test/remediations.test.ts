import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ActionRecord,
  AwsCallError,
  type AwsEnvironment,
  type AwsGateway,
  type AwsRequest,
  type ExecutionMode,
  executeRemediation,
  FailoverActionSchema,
  permissionsOf,
  type RemediationAction,
  type RestoreMinCapacityAction,
  RestoreMinCapacityActionSchema,
  RollbackActionSchema,
  type RunnableAction,
  restoreOnResolve,
  ScaleActionSchema,
  targetKeyOf,
} from "../src";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const ENV: AwsEnvironment = { partition: "aws", region: REGION, account: ACCOUNT };
const REFERENCE = "INC-42/a1";

// ---------------------------------------------------------------------------------------------
// A scripted gateway: `service:Operation` → a reply, or a function of the request that returns
// one or throws. Every request is recorded; change operations answer `{}` unless scripted.

type Reply = unknown;
type Script = Record<string, Reply>;

const CHANGES = new Set([
  "ecs:UpdateService",
  "application-autoscaling:RegisterScalableTarget",
  "autoscaling:SetDesiredCapacity",
  "lambda:PutProvisionedConcurrencyConfig",
  "lambda:UpdateAlias",
  "codedeploy:StopDeployment",
  "rds:FailoverDBCluster",
  "route53:ChangeResourceRecordSets",
]);

class ScriptedGateway implements AwsGateway {
  readonly requests: AwsRequest[] = [];
  constructor(private readonly script: Script) {}

  async send(request: AwsRequest): Promise<unknown> {
    this.requests.push(structuredClone(request));
    const key = `${request.service}:${request.operation}`;
    const reply = Object.hasOwn(this.script, key) ? this.script[key] : undefined;
    if (reply === undefined) {
      if (CHANGES.has(key)) return {};
      throw new Error(`the script has no reply to ${key}`);
    }
    return typeof reply === "function" ? reply(request) : structuredClone(reply);
  }

  /** `service:Operation` of every request, in order. */
  get operations(): string[] {
    return this.requests.map((request) => `${request.service}:${request.operation}`);
  }

  get changes(): AwsRequest[] {
    return this.requests.filter((request) =>
      CHANGES.has(`${request.service}:${request.operation}`),
    );
  }
}

/** A reply that throws the AwsCallError a gateway would. */
const fails =
  (errorCode: string, retryable = false) =>
  (request: AwsRequest) => {
    throw new AwsCallError(request, errorCode, `${errorCode} (scripted)`, retryable);
  };

async function run(action: RunnableAction, script: Script, mode: ExecutionMode = "live") {
  const gateway = new ScriptedGateway(script);
  const outcome = await executeRemediation(action, {
    gateway,
    mode,
    region: REGION,
    reference: REFERENCE,
  });
  return { outcome, gateway };
}

async function failure(action: RemediationAction, script: Script) {
  const gateway = new ScriptedGateway(script);
  const error = await executeRemediation(action, {
    gateway,
    mode: "live",
    region: REGION,
    reference: REFERENCE,
  }).catch((caught: unknown) => caught);
  return { error, gateway };
}

// ---------------------------------------------------------------------------------------------
// Actions, parsed with the real schemas.

type Step = { by: number } | { factor: number };

const ECS = { kind: "ecs-service", cluster: "prod", service: "checkout" };
const ASG = { kind: "autoscaling-group", name: "web" };
const LAMBDA_PC = {
  kind: "lambda-provisioned-concurrency",
  functionName: "checkout-api",
  qualifier: "live",
};
const ALIAS = { kind: "lambda-alias", functionName: "checkout-api", alias: "live" };
const CODEDEPLOY = { kind: "codedeploy", application: "checkout", deploymentGroup: "prod" };
const RDS = { kind: "rds-cluster", clusterId: "orders" };
const ROUTE53 = {
  kind: "route53-weights",
  hostedZoneId: "Z0123456789ABC",
  recordName: "api.example.com.",
  primary: "eu-west-1",
  secondary: "us-east-1",
};

const scale = (target: object, step: Step, max = 20) =>
  ScaleActionSchema.parse({ type: "scale", target, max, ...step });
const rollback = (target: object) => RollbackActionSchema.parse({ type: "rollback", target });
const failover = (target: object) => FailoverActionSchema.parse({ type: "failover", target });

// ---------------------------------------------------------------------------------------------
// Describe replies.

const taskDefinition = (family: string, revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

const ecsService = (service: Record<string, unknown> = {}) => ({
  services: [
    {
      serviceName: "checkout",
      status: "ACTIVE",
      desiredCount: 4,
      runningCount: 4,
      taskDefinition: taskDefinition("checkout", 12),
      deployments: [{ status: "PRIMARY", rolloutState: "COMPLETED" }],
      ...service,
    },
  ],
  failures: [],
});
const scalableTarget = (MaxCapacity: number, MinCapacity = 1) => ({
  ScalableTargets: [{ MaxCapacity, MinCapacity }],
});
/** A service, with a scalable target when given its MaxCapacity (and MinCapacity). */
const ecsScript = (
  service: Record<string, unknown> = {},
  maxCapacity?: number,
  minCapacity = 1,
): Script => ({
  "ecs:DescribeServices": ecsService(service),
  "application-autoscaling:DescribeScalableTargets":
    maxCapacity === undefined ? { ScalableTargets: [] } : scalableTarget(maxCapacity, minCapacity),
});

const asgScript = (group: Record<string, unknown> = {}): Script => ({
  "autoscaling:DescribeAutoScalingGroups": {
    AutoScalingGroups: [
      { AutoScalingGroupName: "web", DesiredCapacity: 4, MinSize: 2, MaxSize: 10, ...group },
    ],
  },
});

const provisioned = (requested: number, Status = "READY"): Script => ({
  "lambda:GetProvisionedConcurrencyConfig": {
    RequestedProvisionedConcurrentExecutions: requested,
    AllocatedProvisionedConcurrentExecutions: requested,
    Status,
  },
});

const versions = (...numbers: string[]) => numbers.map((Version) => ({ Version }));

const rdsCluster = (members: Array<[string, boolean]>, Status = "available"): Script => ({
  "rds:DescribeDBClusters": {
    DBClusters: [
      {
        DBClusterIdentifier: "orders",
        Status,
        DBClusterMembers: members.map(([DBInstanceIdentifier, IsClusterWriter]) => ({
          DBInstanceIdentifier,
          IsClusterWriter,
        })),
      },
    ],
  },
});
const ORDERS = rdsCluster([
  ["orders-1", true],
  ["orders-2", false],
  ["orders-3", false],
]);

const record = (SetIdentifier: string, Weight: number, extra: Record<string, unknown> = {}) => ({
  Name: "api.example.com.",
  Type: "A",
  SetIdentifier,
  Weight,
  TTL: 60,
  ResourceRecords: [{ Value: SetIdentifier === "eu-west-1" ? "192.0.2.10" : "198.51.100.10" }],
  ...extra,
});
const recordSets = (...ResourceRecordSets: object[]): Script => ({
  "route53:ListResourceRecordSets": { ResourceRecordSets, IsTruncated: false, MaxItems: "100" },
});

const describeServices = {
  service: "ecs",
  operation: "DescribeServices",
  region: REGION,
  input: { cluster: "prod", services: ["checkout"] },
};
const describeScalableTargets = {
  service: "application-autoscaling",
  operation: "DescribeScalableTargets",
  region: REGION,
  input: {
    ServiceNamespace: "ecs",
    ResourceIds: ["service/prod/checkout"],
    ScalableDimension: "ecs:service:DesiredCount",
  },
};
const registerMinCapacity = (MinCapacity: number): AwsRequest => ({
  service: "application-autoscaling",
  operation: "RegisterScalableTarget",
  region: REGION,
  input: {
    ServiceNamespace: "ecs",
    ResourceId: "service/prod/checkout",
    ScalableDimension: "ecs:service:DesiredCount",
    MinCapacity,
  },
});
const updateDesiredCount = (desiredCount: number): AwsRequest => ({
  service: "ecs",
  operation: "UpdateService",
  region: REGION,
  input: { cluster: "prod", service: "checkout", desiredCount },
});

// ---------------------------------------------------------------------------------------------

describe("scale ecs-service", () => {
  it("adds `by` tasks after describing the service and its scalable target", async () => {
    const { outcome, gateway } = await run(scale(ECS, { by: 2 }), ecsScript());
    expect(gateway.requests).toStrictEqual([
      describeServices,
      describeScalableTargets,
      updateDesiredCount(6),
    ]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "desiredCount 4 → 6",
      requests: [updateDesiredCount(6)],
      before: "desiredCount 4, running 4",
    });
  });

  it("multiplies by `factor`, rounding up", async () => {
    const { outcome } = await run(scale(ECS, { factor: 1.5 }), ecsScript({ desiredCount: 5 }));
    expect(outcome.requests).toStrictEqual([updateDesiredCount(8)]);
  });

  it("does not let float error round an exact product up (100 × 1.1 is 110)", async () => {
    const { outcome } = await run(
      scale(ECS, { factor: 1.1 }, 1000),
      ecsScript({ desiredCount: 100 }),
    );
    expect(outcome.requests).toStrictEqual([updateDesiredCount(110)]);
  });

  it("caps the new count at the action's max", async () => {
    const { outcome } = await run(scale(ECS, { by: 10 }, 20), ecsScript({ desiredCount: 15 }));
    expect(outcome.requests).toStrictEqual([updateDesiredCount(20)]);
  });

  it("caps the new minimum at the scalable target's MaxCapacity when that is lower", async () => {
    const { outcome } = await run(scale(ECS, { factor: 3 }, 20), ecsScript({}, 7));
    expect(outcome.requests).toStrictEqual([registerMinCapacity(7)]);
  });

  it("raises the scalable target's MinCapacity instead of desiredCount, which a policy would undo", async () => {
    const { outcome, gateway } = await run(scale(ECS, { by: 2 }), ecsScript({}, 50, 2));
    expect(gateway.requests).toStrictEqual([
      describeServices,
      describeScalableTargets,
      registerMinCapacity(6),
    ]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "MinCapacity 2 → 6 (desiredCount 4; restored when the incident resolves)",
      requests: [registerMinCapacity(6)],
      before: "desiredCount 4, running 4; MinCapacity 2, MaxCapacity 50",
    });
  });

  it("skips when the scalable target's minimum is already at or above the new count", async () => {
    const { outcome, gateway } = await run(scale(ECS, { by: 2 }), ecsScript({}, 50, 6));
    expect(outcome.status).toBe("skipped");
    expect(gateway.changes).toEqual([]);
  });

  it("skips a blue/green service with two task sets: it is mid-deployment", async () => {
    const { outcome, gateway } = await run(
      scale(ECS, { by: 2 }),
      ecsScript({
        deploymentController: { type: "CODE_DEPLOY" },
        deployments: [],
        taskSets: [
          { status: "PRIMARY", externalId: "d-OLD" },
          { status: "ACTIVE", externalId: "d-NEW" },
        ],
      }),
    );
    expect(outcome.reason).toBe("service is mid-deployment (2 deployments): not scaling it now");
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  it("has only the action's max as cap when no scalable target is registered", async () => {
    const { outcome } = await run(scale(ECS, { by: 30 }, 20), {
      ...ecsScript(),
      "application-autoscaling:DescribeScalableTargets": { ScalableTargets: [] },
    });
    expect(outcome.requests).toStrictEqual([updateDesiredCount(20)]);
  });

  it.each([
    ["the action's max", 20, 50, "already at 20 tasks, the most allowed (max 20)"],
    ["the scalable target's MaxCapacity", 7, 7, "already at 7 tasks, the most allowed (max 7)"],
  ])("skips when already at %s", async (_, desiredCount, maxCapacity, reason) => {
    const { outcome, gateway } = await run(
      scale(ECS, { by: 2 }, 20),
      ecsScript({ desiredCount }, maxCapacity),
    );
    expect(outcome).toMatchObject({ status: "skipped", reason, requests: [] });
    expect(gateway.changes).toEqual([]);
  });

  it("skips rather than scales down a service already above the cap", async () => {
    const { outcome, gateway } = await run(
      scale(ECS, { by: 2 }, 20),
      ecsScript({ desiredCount: 25 }),
    );
    expect(outcome.status).toBe("skipped");
    expect(gateway.changes).toEqual([]);
  });

  it.each([
    [
      "two deployments",
      [
        { status: "PRIMARY", rolloutState: "IN_PROGRESS" },
        { status: "ACTIVE", rolloutState: "COMPLETED" },
      ],
      "service is mid-deployment (2 deployments): not scaling it now",
    ],
    [
      "a rollout IN_PROGRESS",
      [{ status: "PRIMARY", rolloutState: "IN_PROGRESS" }],
      "service is mid-deployment (1 deployments): not scaling it now",
    ],
  ])("skips a service mid-deployment: %s", async (_, deployments, reason) => {
    const { outcome, gateway } = await run(scale(ECS, { by: 2 }), ecsScript({ deployments }));
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason,
      requests: [],
      before: "desiredCount 4, running 4",
    });
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  it.each([
    ["missing", { services: [], failures: [{ arn: "checkout", reason: "MISSING" }] }],
    ["INACTIVE", ecsService({ status: "INACTIVE" })],
  ])("skips a service that is %s", async (_, reply) => {
    const { outcome, gateway } = await run(scale(ECS, { by: 2 }), {
      "ecs:DescribeServices": reply,
    });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "service prod/checkout not found",
      requests: [],
      before: null,
    });
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  it("calls the target's own region when it names one", async () => {
    const { gateway } = await run(scale({ ...ECS, region: "us-west-2" }, { by: 1 }), ecsScript());
    expect(gateway.requests.map((request) => request.region)).toEqual([
      "us-west-2",
      "us-west-2",
      "us-west-2",
    ]);
  });
});

describe("scale autoscaling-group", () => {
  const describeGroup = {
    service: "autoscaling",
    operation: "DescribeAutoScalingGroups",
    region: REGION,
    input: { AutoScalingGroupNames: ["web"] },
  };
  const setDesired = (DesiredCapacity: number) => ({
    service: "autoscaling",
    operation: "SetDesiredCapacity",
    region: REGION,
    input: { AutoScalingGroupName: "web", DesiredCapacity, HonorCooldown: false },
  });

  it("sets the desired capacity without honouring the group's cooldown", async () => {
    const { outcome, gateway } = await run(scale(ASG, { by: 3 }), asgScript());
    expect(gateway.requests).toStrictEqual([describeGroup, setDesired(7)]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "DesiredCapacity 4 → 7",
      requests: [setDesired(7)],
      before: "DesiredCapacity 4 of MaxSize 10",
    });
  });

  it("caps the new capacity at the group's MaxSize", async () => {
    const { outcome } = await run(scale(ASG, { factor: 2 }, 50), asgScript({ DesiredCapacity: 8 }));
    expect(outcome.requests).toStrictEqual([setDesired(10)]);
  });

  it("skips a group already at its MaxSize", async () => {
    const { outcome, gateway } = await run(
      scale(ASG, { by: 1 }, 50),
      asgScript({ DesiredCapacity: 10 }),
    );
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "already at 10 instances, the most allowed (max 10)",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("skips a group that has a Status (being deleted)", async () => {
    const { outcome, gateway } = await run(
      scale(ASG, { by: 1 }),
      asgScript({ Status: "Delete in progress" }),
    );
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: 'group is "Delete in progress": not scaling it now',
      requests: [],
      before: "DesiredCapacity 4 of MaxSize 10",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("skips a group that does not exist", async () => {
    const { outcome, gateway } = await run(scale(ASG, { by: 1 }), {
      "autoscaling:DescribeAutoScalingGroups": { AutoScalingGroups: [] },
    });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "auto scaling group web not found",
      requests: [],
      before: null,
    });
    expect(gateway.operations).toEqual(["autoscaling:DescribeAutoScalingGroups"]);
  });
});

describe("scale lambda-provisioned-concurrency", () => {
  const address = { FunctionName: "checkout-api", Qualifier: "live" };
  const put = (ProvisionedConcurrentExecutions: number) => ({
    service: "lambda",
    operation: "PutProvisionedConcurrencyConfig",
    region: REGION,
    input: { ...address, ProvisionedConcurrentExecutions },
  });
  const notConfigured: Script = {
    "lambda:GetProvisionedConcurrencyConfig": fails(
      "ProvisionedConcurrencyConfigNotFoundException",
    ),
  };

  it("raises the existing configuration by `by`", async () => {
    const { outcome, gateway } = await run(scale(LAMBDA_PC, { by: 5 }), provisioned(10));
    expect(gateway.requests).toStrictEqual([
      {
        service: "lambda",
        operation: "GetProvisionedConcurrencyConfig",
        region: REGION,
        input: address,
      },
      put(15),
    ]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "provisioned concurrency 10 → 15",
      requests: [put(15)],
      before: "provisioned concurrency 10 (READY)",
    });
  });

  it("multiplies the existing configuration, capped at the action's max", async () => {
    const { outcome } = await run(scale(LAMBDA_PC, { factor: 2 }, 15), provisioned(10));
    expect(outcome.requests).toStrictEqual([put(15)]);
  });

  it("starts from zero when none is configured yet", async () => {
    const { outcome } = await run(scale(LAMBDA_PC, { by: 5 }), notConfigured);
    expect(outcome).toMatchObject({
      status: "succeeded",
      requests: [put(5)],
      before: "provisioned concurrency 0 (none)",
    });
  });

  it("starts a factor at one when none is configured yet", async () => {
    const { outcome } = await run(scale(LAMBDA_PC, { factor: 2 }), notConfigured);
    expect(outcome.requests).toStrictEqual([put(1)]);
  });

  it("skips while provisioned concurrency is still being allocated", async () => {
    const { outcome, gateway } = await run(
      scale(LAMBDA_PC, { by: 5 }),
      provisioned(10, "IN_PROGRESS"),
    );
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "provisioned concurrency is still being allocated",
      requests: [],
      before: "provisioned concurrency 10 (IN_PROGRESS)",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("skips when already at the action's max", async () => {
    const { outcome } = await run(scale(LAMBDA_PC, { by: 5 }, 20), provisioned(20));
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "already at 20 provisioned executions, the most allowed (max 20)",
    });
  });

  it.each([
    ["ResourceNotFoundException", false],
    ["TooManyRequestsException", true],
  ])("lets any other error of the describe (%s) propagate", async (code, retryable) => {
    const { error, gateway } = await failure(scale(LAMBDA_PC, { by: 5 }), {
      "lambda:GetProvisionedConcurrencyConfig": fails(code, retryable),
    });
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ errorCode: code, retryable });
    expect(gateway.changes).toEqual([]);
  });
});

describe("rollback lambda-alias", () => {
  const getAlias = {
    service: "lambda",
    operation: "GetAlias",
    region: REGION,
    input: { FunctionName: "checkout-api", Name: "live" },
  };
  const listVersions = (marker?: string) => ({
    service: "lambda",
    operation: "ListVersionsByFunction",
    region: REGION,
    input: { FunctionName: "checkout-api", MaxItems: 50, ...(marker ? { Marker: marker } : {}) },
  });
  const updateAlias = (FunctionVersion: string) => ({
    service: "lambda",
    operation: "UpdateAlias",
    region: REGION,
    input: {
      FunctionName: "checkout-api",
      Name: "live",
      FunctionVersion,
      RoutingConfig: { AdditionalVersionWeights: {} },
    },
  });
  /** ListVersionsByFunction answered page by page, following Marker. */
  const pages =
    (...list: Array<{ Versions: object[]; NextMarker?: string }>) =>
    ({ input }: AwsRequest) =>
      list[input.Marker === undefined ? 0 : Number(String(input.Marker).slice(5))];

  it("points the alias at the newest version before its own, across pages", async () => {
    const { outcome, gateway } = await run(rollback(ALIAS), {
      "lambda:GetAlias": { Name: "live", FunctionVersion: "7" },
      "lambda:ListVersionsByFunction": pages(
        { Versions: versions("$LATEST", "1", "2", "9"), NextMarker: "page-1" },
        { Versions: versions("5", "6", "7", "8") },
      ),
    });
    expect(gateway.requests).toStrictEqual([
      getAlias,
      listVersions(),
      listVersions("page-1"),
      updateAlias("6"),
    ]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "alias live: version 7 → 6",
      requests: [updateAlias("6")],
      before: "alias live → version 7",
    });
  });

  it("compares versions as numbers, not as text", async () => {
    const { outcome } = await run(rollback(ALIAS), {
      "lambda:GetAlias": { FunctionVersion: "11" },
      "lambda:ListVersionsByFunction": { Versions: versions("$LATEST", "2", "9", "10", "11") },
    });
    expect(outcome.requests).toStrictEqual([updateAlias("10")]);
  });

  it("stops a canary in flight: weights cleared, the stable version kept", async () => {
    const { outcome, gateway } = await run(rollback(ALIAS), {
      "lambda:GetAlias": {
        FunctionVersion: "7",
        RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } },
      },
    });
    expect(gateway.requests).toStrictEqual([getAlias, updateAlias("7")]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "canary of version 8 stopped; all traffic on 7",
      requests: [updateAlias("7")],
      before: "alias live → version 7 (canary: 8)",
    });
  });

  it("skips an alias on $LATEST", async () => {
    const { outcome, gateway } = await run(rollback(ALIAS), {
      "lambda:GetAlias": { FunctionVersion: "$LATEST" },
    });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "alias points at $LATEST: no published version to go back to",
      requests: [],
      before: "alias live → version $LATEST",
    });
    expect(gateway.operations).toEqual(["lambda:GetAlias"]);
  });

  it("skips when there is no version before the alias's own", async () => {
    const { outcome, gateway } = await run(rollback(ALIAS), {
      "lambda:GetAlias": { FunctionVersion: "1" },
      "lambda:ListVersionsByFunction": { Versions: versions("$LATEST", "1", "2") },
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "no version before 1 to roll back to",
    });
    expect(gateway.changes).toEqual([]);
  });
});

describe("rollback codedeploy", () => {
  const listDeployments = {
    service: "codedeploy",
    operation: "ListDeployments",
    region: REGION,
    input: {
      applicationName: "checkout",
      deploymentGroupName: "prod",
      includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"],
    },
  };
  const stop = (deploymentId: string) => ({
    service: "codedeploy",
    operation: "StopDeployment",
    region: REGION,
    input: { deploymentId, autoRollbackEnabled: true },
  });

  it("stops every active deployment with automatic rollback, in order", async () => {
    const { outcome, gateway } = await run(rollback(CODEDEPLOY), {
      "codedeploy:ListDeployments": { deployments: ["d-AAA111", "d-BBB222"] },
    });
    expect(gateway.requests).toStrictEqual([listDeployments, stop("d-AAA111"), stop("d-BBB222")]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "stopped d-AAA111, d-BBB222 with automatic rollback",
      requests: [stop("d-AAA111"), stop("d-BBB222")],
      before: "active deployments: d-AAA111, d-BBB222",
    });
  });

  it.each([
    ["an empty list", { deployments: [] }],
    ["no list at all", {}],
  ])("skips when no deployment is active (%s)", async (_, reply) => {
    const { outcome, gateway } = await run(rollback(CODEDEPLOY), {
      "codedeploy:ListDeployments": reply,
    });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "no deployment in progress to stop",
      requests: [],
      before: "no active deployment",
    });
    expect(gateway.operations).toEqual(["codedeploy:ListDeployments"]);
  });
});

describe("rollback ecs-service", () => {
  const listTaskDefinitions = {
    service: "ecs",
    operation: "ListTaskDefinitions",
    region: REGION,
    input: { familyPrefix: "checkout", status: "ACTIVE", sort: "DESC", maxResults: 100 },
  };
  const updateTaskDefinition = (revision: number) => ({
    service: "ecs",
    operation: "UpdateService",
    region: REGION,
    input: {
      cluster: "prod",
      service: "checkout",
      taskDefinition: taskDefinition("checkout", revision),
    },
  });

  it("goes back to the newest earlier ACTIVE revision of the same family", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService(),
      "ecs:ListTaskDefinitions": {
        taskDefinitionArns: [
          taskDefinition("checkout-v2", 11),
          taskDefinition("checkout", 13),
          taskDefinition("checkout", 12),
          taskDefinition("checkout", 4),
          taskDefinition("checkout", 10),
        ],
      },
    });
    expect(gateway.requests).toStrictEqual([
      describeServices,
      listTaskDefinitions,
      updateTaskDefinition(10),
    ]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "task definition checkout:12 → checkout:10",
      requests: [updateTaskDefinition(10)],
      before: "task definition checkout:12",
    });
  });

  it("skips when no earlier ACTIVE revision exists", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService(),
      "ecs:ListTaskDefinitions": {
        taskDefinitionArns: [taskDefinition("checkout", 13), taskDefinition("checkout", 12)],
      },
    });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "no active revision of checkout before 12",
      requests: [],
      before: "task definition checkout:12",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("skips a missing service", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": { services: [], failures: [{ reason: "MISSING" }] },
    });
    expect(outcome).toMatchObject({ status: "skipped", before: null });
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  it("skips a task definition whose revision it cannot read", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService({ taskDefinition: "checkout" }),
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "cannot read the revision of checkout",
    });
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  const blueGreen = ecsService({
    deploymentController: { type: "CODE_DEPLOY" },
    deployments: [],
    taskSets: [
      { status: "ACTIVE", externalId: "d-NEW222" },
      { status: "PRIMARY", externalId: "d-OLD111" },
    ],
  });
  const getDeployment = {
    service: "codedeploy",
    operation: "GetDeployment",
    region: REGION,
    input: { deploymentId: "d-NEW222" },
  };
  const listActive = {
    service: "codedeploy",
    operation: "ListDeployments",
    region: REGION,
    input: {
      applicationName: "AppECS-prod-checkout",
      deploymentGroupName: "DgpECS-prod-checkout",
      includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"],
    },
  };
  const deploymentInfo = {
    deploymentInfo: {
      deploymentId: "d-NEW222",
      applicationName: "AppECS-prod-checkout",
      deploymentGroupName: "DgpECS-prod-checkout",
      status: "InProgress",
    },
  };

  it("rolls a blue/green (CODE_DEPLOY) service back through CodeDeploy, never UpdateService", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": blueGreen,
      "codedeploy:GetDeployment": deploymentInfo,
      "codedeploy:ListDeployments": { deployments: ["d-NEW222"] },
    });
    const stop = {
      service: "codedeploy",
      operation: "StopDeployment",
      region: REGION,
      input: { deploymentId: "d-NEW222", autoRollbackEnabled: true },
    };
    expect(gateway.requests).toStrictEqual([describeServices, getDeployment, listActive, stop]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "stopped d-NEW222 with automatic rollback",
      requests: [stop],
      before:
        "deployment controller CODE_DEPLOY, group AppECS-prod-checkout/DgpECS-prod-checkout, active deployments: d-NEW222",
    });
  });

  it("skips a blue/green service whose deployment has finished: that needs a redeploy", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService({
        deploymentController: { type: "CODE_DEPLOY" },
        taskSets: [{ status: "PRIMARY", externalId: "d-NEW222" }],
      }),
      "codedeploy:GetDeployment": deploymentInfo,
      "codedeploy:ListDeployments": { deployments: [] },
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason:
        "no CodeDeploy deployment of AppECS-prod-checkout/DgpECS-prod-checkout in progress to roll back (a finished one needs an older revision redeployed)",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("skips a blue/green service whose task sets name no CodeDeploy deployment", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService({
        deploymentController: { type: "CODE_DEPLOY" },
        taskSets: [{ status: "PRIMARY" }],
      }),
    });
    expect(outcome.status).toBe("skipped");
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });

  it("skips an EXTERNAL service: whoever deploys it rolls it back", async () => {
    const { outcome, gateway } = await run(rollback(ECS), {
      "ecs:DescribeServices": ecsService({ deploymentController: { type: "EXTERNAL" } }),
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "deployment controller EXTERNAL: rolled back by whoever deploys it, not by ECS",
    });
    expect(gateway.operations).toEqual(["ecs:DescribeServices"]);
  });
});

describe("restore of a raised MinCapacity", () => {
  const raised: ActionRecord = {
    id: "a1",
    type: "scale",
    rule: "api",
    spec: scale(ECS, { by: 2 }) as unknown as Record<string, unknown>,
    targetKey: `ecs-service:${REGION}/prod/checkout`,
    trigger: "opened",
    status: "succeeded",
    reason: "MinCapacity 2 → 6 (desiredCount 4; restored when the incident resolves)",
    plannedAt: "2026-11-26T10:00:00.000Z",
    at: "2026-11-26T10:00:01.000Z",
    dryRun: false,
    requests: [registerMinCapacity(6)],
    before: "desiredCount 4, running 4; MinCapacity 2, MaxCapacity 50",
    attempts: 1,
    notBefore: null,
    claim: null,
    approvedBy: null,
    followUp: null,
    page: null,
  };
  const restore = restoreOnResolve(raised) as RestoreMinCapacityAction;

  it("is planned from a scale-out that raised the minimum, and parses as a restore", () => {
    expect(restore).toStrictEqual({
      type: "scale",
      target: ECS,
      restore: { of: "a1", raisedTo: 6, minCapacity: 2 },
      cooldown: 0,
    });
    expect(RestoreMinCapacityActionSchema.parse(restore)).toStrictEqual(restore);
    expect(targetKeyOf(restore, REGION)).toBe(raised.targetKey);
  });

  it.each<[string, Partial<ActionRecord>]>([
    ["a dry run", { dryRun: true }],
    ["a skipped scale-out", { status: "skipped" }],
    ["a failed scale-out", { status: "failed" }],
    ["a desiredCount scale-out", { requests: [updateDesiredCount(6)] }],
    ["a rollback", { type: "rollback" }],
  ])("is not planned for %s", (_, change) => {
    expect(restoreOnResolve({ ...raised, ...change })).toBeNull();
  });

  it("sets the minimum back while it is still what the scale-out set", async () => {
    const { outcome, gateway } = await run(restore, {
      "application-autoscaling:DescribeScalableTargets": scalableTarget(50, 6),
    });
    expect(gateway.requests).toStrictEqual([describeScalableTargets, registerMinCapacity(2)]);
    expect(outcome).toMatchObject({
      status: "succeeded",
      reason: "MinCapacity 6 → 2 (restored after a1)",
    });
  });

  it("leaves a minimum someone changed since alone", async () => {
    const { outcome, gateway } = await run(restore, {
      "application-autoscaling:DescribeScalableTargets": scalableTarget(50, 8),
    });
    expect(outcome).toMatchObject({
      status: "skipped",
      reason: "MinCapacity is 8, not the 6 a1 set: changed since, left alone",
    });
    expect(gateway.changes).toEqual([]);
  });

  it("needs no permission its scale-out does not already have", () => {
    const scaleGrants = permissionsOf(scale(ECS, { by: 2 }), ENV).flatMap((s) => s.actions);
    expect(scaleGrants).toContain("application-autoscaling:DescribeScalableTargets");
    expect(scaleGrants).toContain("application-autoscaling:RegisterScalableTarget");
  });

  it("completes an interrupted restore only while the raised minimum is still there", async () => {
    const prepared = { requests: [registerMinCapacity(2)], reason: "sending: restore" };
    for (const [current, sent] of [
      [6, 1],
      [2, 0],
      [9, 0],
    ] as const) {
      const gateway = new ScriptedGateway({
        "application-autoscaling:DescribeScalableTargets": scalableTarget(50, current),
      });
      await executeRemediation(restore, {
        gateway,
        mode: "live",
        region: REGION,
        reference: REFERENCE,
        prepared,
      });
      expect(gateway.changes).toHaveLength(sent);
    }
  });
});

describe("failover rds-cluster", () => {
  const describeCluster = {
    service: "rds",
    operation: "DescribeDBClusters",
    region: REGION,
    input: { DBClusterIdentifier: "orders" },
  };
  const failoverTo = (target?: string) => ({
    service: "rds",
    operation: "FailoverDBCluster",
    region: REGION,
    input: {
      DBClusterIdentifier: "orders",
      ...(target ? { TargetDBInstanceIdentifier: target } : {}),
    },
  });

  it("fails over to the named reader", async () => {
    const { outcome, gateway } = await run(
      failover({ ...RDS, targetInstance: "orders-3" }),
      ORDERS,
    );
    expect(gateway.requests).toStrictEqual([describeCluster, failoverTo("orders-3")]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "failover of orders from orders-1 to orders-3",
      requests: [failoverTo("orders-3")],
      before: "writer orders-1, 2 reader(s), available",
    });
  });

  it("names the reader RDS would pick (lowest promotion tier) when none is configured", async () => {
    const { outcome } = await run(failover(RDS), ORDERS);
    expect(outcome.requests).toStrictEqual([failoverTo("orders-2")]);
    expect(outcome.reason).toBe("failover of orders from orders-1 to orders-2");
  });

  it.each([
    [
      "the named instance is already the writer",
      { ...RDS, targetInstance: "orders-1" },
      ORDERS,
      "orders-1 is already the writer",
    ],
    [
      "the cluster is not available",
      RDS,
      rdsCluster(
        [
          ["orders-1", true],
          ["orders-2", false],
        ],
        "failing-over",
      ),
      "cluster is failing-over: not failing over now",
    ],
    [
      "the cluster has no reader",
      RDS,
      rdsCluster([["orders-1", true]]),
      "no reader to fail over to",
    ],
    [
      "the named instance is not a member",
      { ...RDS, targetInstance: "orders-9" },
      ORDERS,
      "orders-9 is not a reader of orders",
    ],
  ])("skips when %s", async (_, target, script, reason) => {
    const { outcome, gateway } = await run(failover(target), script);
    expect(outcome).toMatchObject({ status: "skipped", reason, requests: [] });
    expect(gateway.operations).toEqual(["rds:DescribeDBClusters"]);
  });

  it("skips a cluster that is not there", async () => {
    const { outcome } = await run(failover(RDS), { "rds:DescribeDBClusters": { DBClusters: [] } });
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "cluster orders not found",
      requests: [],
      before: null,
    });
  });
});

describe("failover route53-weights", () => {
  const listRecords = {
    service: "route53",
    operation: "ListResourceRecordSets",
    input: {
      HostedZoneId: "Z0123456789ABC",
      StartRecordName: "api.example.com.",
      StartRecordType: "A",
      MaxItems: 100,
    },
  };
  const primary = record("eu-west-1", 100, { HealthCheckId: "hc-eu" });
  const secondary = record("us-east-1", 0, { HealthCheckId: "hc-us" });
  const change = (primaryRecord: object, secondaryRecord: object) => ({
    service: "route53",
    operation: "ChangeResourceRecordSets",
    input: {
      HostedZoneId: "Z0123456789ABC",
      ChangeBatch: {
        Comment: `Firebreak failover: ${REFERENCE}`,
        Changes: [
          { Action: "UPSERT", ResourceRecordSet: primaryRecord },
          { Action: "UPSERT", ResourceRecordSet: secondaryRecord },
        ],
      },
    },
  });

  it("UPSERTs both full record sets with all weight moved to the secondary", async () => {
    const { outcome, gateway } = await run(
      failover(ROUTE53),
      recordSets(
        primary,
        record("eu-west-1", 100, { Type: "AAAA", ResourceRecords: [{ Value: "2001:db8::1" }] }),
        secondary,
        record("other", 5, { Name: "api.example.com.eu." }),
      ),
    );
    const expected = change({ ...primary, Weight: 0 }, { ...secondary, Weight: 100 });
    expect(gateway.requests).toStrictEqual([listRecords, expected]);
    expect(outcome).toStrictEqual({
      status: "succeeded",
      reason: "all weight of api.example.com. moved to us-east-1",
      requests: [expected],
      before: "weights eu-west-1=100, us-east-1=0",
    });
  });

  it("gives the secondary the larger of the two weights", async () => {
    const { outcome } = await run(
      failover(ROUTE53),
      recordSets(record("eu-west-1", 70), record("us-east-1", 30)),
    );
    expect(outcome.requests).toStrictEqual([
      change(record("eu-west-1", 0), record("us-east-1", 70)),
    ]);
  });

  it("gives the secondary weight 1 when both weights are 0", async () => {
    const { outcome } = await run(
      failover(ROUTE53),
      recordSets(record("eu-west-1", 0), record("us-east-1", 0)),
    );
    expect(outcome.requests).toStrictEqual([
      change(record("eu-west-1", 0), record("us-east-1", 1)),
    ]);
  });

  it("skips when already failed over", async () => {
    const { outcome, gateway } = await run(
      failover(ROUTE53),
      recordSets(record("eu-west-1", 0), record("us-east-1", 50)),
    );
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "already failed over",
      requests: [],
      before: "weights eu-west-1=0, us-east-1=50",
    });
    expect(gateway.changes).toEqual([]);
  });

  it.each([
    ["the secondary is missing", recordSets(record("eu-west-1", 100))],
    [
      "only another type has them",
      recordSets(record("eu-west-1", 1), record("us-east-1", 1, { Type: "AAAA" })),
    ],
    ["no records come back", { "route53:ListResourceRecordSets": {} }],
  ])("skips when %s", async (_, script) => {
    const { outcome, gateway } = await run(failover(ROUTE53), script);
    expect(outcome).toStrictEqual({
      status: "skipped",
      reason: "weighted records eu-west-1 and us-east-1 of api.example.com. not both found",
      requests: [],
      before: null,
    });
    expect(gateway.changes).toEqual([]);
  });

  it("matches the record name without its trailing dot and in any case", async () => {
    const { outcome } = await run(
      failover({ ...ROUTE53, recordName: "API.Example.com" }),
      recordSets(record("eu-west-1", 10), record("us-east-1", 0)),
    );
    expect(outcome.status).toBe("succeeded");
    expect(outcome.requests).toStrictEqual([
      change(record("eu-west-1", 0), record("us-east-1", 10)),
    ]);
  });

  it("keeps the change comment within Route 53's 256 characters", async () => {
    const gateway = new ScriptedGateway(recordSets(record("eu-west-1", 1), record("us-east-1", 0)));
    const outcome = await executeRemediation(failover(ROUTE53), {
      gateway,
      mode: "live",
      region: REGION,
      reference: "x".repeat(400),
    });
    const batch = outcome.requests[0]?.input.ChangeBatch as { Comment?: string } | undefined;
    expect(batch?.Comment).toHaveLength(256);
    expect(batch?.Comment?.startsWith("Firebreak failover: xxx")).toBe(true);
  });
});

describe("execution modes", () => {
  const action = scale(ECS, { by: 2 });

  it("dry-run sends only the describes and returns the would-be change as simulated", async () => {
    const { outcome, gateway } = await run(action, ecsScript(), "dry-run");
    expect(gateway.operations).toEqual([
      "ecs:DescribeServices",
      "application-autoscaling:DescribeScalableTargets",
    ]);
    expect(outcome).toStrictEqual({
      status: "simulated",
      reason: "dry run, nothing sent: desiredCount 4 → 6",
      requests: [updateDesiredCount(6)],
      before: "desiredCount 4, running 4",
    });
  });

  it("simulated sends the change (to the model) and returns simulated", async () => {
    const { outcome, gateway } = await run(action, ecsScript(), "simulated");
    expect(gateway.changes).toStrictEqual([updateDesiredCount(6)]);
    expect(outcome).toMatchObject({
      status: "simulated",
      reason: "simulated: desiredCount 4 → 6",
      requests: [updateDesiredCount(6)],
    });
  });

  it("live sends the change and returns succeeded", async () => {
    const { outcome, gateway } = await run(action, ecsScript(), "live");
    expect(gateway.changes).toStrictEqual([updateDesiredCount(6)]);
    expect(outcome).toMatchObject({ status: "succeeded", reason: "desiredCount 4 → 6" });
  });

  it.each<ExecutionMode>(["live", "simulated", "dry-run"])(
    "a target that needs nothing is skipped in %s mode too",
    async (mode) => {
      const { outcome, gateway } = await run(action, ecsScript({ desiredCount: 20 }), mode);
      expect(outcome.status).toBe("skipped");
      expect(gateway.changes).toEqual([]);
    },
  );
});

describe("errors", () => {
  it.each([true, false])(
    "an AwsCallError of the change (retryable %s) propagates as it is",
    async (retryable) => {
      const { error, gateway } = await failure(scale(ECS, { by: 2 }), {
        ...ecsScript(),
        "ecs:UpdateService": fails(
          retryable ? "ThrottlingException" : "AccessDeniedException",
          retryable,
        ),
      });
      expect(error).toBeInstanceOf(AwsCallError);
      expect(error).toMatchObject({
        retryable,
        request: { service: "ecs", operation: "UpdateService" },
      });
      expect(gateway.operations.at(-1)).toBe("ecs:UpdateService");
    },
  );

  it("an error of a describe propagates before any change is sent", async () => {
    const { error, gateway } = await failure(rollback(ALIAS), {
      "lambda:GetAlias": fails("ResourceNotFoundException"),
    });
    expect(error).toMatchObject({ errorCode: "ResourceNotFoundException", retryable: false });
    expect(gateway.changes).toEqual([]);
  });

  it("a describe reply of the wrong shape fails before any change is sent", async () => {
    const { error, gateway } = await failure(scale(ECS, { by: 2 }), {
      ...ecsScript(),
      "ecs:DescribeServices": { services: [{ desiredCount: "four" }] },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AwsCallError);
    expect(gateway.changes).toEqual([]);
  });

  it("a failing second change stops the run after the first was sent", async () => {
    const { error, gateway } = await failure(rollback(CODEDEPLOY), {
      "codedeploy:ListDeployments": { deployments: ["d-1", "d-2", "d-3"] },
      "codedeploy:StopDeployment": (request: AwsRequest) => {
        if (request.input.deploymentId === "d-2") fails("InvalidDeploymentIdException")(request);
        return {};
      },
    });
    expect(error).toMatchObject({ errorCode: "InvalidDeploymentIdException" });
    expect(gateway.changes.map((request) => request.input.deploymentId)).toEqual(["d-1", "d-2"]);
  });

  it("counts a deployment that already stopped as stopped", async () => {
    const { outcome } = await run(rollback(CODEDEPLOY), {
      "codedeploy:ListDeployments": { deployments: ["d-1"] },
      "codedeploy:StopDeployment": fails("DeploymentAlreadyCompletedException"),
    });
    expect(outcome.status).toBe("succeeded");
  });
});

describe("targetKeyOf", () => {
  it.each<[string, RemediationAction, string]>([
    ["scale ecs-service", scale(ECS, { by: 1 }), "ecs-service:eu-west-1/prod/checkout"],
    [
      "scale ecs-service in its own region",
      scale({ ...ECS, region: "us-west-2" }, { by: 1 }),
      "ecs-service:us-west-2/prod/checkout",
    ],
    ["rollback ecs-service", rollback(ECS), "ecs-service:eu-west-1/prod/checkout"],
    ["scale autoscaling-group", scale(ASG, { by: 1 }), "autoscaling-group:eu-west-1/web"],
    [
      "scale lambda-provisioned-concurrency",
      scale(LAMBDA_PC, { by: 1 }),
      "lambda-provisioned-concurrency:eu-west-1/checkout-api:live",
    ],
    ["rollback lambda-alias", rollback(ALIAS), "lambda-alias:eu-west-1/checkout-api:live"],
    ["rollback codedeploy", rollback(CODEDEPLOY), "codedeploy:eu-west-1/checkout/prod"],
    [
      "failover rds-cluster",
      failover({ ...RDS, region: "ap-southeast-2" }),
      "rds-cluster:ap-southeast-2/orders",
    ],
    [
      "failover route53-weights (global: no region)",
      failover(ROUTE53),
      "route53-weights:Z0123456789ABC/api.example.com",
    ],
  ])("%s", (_, action, key) => {
    expect(targetKeyOf(action, REGION)).toBe(key);
  });
});

describe("permissionsOf", () => {
  const arn = (service: string, rest: string, region = REGION) =>
    `arn:aws:${service}:${region}:${ACCOUNT}:${rest}`;

  it.each<[string, RemediationAction, unknown]>([
    [
      "scale ecs-service",
      scale(ECS, { by: 1 }),
      [
        {
          actions: ["ecs:DescribeServices", "ecs:UpdateService"],
          resources: [arn("ecs", "service/prod/checkout")],
        },
        {
          actions: [
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:RegisterScalableTarget",
          ],
          resources: ["*"],
        },
      ],
    ],
    [
      "scale autoscaling-group in its own region",
      scale({ ...ASG, region: "us-west-2" }, { by: 1 }),
      [
        { actions: ["autoscaling:DescribeAutoScalingGroups"], resources: ["*"] },
        {
          actions: ["autoscaling:SetDesiredCapacity"],
          resources: [
            arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/web", "us-west-2"),
          ],
        },
      ],
    ],
    [
      "scale lambda-provisioned-concurrency",
      scale(LAMBDA_PC, { by: 1 }),
      [
        {
          actions: [
            "lambda:GetProvisionedConcurrencyConfig",
            "lambda:PutProvisionedConcurrencyConfig",
          ],
          resources: [arn("lambda", "function:checkout-api:live")],
        },
      ],
    ],
    [
      "rollback lambda-alias",
      rollback(ALIAS),
      [
        {
          actions: ["lambda:GetAlias", "lambda:UpdateAlias"],
          resources: [
            arn("lambda", "function:checkout-api"),
            arn("lambda", "function:checkout-api:live"),
          ],
        },
        {
          actions: ["lambda:ListVersionsByFunction"],
          resources: [arn("lambda", "function:checkout-api")],
        },
      ],
    ],
    [
      "rollback codedeploy",
      rollback(CODEDEPLOY),
      [
        {
          actions: ["codedeploy:ListDeployments", "codedeploy:StopDeployment"],
          resources: [arn("codedeploy", "deploymentgroup:checkout/prod")],
        },
      ],
    ],
    [
      "rollback ecs-service",
      rollback(ECS),
      [
        {
          actions: ["ecs:DescribeServices", "ecs:UpdateService"],
          resources: [arn("ecs", "service/prod/checkout")],
        },
        { actions: ["ecs:ListTaskDefinitions"], resources: ["*"] },
        {
          actions: [
            "codedeploy:GetDeployment",
            "codedeploy:ListDeployments",
            "codedeploy:StopDeployment",
          ],
          resources: [arn("codedeploy", "deploymentgroup:*/*")],
        },
      ],
    ],
    [
      "failover rds-cluster to a named reader",
      failover({ ...RDS, targetInstance: "orders-2" }),
      [
        { actions: ["rds:DescribeDBClusters"], resources: [arn("rds", "cluster:orders")] },
        {
          actions: ["rds:FailoverDBCluster"],
          resources: [arn("rds", "cluster:orders"), arn("rds", "db:orders-2")],
        },
      ],
    ],
    [
      "failover rds-cluster to a reader RDS picks",
      failover(RDS),
      [
        { actions: ["rds:DescribeDBClusters"], resources: [arn("rds", "cluster:orders")] },
        {
          actions: ["rds:FailoverDBCluster"],
          resources: [arn("rds", "cluster:orders"), arn("rds", "db:*")],
        },
      ],
    ],
    [
      "failover route53-weights",
      failover(ROUTE53),
      [
        {
          actions: ["route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"],
          resources: ["arn:aws:route53:::hostedzone/Z0123456789ABC"],
        },
      ],
    ],
  ])("%s", (_, action, statements) => {
    expect(permissionsOf(action, ENV)).toStrictEqual(statements);
  });

  it("uses the environment's partition", () => {
    const env = { partition: "aws-cn", region: "cn-north-1", account: ACCOUNT };
    expect(permissionsOf(rollback(CODEDEPLOY), env)).toStrictEqual([
      {
        actions: ["codedeploy:ListDeployments", "codedeploy:StopDeployment"],
        resources: [`arn:aws-cn:codedeploy:cn-north-1:${ACCOUNT}:deploymentgroup:checkout/prod`],
      },
    ]);
    expect(permissionsOf(failover(ROUTE53), env)[0]?.resources).toEqual([
      "arn:aws-cn:route53:::hostedzone/Z0123456789ABC",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The invariant the stacks rely on: what an action declares covers everything it sends.

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const region = fc.option(
  fc.constantFrom("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"),
  { nil: undefined },
);
const step = fc.oneof(
  fc.record({ by: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ factor: fc.double({ min: 1.01, max: 10, noNaN: true }) }),
);
const anAction: fc.Arbitrary<RemediationAction> = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.record({ kind: fc.constant("ecs-service"), cluster: name, service: name, region }),
        fc.record({ kind: fc.constant("autoscaling-group"), name, region }),
        fc.record({
          kind: fc.constant("lambda-provisioned-concurrency"),
          functionName: name,
          qualifier: name,
          region,
        }),
      ),
      step,
      fc.integer({ min: 1, max: 500 }),
    )
    .map(([target, by, max]) => scale(target, by, max)),
  fc
    .oneof(
      fc.record({ kind: fc.constant("lambda-alias"), functionName: name, alias: name, region }),
      fc.record({
        kind: fc.constant("codedeploy"),
        application: name,
        deploymentGroup: name,
        region,
      }),
      fc.record({ kind: fc.constant("ecs-service"), cluster: name, service: name, region }),
    )
    .map(rollback),
  fc
    .oneof(
      fc.record({
        kind: fc.constant("rds-cluster"),
        clusterId: name,
        targetInstance: fc.option(name, { nil: undefined }),
        region,
      }),
      fc
        .record({
          kind: fc.constant("route53-weights"),
          hostedZoneId: fc.stringMatching(/^Z[A-Z0-9]{4,20}$/),
          recordName: name.map((label) => `${label}.example.com.`),
          recordType: fc.constantFrom("A", "AAAA", "CNAME"),
          primary: name,
          secondary: name,
        })
        .filter((target) => target.primary !== target.secondary),
    )
    .map(failover),
);

interface World {
  current: number;
  version: number;
  canary: boolean;
  /** ECS: whether Application Auto Scaling manages the service's count. */
  scalable: boolean;
  /** ECS: whether CodeDeploy deploys the service (blue/green). */
  blueGreen: boolean;
}
const aWorld = fc.record({
  current: fc.integer({ min: 0, max: 100 }),
  version: fc.integer({ min: 2, max: 60 }),
  canary: fc.boolean(),
  scalable: fc.boolean(),
  blueGreen: fc.boolean(),
});

/** Replies to every describe, for a target that mostly has something to change. */
function world(
  action: RemediationAction,
  { current, version, canary, scalable, blueGreen }: World,
): Script {
  const { target } = action;
  const family = (revision: number) => taskDefinition("app", revision);
  const route53 = target.kind === "route53-weights" ? target : undefined;
  const reader = target.kind === "rds-cluster" && target.targetInstance;
  return {
    "ecs:DescribeServices": {
      services: [
        {
          status: "ACTIVE",
          desiredCount: current,
          taskDefinition: family(version),
          ...(blueGreen
            ? {
                deploymentController: { type: "CODE_DEPLOY" },
                taskSets: [{ status: "PRIMARY", externalId: "d-1" }],
              }
            : {}),
        },
      ],
    },
    "application-autoscaling:DescribeScalableTargets": scalable
      ? scalableTarget(1000)
      : { ScalableTargets: [] },
    "codedeploy:GetDeployment": {
      deploymentInfo: { applicationName: "app", deploymentGroupName: "group" },
    },
    "ecs:ListTaskDefinitions": { taskDefinitionArns: [family(version), family(version - 1)] },
    "autoscaling:DescribeAutoScalingGroups": {
      AutoScalingGroups: [{ DesiredCapacity: current, MaxSize: 1000 }],
    },
    "lambda:GetProvisionedConcurrencyConfig":
      current === 0
        ? fails("ProvisionedConcurrencyConfigNotFoundException")
        : { RequestedProvisionedConcurrentExecutions: current, Status: "READY" },
    "lambda:GetAlias": {
      FunctionVersion: String(version),
      ...(canary
        ? { RoutingConfig: { AdditionalVersionWeights: { [String(version + 1)]: 0.1 } } }
        : {}),
    },
    "lambda:ListVersionsByFunction": ({ input }: AwsRequest) =>
      input.Marker
        ? { Versions: versions(String(version - 1), String(version)) }
        : { Versions: versions("$LATEST", "1"), NextMarker: "more" },
    "codedeploy:ListDeployments": { deployments: ["d-1", "d-2"] },
    "rds:DescribeDBClusters": rdsCluster([
      ["writer-0000000", true],
      [reader || "reader-0000000", false],
    ])["rds:DescribeDBClusters"],
    "route53:ListResourceRecordSets": {
      ResourceRecordSets: route53
        ? [
            record(route53.primary, current, {
              Name: route53.recordName,
              Type: route53.recordType,
            }),
            record(route53.secondary, 0, { Name: route53.recordName, Type: route53.recordType }),
          ]
        : [],
    },
  };
}

describe("permissionsOf covers what executeRemediation sends", () => {
  it("for any valid action: no `*` action, and every operation sent is declared", async () => {
    const changesSeen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        anAction,
        aWorld,
        fc.constantFrom("aws", "aws-cn", "aws-us-gov"),
        async (action, state, partition) => {
          const { gateway } = await run(action, world(action, state));
          const env = { partition, region: REGION, account: ACCOUNT };
          const statements = permissionsOf(action, env);
          const declared = statements.flatMap((statement) => statement.actions);
          for (const iamAction of declared) {
            expect(iamAction).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]+$/);
          }
          for (const operation of gateway.operations) expect(declared).toContain(operation);

          const targetRegion =
            "region" in action.target && action.target.region ? action.target.region : REGION;
          for (const resource of statements.flatMap((statement) => statement.resources)) {
            if (resource === "*") continue;
            expect(resource.startsWith(`arn:${partition}:`)).toBe(true);
            expect(["", targetRegion]).toContain(resource.split(":")[3]);
          }
          for (const request of gateway.requests) {
            expect(request.region).toBe(
              action.target.kind === "route53-weights" ? undefined : targetRegion,
            );
          }
          for (const change of gateway.changes) {
            changesSeen.add(`${change.service}:${change.operation}`);
          }
        },
      ),
      { numRuns: 300 },
    );
    // Not vacuous: the runs reached every kind of change.
    expect([...changesSeen].sort()).toEqual([...CHANGES].sort());
  });
});
