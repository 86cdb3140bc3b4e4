import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import {
  AccessDeniedException,
  DescribeServicesCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import {
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PutProvisionedConcurrencyConfigCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
import {
  DescribeDBClustersCommand,
  FailoverDBClusterCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { type AwsStub, mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import {
  AwsCallError,
  type ExecutionMode,
  executeRemediation,
  FailoverActionSchema,
  type RemediationAction,
  RollbackActionSchema,
  ScaleActionSchema,
} from "@firebreak/core";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsSdkGateway } from "../src";

// The real executeRemediation on the real gateway; only the SDK clients' `send` is mocked.

const mocks = {
  ecs: mockClient(ECSClient),
  applicationAutoScaling: mockClient(ApplicationAutoScalingClient),
  autoscaling: mockClient(AutoScalingClient),
  lambda: mockClient(LambdaClient),
  codedeploy: mockClient(CodeDeployClient),
  rds: mockClient(RDSClient),
  route53: mockClient(Route53Client),
};
const allMocks = Object.values(mocks) as unknown as AwsStub<
  object,
  { $metadata: object },
  unknown
>[];

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
});

const REGION = "us-east-1";
const REFERENCE = "INC-7/a2";
const metadata = { $metadata: { httpStatusCode: 200, requestId: "request-1" } };

function remediate(action: RemediationAction, mode: ExecutionMode = "live") {
  return executeRemediation(action, {
    gateway: new AwsSdkGateway({ region: REGION }),
    mode,
    region: REGION,
    reference: REFERENCE,
  });
}

type CommandClass = abstract new (input: never) => object;

/** Exactly these commands with exactly these inputs, in this order, across all clients. */
function expectSent(...expected: Array<[CommandClass, object]>) {
  const calls = allMocks
    .flatMap((mock) => mock.calls())
    .sort((a, b) => (a.calledBefore(b) ? -1 : 1))
    .map((call) => {
      const command = call.args[0];
      return [command.constructor, command.input];
    });
  expect(calls).toStrictEqual(expected);
}

/** The region the client that sent the first call of this mock was built for. */
async function regionOf(mock: { call(index: number): { thisValue: unknown } }) {
  const client = mock.call(0).thisValue as { config: { region(): Promise<string> } };
  return client.config.region();
}

const ECS = { kind: "ecs-service", cluster: "prod", service: "checkout" };
const scale = (target: object, step: object, max = 20) =>
  ScaleActionSchema.parse({ type: "scale", target, max, ...step });
const rollback = (target: object) => RollbackActionSchema.parse({ type: "rollback", target });
const failover = (target: object) => FailoverActionSchema.parse({ type: "failover", target });

const taskDefinition = (revision: number) =>
  `arn:aws:ecs:${REGION}:123456789012:task-definition/checkout:${revision}`;

function ecsService(service: object = {}) {
  mocks.ecs.on(DescribeServicesCommand).resolves({
    ...metadata,
    services: [
      {
        serviceName: "checkout",
        status: "ACTIVE",
        desiredCount: 4,
        runningCount: 4,
        taskDefinition: taskDefinition(12),
        deployments: [{ id: "ecs-svc/1", status: "PRIMARY", rolloutState: "COMPLETED" }],
        ...service,
      },
    ],
    failures: [],
  });
}

const throttling = () =>
  Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $fault: "client",
    $retryable: { throttling: true },
    $metadata: { httpStatusCode: 400, requestId: "throttled-1" },
  });

describe("scale ecs-service", () => {
  const describeServices = { cluster: "prod", services: ["checkout"] };
  const describeScalableTargets = {
    ServiceNamespace: "ecs",
    ResourceIds: ["service/prod/checkout"],
    ScalableDimension: "ecs:service:DesiredCount",
  };
  const describeScalableTargetKey = {
    ServiceNamespace: "ecs",
    ResourceId: "service/prod/checkout",
    ScalableDimension: "ecs:service:DesiredCount",
  };

  it("describes the service, finds no scalable target, then updates desiredCount", async () => {
    ecsService();
    mocks.applicationAutoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ...metadata, ScalableTargets: [] });
    mocks.ecs.on(UpdateServiceCommand).resolves(metadata);

    const outcome = await remediate(scale(ECS, { by: 3 }));

    expect(outcome).toMatchObject({ status: "succeeded", reason: "desiredCount 4 → 7" });
    expectSent(
      [DescribeServicesCommand, describeServices],
      [DescribeScalableTargetsCommand, describeScalableTargets],
      [UpdateServiceCommand, { cluster: "prod", service: "checkout", desiredCount: 7 }],
    );
    expect(await regionOf(mocks.ecs)).toBe(REGION);
  });

  it("raises the scalable target's MinCapacity, never desiredCount, when a policy scales the service", async () => {
    ecsService();
    mocks.applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({
      ...metadata,
      ScalableTargets: [
        {
          ServiceNamespace: "ecs",
          ResourceId: "service/prod/checkout",
          ScalableDimension: "ecs:service:DesiredCount",
          MinCapacity: 2,
          MaxCapacity: 5,
          RoleARN: "arn:aws:iam::123456789012:role/ecsAutoscale",
          CreationTime: new Date("2024-01-01T00:00:00Z"),
        },
      ],
    });
    mocks.applicationAutoScaling.on(RegisterScalableTargetCommand).resolves(metadata);

    const outcome = await remediate(scale(ECS, { by: 3 }));

    expect(outcome).toMatchObject({
      status: "succeeded",
      reason: "MinCapacity 2 → 5 (desiredCount 4; restored when the incident resolves)",
      before: "desiredCount 4, running 4; MinCapacity 2, MaxCapacity 5",
    });
    expectSent(
      [DescribeServicesCommand, describeServices],
      [DescribeScalableTargetsCommand, describeScalableTargets],
      [RegisterScalableTargetCommand, { ...describeScalableTargetKey, MinCapacity: 5 }],
    );
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(await regionOf(mocks.applicationAutoScaling)).toBe(REGION);
  });

  it("sends nothing that changes anything to a service mid-deployment", async () => {
    ecsService({
      deployments: [
        { id: "ecs-svc/2", status: "PRIMARY", rolloutState: "IN_PROGRESS" },
        { id: "ecs-svc/1", status: "ACTIVE", rolloutState: "COMPLETED" },
      ],
    });

    const outcome = await remediate(scale(ECS, { by: 3 }));

    expect(outcome.status).toBe("skipped");
    expectSent([DescribeServicesCommand, describeServices]);
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(mocks.applicationAutoScaling).not.toHaveReceivedAnyCommand();
  });

  it("sends nothing that changes anything to a service already at its cap", async () => {
    ecsService({ desiredCount: 20 });
    mocks.applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({
      ...metadata,
      ScalableTargets: [],
    });

    const outcome = await remediate(scale(ECS, { by: 3 }, 20));

    expect(outcome.status).toBe("skipped");
    expect(mocks.ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it("in a dry run sends only the describes", async () => {
    ecsService();
    mocks.applicationAutoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ...metadata, ScalableTargets: [] });

    const outcome = await remediate(scale(ECS, { by: 3 }), "dry-run");

    expect(outcome).toMatchObject({
      status: "simulated",
      reason: expect.stringMatching(/^dry run/),
    });
    expectSent(
      [DescribeServicesCommand, describeServices],
      [DescribeScalableTargetsCommand, describeScalableTargets],
    );
  });

  it("calls the target's own region with a client built for that region", async () => {
    ecsService();
    mocks.applicationAutoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ...metadata, ScalableTargets: [] });
    mocks.ecs.on(UpdateServiceCommand).resolves(metadata);

    await remediate(scale({ ...ECS, region: "eu-west-1" }, { by: 1 }));

    expect(await regionOf(mocks.ecs)).toBe("eu-west-1");
    expect(await regionOf(mocks.applicationAutoScaling)).toBe("eu-west-1");
  });
});

describe("scale autoscaling-group", () => {
  const describeGroup = { AutoScalingGroupNames: ["web"] };
  const group = (extra: object = {}) =>
    mocks.autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
      ...metadata,
      AutoScalingGroups: [
        {
          AutoScalingGroupName: "web",
          MinSize: 2,
          MaxSize: 10,
          DesiredCapacity: 8,
          DefaultCooldown: 300,
          AvailabilityZones: ["us-east-1a"],
          HealthCheckType: "EC2",
          CreatedTime: new Date("2024-01-01T00:00:00Z"),
          ...extra,
        },
      ],
    });

  it("describes the group, then sets the desired capacity capped at MaxSize", async () => {
    group();
    mocks.autoscaling.on(SetDesiredCapacityCommand).resolves(metadata);

    const outcome = await remediate(scale({ kind: "autoscaling-group", name: "web" }, { by: 5 }));

    expect(outcome.status).toBe("succeeded");
    expectSent(
      [DescribeAutoScalingGroupsCommand, describeGroup],
      [
        SetDesiredCapacityCommand,
        { AutoScalingGroupName: "web", DesiredCapacity: 10, HonorCooldown: false },
      ],
    );
  });

  it("sends nothing that changes anything to a group being deleted", async () => {
    group({ Status: "Delete in progress" });

    const outcome = await remediate(scale({ kind: "autoscaling-group", name: "web" }, { by: 1 }));

    expect(outcome.status).toBe("skipped");
    expectSent([DescribeAutoScalingGroupsCommand, describeGroup]);
  });
});

describe("scale lambda-provisioned-concurrency", () => {
  const address = { FunctionName: "checkout-api", Qualifier: "live" };
  const target = {
    kind: "lambda-provisioned-concurrency",
    functionName: "checkout-api",
    qualifier: "live",
  };

  it("reads the configuration, then puts the raised one", async () => {
    mocks.lambda.on(GetProvisionedConcurrencyConfigCommand).resolves({
      ...metadata,
      RequestedProvisionedConcurrentExecutions: 10,
      AllocatedProvisionedConcurrentExecutions: 10,
      AvailableProvisionedConcurrentExecutions: 10,
      Status: "READY",
    });
    mocks.lambda.on(PutProvisionedConcurrencyConfigCommand).resolves(metadata);

    await remediate(scale(target, { factor: 1.5 }, 100));

    expectSent(
      [GetProvisionedConcurrencyConfigCommand, address],
      [PutProvisionedConcurrencyConfigCommand, { ...address, ProvisionedConcurrentExecutions: 15 }],
    );
  });

  it("starts from zero when Lambda says none is configured", async () => {
    mocks.lambda.on(GetProvisionedConcurrencyConfigCommand).rejects(
      new ProvisionedConcurrencyConfigNotFoundException({
        message: "No Provisioned Concurrency Config found for this function",
        $metadata: { httpStatusCode: 404 },
      }),
    );
    mocks.lambda.on(PutProvisionedConcurrencyConfigCommand).resolves(metadata);

    const outcome = await remediate(scale(target, { by: 5 }));

    expect(outcome.before).toBe("provisioned concurrency 0 (none)");
    expectSent(
      [GetProvisionedConcurrencyConfigCommand, address],
      [PutProvisionedConcurrencyConfigCommand, { ...address, ProvisionedConcurrentExecutions: 5 }],
    );
  });

  it("sends nothing that changes anything while allocation is IN_PROGRESS", async () => {
    mocks.lambda.on(GetProvisionedConcurrencyConfigCommand).resolves({
      ...metadata,
      RequestedProvisionedConcurrentExecutions: 10,
      Status: "IN_PROGRESS",
    });

    expect((await remediate(scale(target, { by: 5 }))).status).toBe("skipped");
    expect(mocks.lambda).not.toHaveReceivedCommand(PutProvisionedConcurrencyConfigCommand);
  });

  it("fails with a non-retryable AwsCallError when the function does not exist", async () => {
    mocks.lambda.on(GetProvisionedConcurrencyConfigCommand).rejects(
      new ResourceNotFoundException({
        message: "Function not found",
        $metadata: { httpStatusCode: 404 },
      }),
    );

    await expect(remediate(scale(target, { by: 5 }))).rejects.toMatchObject({
      errorCode: "ResourceNotFoundException",
      retryable: false,
    });
    expect(mocks.lambda).not.toHaveReceivedCommand(PutProvisionedConcurrencyConfigCommand);
  });
});

describe("rollback lambda-alias", () => {
  const target = { kind: "lambda-alias", functionName: "checkout-api", alias: "live" };
  const getAlias = { FunctionName: "checkout-api", Name: "live" };
  const alias = (extra: object = {}) =>
    mocks.lambda.on(GetAliasCommand).resolves({
      ...metadata,
      AliasArn: "arn:aws:lambda:us-east-1:123456789012:function:checkout-api:live",
      Name: "live",
      FunctionVersion: "7",
      ...extra,
    });
  const updateAlias = (FunctionVersion: string) => ({
    FunctionName: "checkout-api",
    Name: "live",
    FunctionVersion,
    RoutingConfig: { AdditionalVersionWeights: {} },
  });
  const versions = (...numbers: string[]) => numbers.map((Version) => ({ Version }));

  it("pages through the versions, then points the alias at the one before", async () => {
    alias();
    mocks.lambda
      .on(ListVersionsByFunctionCommand)
      .resolvesOnce({ ...metadata, Versions: versions("$LATEST", "1", "2"), NextMarker: "p2" })
      .resolvesOnce({ ...metadata, Versions: versions("6", "7", "8") });
    mocks.lambda.on(UpdateAliasCommand).resolves(metadata);

    const outcome = await remediate(rollback(target));

    expect(outcome.reason).toBe("alias live: version 7 → 6");
    expectSent(
      [GetAliasCommand, getAlias],
      [ListVersionsByFunctionCommand, { FunctionName: "checkout-api", MaxItems: 50 }],
      [ListVersionsByFunctionCommand, { FunctionName: "checkout-api", MaxItems: 50, Marker: "p2" }],
      [UpdateAliasCommand, updateAlias("6")],
    );
    expect(mocks.lambda).toHaveReceivedNthCommandWith(ListVersionsByFunctionCommand, 2, {
      Marker: "p2",
    });
  });

  it("stops a canary by clearing its weights, keeping the stable version", async () => {
    alias({ RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } } });
    mocks.lambda.on(UpdateAliasCommand).resolves(metadata);

    await remediate(rollback(target));

    expectSent([GetAliasCommand, getAlias], [UpdateAliasCommand, updateAlias("7")]);
  });

  it("sends nothing that changes anything to an alias on $LATEST", async () => {
    alias({ FunctionVersion: "$LATEST" });

    expect((await remediate(rollback(target))).status).toBe("skipped");
    expectSent([GetAliasCommand, getAlias]);
  });
});

describe("rollback codedeploy", () => {
  const target = { kind: "codedeploy", application: "checkout", deploymentGroup: "prod" };
  const listDeployments = {
    applicationName: "checkout",
    deploymentGroupName: "prod",
    includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"],
  };

  it("lists the active deployments, then stops each with automatic rollback", async () => {
    mocks.codedeploy
      .on(ListDeploymentsCommand)
      .resolves({ ...metadata, deployments: ["d-AAA111", "d-BBB222"] });
    mocks.codedeploy
      .on(StopDeploymentCommand)
      .resolves({ ...metadata, status: "Pending", statusMessage: "Stopping" });

    await remediate(rollback(target));

    expectSent(
      [ListDeploymentsCommand, listDeployments],
      [StopDeploymentCommand, { deploymentId: "d-AAA111", autoRollbackEnabled: true }],
      [StopDeploymentCommand, { deploymentId: "d-BBB222", autoRollbackEnabled: true }],
    );
    expect(mocks.codedeploy).toHaveReceivedCommandTimes(StopDeploymentCommand, 2);
  });

  it("sends nothing that changes anything when no deployment is active", async () => {
    mocks.codedeploy.on(ListDeploymentsCommand).resolves({ ...metadata, deployments: [] });

    expect((await remediate(rollback(target))).status).toBe("skipped");
    expectSent([ListDeploymentsCommand, listDeployments]);
  });
});

describe("rollback ecs-service", () => {
  const listTaskDefinitions = {
    familyPrefix: "checkout",
    status: "ACTIVE",
    sort: "DESC",
    maxResults: 100,
  };

  it("describes the service, lists its family, then updates to the previous", async () => {
    ecsService();
    mocks.ecs.on(ListTaskDefinitionsCommand).resolves({
      ...metadata,
      taskDefinitionArns: [taskDefinition(12), taskDefinition(11), taskDefinition(9)],
    });
    mocks.ecs.on(UpdateServiceCommand).resolves(metadata);

    await remediate(rollback(ECS));

    expectSent(
      [DescribeServicesCommand, { cluster: "prod", services: ["checkout"] }],
      [ListTaskDefinitionsCommand, listTaskDefinitions],
      [
        UpdateServiceCommand,
        { cluster: "prod", service: "checkout", taskDefinition: taskDefinition(11) },
      ],
    );
  });

  it("rolls a CODE_DEPLOY service back by stopping its group's deployment, never UpdateService", async () => {
    ecsService({
      deploymentController: { type: "CODE_DEPLOY" },
      deployments: [],
      taskSets: [
        { id: "ecs-svc/2", status: "ACTIVE", externalId: "d-GREEN0002" },
        { id: "ecs-svc/1", status: "PRIMARY", externalId: "d-BLUE00001" },
      ],
    });
    mocks.codedeploy.on(GetDeploymentCommand).resolves({
      ...metadata,
      deploymentInfo: {
        deploymentId: "d-GREEN0002",
        applicationName: "AppECS-prod-checkout",
        deploymentGroupName: "DgpECS-prod-checkout",
        status: "InProgress",
      },
    });
    mocks.codedeploy
      .on(ListDeploymentsCommand)
      .resolves({ ...metadata, deployments: ["d-GREEN0002"] });
    mocks.codedeploy.on(StopDeploymentCommand).resolves({ ...metadata, status: "Pending" });

    const outcome = await remediate(rollback(ECS));

    expect(outcome.status).toBe("succeeded");
    expectSent(
      [DescribeServicesCommand, { cluster: "prod", services: ["checkout"] }],
      [GetDeploymentCommand, { deploymentId: "d-GREEN0002" }],
      [
        ListDeploymentsCommand,
        {
          applicationName: "AppECS-prod-checkout",
          deploymentGroupName: "DgpECS-prod-checkout",
          includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"],
        },
      ],
      [StopDeploymentCommand, { deploymentId: "d-GREEN0002", autoRollbackEnabled: true }],
    );
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it("sends nothing that changes anything when there is no earlier revision", async () => {
    ecsService();
    mocks.ecs
      .on(ListTaskDefinitionsCommand)
      .resolves({ ...metadata, taskDefinitionArns: [taskDefinition(12)] });

    expect((await remediate(rollback(ECS))).status).toBe("skipped");
    expect(mocks.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(mocks.ecs).toHaveReceivedCommandTimes(ListTaskDefinitionsCommand, 1);
  });
});

describe("failover rds-cluster", () => {
  const cluster = () =>
    mocks.rds.on(DescribeDBClustersCommand).resolves({
      ...metadata,
      DBClusters: [
        {
          DBClusterIdentifier: "orders",
          Status: "available",
          Engine: "aurora-postgresql",
          DBClusterMembers: [
            { DBInstanceIdentifier: "orders-1", IsClusterWriter: true },
            { DBInstanceIdentifier: "orders-2", IsClusterWriter: false },
          ],
        },
      ],
    });

  it("describes the cluster, then fails over to the named reader", async () => {
    cluster();
    mocks.rds.on(FailoverDBClusterCommand).resolves(metadata);

    await remediate(
      failover({ kind: "rds-cluster", clusterId: "orders", targetInstance: "orders-2" }),
    );

    expectSent(
      [DescribeDBClustersCommand, { DBClusterIdentifier: "orders" }],
      [
        FailoverDBClusterCommand,
        { DBClusterIdentifier: "orders", TargetDBInstanceIdentifier: "orders-2" },
      ],
    );
  });

  it("names the reader RDS would pick when none is configured, so a retry cannot flip back", async () => {
    cluster();
    mocks.rds.on(FailoverDBClusterCommand).resolves(metadata);

    await remediate(failover({ kind: "rds-cluster", clusterId: "orders" }));

    expectSent(
      [DescribeDBClustersCommand, { DBClusterIdentifier: "orders" }],
      [
        FailoverDBClusterCommand,
        { DBClusterIdentifier: "orders", TargetDBInstanceIdentifier: "orders-2" },
      ],
    );
  });

  it("sends nothing that changes anything when the target is already the writer", async () => {
    cluster();

    const outcome = await remediate(
      failover({ kind: "rds-cluster", clusterId: "orders", targetInstance: "orders-1" }),
    );

    expect(outcome.status).toBe("skipped");
    expect(mocks.rds).not.toHaveReceivedCommand(FailoverDBClusterCommand);
  });
});

describe("failover route53-weights", () => {
  const target = {
    kind: "route53-weights",
    hostedZoneId: "Z0123456789ABC",
    recordName: "api.example.com.",
    recordType: "CNAME",
    primary: "eu-west-1",
    secondary: "us-east-1",
  };
  const record = (SetIdentifier: string, Weight: number, Value: string) => ({
    Name: "api.example.com.",
    Type: "CNAME" as const,
    SetIdentifier,
    Weight,
    TTL: 60,
    ResourceRecords: [{ Value }],
  });
  const records = (primaryWeight: number, secondaryWeight: number) =>
    mocks.route53.on(ListResourceRecordSetsCommand).resolves({
      ...metadata,
      ResourceRecordSets: [
        record("eu-west-1", primaryWeight, "api-eu.example.com"),
        record("us-east-1", secondaryWeight, "api-us.example.com"),
      ],
      IsTruncated: false,
      MaxItems: 100,
    });
  const listRecords = {
    HostedZoneId: "Z0123456789ABC",
    StartRecordName: "api.example.com.",
    StartRecordType: "CNAME",
    MaxItems: 100,
  };

  it("lists the records, then UPSERTs both with the weight moved", async () => {
    records(100, 0);
    mocks.route53.on(ChangeResourceRecordSetsCommand).resolves({
      ...metadata,
      ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() },
    });

    await remediate(failover(target));

    expectSent(
      [ListResourceRecordSetsCommand, listRecords],
      [
        ChangeResourceRecordSetsCommand,
        {
          HostedZoneId: "Z0123456789ABC",
          ChangeBatch: {
            Comment: `Firebreak failover: ${REFERENCE}`,
            Changes: [
              {
                Action: "UPSERT",
                ResourceRecordSet: record("eu-west-1", 0, "api-eu.example.com"),
              },
              {
                Action: "UPSERT",
                ResourceRecordSet: record("us-east-1", 100, "api-us.example.com"),
              },
            ],
          },
        },
      ],
    );
    // Route 53 is global: the request names no region, so the gateway's default is used.
    expect(await regionOf(mocks.route53)).toBe(REGION);
  });

  it("sends nothing that changes anything when already failed over", async () => {
    records(0, 100);

    expect((await remediate(failover(target))).status).toBe("skipped");
    expectSent([ListResourceRecordSetsCommand, listRecords]);
  });
});

describe("AWS errors", () => {
  it("throttling of the change surfaces as a retryable AwsCallError", async () => {
    ecsService();
    mocks.applicationAutoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ...metadata, ScalableTargets: [] });
    const throttled = throttling();
    mocks.ecs.on(UpdateServiceCommand).rejects(throttled);

    const error = await remediate(scale(ECS, { by: 1 })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      errorCode: "ThrottlingException",
      retryable: true,
      request: { service: "ecs", operation: "UpdateService" },
      cause: throttled,
    });
  });

  it("throttling of a describe surfaces as retryable before any change", async () => {
    mocks.rds.on(DescribeDBClustersCommand).rejects(throttling());

    await expect(
      remediate(failover({ kind: "rds-cluster", clusterId: "orders" })),
    ).rejects.toMatchObject({
      errorCode: "ThrottlingException",
      retryable: true,
      request: { service: "rds", operation: "DescribeDBClusters" },
    });
    expect(mocks.rds).not.toHaveReceivedCommand(FailoverDBClusterCommand);
  });

  it("AccessDeniedException surfaces as a non-retryable AwsCallError", async () => {
    ecsService();
    mocks.applicationAutoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ...metadata, ScalableTargets: [] });
    const denied = new AccessDeniedException({
      message: "User is not authorized to perform: ecs:UpdateService",
      $metadata: { httpStatusCode: 400 },
    });
    mocks.ecs.on(UpdateServiceCommand).rejects(denied);

    const error = await remediate(scale(ECS, { by: 1 })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      errorCode: "AccessDeniedException",
      retryable: false,
      request: { service: "ecs", operation: "UpdateService" },
      cause: denied,
    });
  });
});
