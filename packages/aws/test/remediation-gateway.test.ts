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
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import {
  AccessDeniedException,
  DescribeServicesCommand,
  ECSClient,
  LimitExceededException,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import {
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PutProvisionedConcurrencyConfigCommand,
  TooManyRequestsException,
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
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { type AwsCommand, type AwsStub, mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { AwsCallError, type AwsRequest, type AwsService } from "@firebreak/core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  AWS_GATEWAY_OPERATIONS,
  AwsSdkGateway,
  commandOf,
  createSdkClient,
  defaultSnsClient,
  isRetryableAwsError,
  SDK_CLIENT_SETTINGS,
} from "../src";

const mocks = {
  ecs: mockClient(ECSClient),
  "application-autoscaling": mockClient(ApplicationAutoScalingClient),
  autoscaling: mockClient(AutoScalingClient),
  lambda: mockClient(LambdaClient),
  codedeploy: mockClient(CodeDeployClient),
  rds: mockClient(RDSClient),
  route53: mockClient(Route53Client),
  sns: mockClient(SNSClient),
};
const allMocks = Object.values(mocks);

beforeEach(() => {
  for (const mock of allMocks) mock.reset();
});

const gateway = () => new AwsSdkGateway({ region: "eu-west-1" });

/**
 * One allowed operation: the request core would make, and checks that exactly its SDK command
 * went out with exactly its input. Typing `input` as the command's input proves the test inputs
 * are real SDK shapes.
 */
function operation<
  TInput extends object,
  TOutput extends { $metadata: object },
  TConfig,
  TCmdInput extends TInput,
  TCmdOutput extends TOutput,
>(
  service: AwsService,
  name: string,
  mock: AwsStub<TInput, TOutput, TConfig>,
  Command: new (input: TCmdInput) => AwsCommand<TCmdInput, TCmdOutput>,
  input: TCmdInput & Record<string, unknown>,
) {
  const output = { $metadata: { httpStatusCode: 200, requestId: `${name}-request` } };
  return {
    request: { service, operation: name, input } satisfies AwsRequest,
    arrange: () => mock.on(Command).resolves(output as Partial<TCmdOutput>),
    output,
    assertSent: () => {
      expect(mock).toHaveReceivedCommandExactlyOnceWith(Command, input);
      expect(mock.calls()).toHaveLength(1);
      const command = mock.call(0).args[0];
      expect(command).toBeInstanceOf(Command);
      // The matcher above only checks containment; the input must be passed as is.
      expect(command.input).toStrictEqual(input);
      for (const other of allMocks) {
        if (other !== (mock as unknown)) expect(other).not.toHaveReceivedAnyCommand();
      }
    },
  };
}

const operations = [
  operation("ecs", "DescribeServices", mocks.ecs, DescribeServicesCommand, {
    cluster: "prod",
    services: ["checkout"],
  }),
  operation("ecs", "UpdateService", mocks.ecs, UpdateServiceCommand, {
    cluster: "prod",
    service: "checkout",
    desiredCount: 6,
  }),
  operation("ecs", "ListTaskDefinitions", mocks.ecs, ListTaskDefinitionsCommand, {
    familyPrefix: "checkout",
    status: "ACTIVE",
    sort: "DESC",
    maxResults: 5,
  }),
  operation(
    "application-autoscaling",
    "DescribeScalableTargets",
    mocks["application-autoscaling"],
    DescribeScalableTargetsCommand,
    {
      ServiceNamespace: "ecs",
      ResourceIds: ["service/prod/checkout"],
      ScalableDimension: "ecs:service:DesiredCount",
    },
  ),
  operation(
    "application-autoscaling",
    "RegisterScalableTarget",
    mocks["application-autoscaling"],
    RegisterScalableTargetCommand,
    {
      ServiceNamespace: "ecs",
      ResourceId: "service/prod/checkout",
      ScalableDimension: "ecs:service:DesiredCount",
      MinCapacity: 6,
    },
  ),
  operation(
    "autoscaling",
    "DescribeAutoScalingGroups",
    mocks.autoscaling,
    DescribeAutoScalingGroupsCommand,
    { AutoScalingGroupNames: ["web"] },
  ),
  operation("autoscaling", "SetDesiredCapacity", mocks.autoscaling, SetDesiredCapacityCommand, {
    AutoScalingGroupName: "web",
    DesiredCapacity: 8,
    HonorCooldown: false,
  }),
  operation(
    "lambda",
    "GetProvisionedConcurrencyConfig",
    mocks.lambda,
    GetProvisionedConcurrencyConfigCommand,
    { FunctionName: "checkout-api", Qualifier: "live" },
  ),
  operation(
    "lambda",
    "PutProvisionedConcurrencyConfig",
    mocks.lambda,
    PutProvisionedConcurrencyConfigCommand,
    { FunctionName: "checkout-api", Qualifier: "live", ProvisionedConcurrentExecutions: 20 },
  ),
  operation("lambda", "GetAlias", mocks.lambda, GetAliasCommand, {
    FunctionName: "checkout-api",
    Name: "live",
  }),
  operation("lambda", "ListVersionsByFunction", mocks.lambda, ListVersionsByFunctionCommand, {
    FunctionName: "checkout-api",
    MaxItems: 50,
  }),
  operation("lambda", "UpdateAlias", mocks.lambda, UpdateAliasCommand, {
    FunctionName: "checkout-api",
    Name: "live",
    FunctionVersion: "41",
    RoutingConfig: { AdditionalVersionWeights: {} },
  }),
  operation("codedeploy", "ListDeployments", mocks.codedeploy, ListDeploymentsCommand, {
    applicationName: "checkout",
    deploymentGroupName: "prod",
    includeOnlyStatuses: ["InProgress"],
  }),
  operation("codedeploy", "GetDeployment", mocks.codedeploy, GetDeploymentCommand, {
    deploymentId: "d-ABCDEF123",
  }),
  operation("codedeploy", "StopDeployment", mocks.codedeploy, StopDeploymentCommand, {
    deploymentId: "d-ABCDEF123",
    autoRollbackEnabled: true,
  }),
  // A last-change rollback of a deployment that already succeeded: its previous revision again.
  operation("codedeploy", "CreateDeployment", mocks.codedeploy, CreateDeploymentCommand, {
    applicationName: "checkout",
    deploymentGroupName: "prod",
    revision: {
      revisionType: "S3",
      s3Location: { bucket: "builds", key: "checkout-41.zip", bundleType: "zip" },
    },
    description: "Firebreak: rolls back d-ABCDEF123 (change codedeploy:d-ABCDEF123)",
  }),
  operation("rds", "DescribeDBClusters", mocks.rds, DescribeDBClustersCommand, {
    DBClusterIdentifier: "orders",
  }),
  operation("rds", "FailoverDBCluster", mocks.rds, FailoverDBClusterCommand, {
    DBClusterIdentifier: "orders",
    TargetDBInstanceIdentifier: "orders-2",
  }),
  operation("route53", "ListResourceRecordSets", mocks.route53, ListResourceRecordSetsCommand, {
    HostedZoneId: "Z0123456789ABC",
    StartRecordName: "api.example.com",
    StartRecordType: "A",
    MaxItems: 10,
  }),
  operation("route53", "ChangeResourceRecordSets", mocks.route53, ChangeResourceRecordSetsCommand, {
    HostedZoneId: "Z0123456789ABC",
    ChangeBatch: {
      Comment: "firebreak: shift traffic away from eu-west-1",
      Changes: [
        {
          Action: "UPSERT",
          ResourceRecordSet: {
            Name: "api.example.com",
            Type: "CNAME",
            SetIdentifier: "eu-west-1",
            Weight: 0,
            TTL: 60,
            ResourceRecords: [{ Value: "api-eu.example.com" }],
          },
        },
      ],
    },
  }),
  operation("sns", "Publish", mocks.sns, PublishCommand, {
    TopicArn: "arn:aws:sns:eu-west-1:123456789012:firebreak-pages",
    Subject: "checkout: 5xx rate",
    Message: "Incident INC-1 opened",
  }),
];

describe("AwsSdkGateway", () => {
  it.each(operations.map((op) => [`${op.request.service} ${op.request.operation}`, op] as const))(
    "sends %s as exactly that command and input, and returns the output",
    async (_, op) => {
      op.arrange();
      await expect(gateway().send(op.request)).resolves.toStrictEqual(op.output);
      op.assertSent();
    },
  );

  it("allows exactly the operations above", () => {
    const expected: Record<string, string[]> = {};
    for (const { request } of operations) {
      expected[request.service] = [...(expected[request.service] ?? []), request.operation];
    }
    expect(AWS_GATEWAY_OPERATIONS).toStrictEqual(expected);
  });

  it.each([
    ["ecs", "DeleteService"],
    ["lambda", "Invoke"],
    ["rds", "DeleteDBCluster"],
    ["sns", "DeleteTopic"],
    ["ecs", "describeServices"],
    ["ecs", "constructor"],
    ["ecs", "__proto__"],
    ["ecs", "toString"],
    ["ec2", "TerminateInstances"],
    ["hasOwnProperty", "DescribeServices"],
  ])("refuses %s %s without any call", async (service, name) => {
    const clientFactory = vi.fn(createSdkClient);
    const request = { service, operation: name, input: {} } as unknown as AwsRequest;
    const error = await new AwsSdkGateway({ region: "eu-west-1", clientFactory })
      .send(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      errorCode: "OperationNotAllowed",
      retryable: false,
      request: { service, operation: name },
    });
    expect((error as Error).message).toContain("operation not allowed");
    expect(clientFactory).not.toHaveBeenCalled();
    for (const mock of allMocks) expect(mock).not.toHaveReceivedAnyCommand();
  });

  it("turns throttling into a retryable AwsCallError, keeping the cause", async () => {
    const throttling = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $fault: "client",
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400 },
    });
    mocks.ecs.on(UpdateServiceCommand).rejects(throttling);
    const error = await gateway()
      .send({ service: "ecs", operation: "UpdateService", input: { service: "checkout" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      errorCode: "ThrottlingException",
      retryable: true,
      request: { service: "ecs", operation: "UpdateService" },
      cause: throttling,
    });
    expect((error as Error).message).toBe(
      "ecs:UpdateService failed: ThrottlingException: Rate exceeded",
    );
  });

  it("turns Lambda's TooManyRequestsException into a retryable AwsCallError", async () => {
    mocks.lambda.on(PutProvisionedConcurrencyConfigCommand).rejects(
      new TooManyRequestsException({
        message: "Rate exceeded",
        Reason: "CallerRateLimitExceeded",
        $metadata: { httpStatusCode: 429 },
      }),
    );
    await expect(
      gateway().send({
        service: "lambda",
        operation: "PutProvisionedConcurrencyConfig",
        input: { FunctionName: "checkout-api", Qualifier: "live" },
      }),
    ).rejects.toMatchObject({ errorCode: "TooManyRequestsException", retryable: true });
  });

  it("turns AccessDeniedException into a non-retryable AwsCallError", async () => {
    const denied = new AccessDeniedException({
      message: "User is not authorized to perform: ecs:UpdateService",
      $metadata: { httpStatusCode: 400 },
    });
    mocks.ecs.on(UpdateServiceCommand).rejects(denied);
    const error = await gateway()
      .send({ service: "ecs", operation: "UpdateService", input: { service: "checkout" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      errorCode: "AccessDeniedException",
      retryable: false,
      cause: denied,
    });
  });

  it("treats an ECS quota (LimitExceededException) as not retryable", async () => {
    mocks.ecs.on(UpdateServiceCommand).rejects(
      new LimitExceededException({
        message: "The limit for the resource was exceeded.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(
      gateway().send({ service: "ecs", operation: "UpdateService", input: {} }),
    ).rejects.toMatchObject({ errorCode: "LimitExceededException", retryable: false });
  });

  it("builds one client per service and region, on first use, and reuses it", async () => {
    const clientFactory = vi.fn(createSdkClient);
    const gateway = new AwsSdkGateway({ region: "eu-west-1", clientFactory });
    mocks.ecs.on(DescribeServicesCommand).resolves({});
    mocks.rds.on(DescribeDBClustersCommand).resolves({});
    expect(clientFactory).not.toHaveBeenCalled();
    const describeServices = (region?: string) =>
      gateway.send({ service: "ecs", operation: "DescribeServices", input: {}, region });
    await describeServices("us-west-2");
    await describeServices("us-west-2");
    await describeServices();
    await describeServices("eu-west-1");
    await gateway.send({ service: "rds", operation: "DescribeDBClusters", input: {} });

    expect(clientFactory.mock.calls).toEqual([
      ["ecs", "us-west-2"],
      ["ecs", "eu-west-1"],
      ["rds", "eu-west-1"],
    ]);
    const regions = await Promise.all(
      mocks.ecs.calls().map((call) => (call.thisValue as ECSClient).config.region()),
    );
    expect(regions).toEqual(["us-west-2", "us-west-2", "eu-west-1", "eu-west-1"]);
    const [west, , eu] = mocks.ecs.calls().map((call) => call.thisValue);
    expect(mocks.ecs.call(1).thisValue).toBe(west);
    expect(mocks.ecs.call(3).thisValue).toBe(eu);
  });

  it("configures default clients with the request's region and 3 attempts", async () => {
    const client = (await createSdkClient("lambda", "ap-southeast-2")) as LambdaClient;
    expect(client).toBeInstanceOf(LambdaClient);
    expect(await client.config.region()).toBe("ap-southeast-2");
    expect(await client.config.maxAttempts()).toBe(3);
  });

  it("builds every client, SNS's too, with connection and request timeouts", async () => {
    /** The limits the client's Node HTTP handler resolved, as it will apply them. */
    const limitsOf = async (client: unknown) => {
      const handler = (client as { config: { requestHandler: unknown } }).config.requestHandler as {
        configProvider?: Promise<Record<string, unknown>>;
      };
      const config = await handler.configProvider;
      return {
        connectionTimeout: Number(config?.connectionTimeout),
        requestTimeout: Number(config?.requestTimeout),
      };
    };
    const services = Object.keys(AWS_GATEWAY_OPERATIONS) as AwsService[];
    expect(Object.keys(SDK_CLIENT_SETTINGS).sort()).toEqual([...services].sort());
    for (const service of services) {
      const limits = await limitsOf(await createSdkClient(service, "eu-west-1"));
      expect(limits).toStrictEqual(SDK_CLIENT_SETTINGS[service].requestHandler);
      expect(limits.connectionTimeout).toBeGreaterThan(0);
      expect(limits.requestTimeout).toBeGreaterThan(limits.connectionTimeout);
    }
    const sns = await defaultSnsClient("us-east-1");
    expect(await limitsOf(sns)).toStrictEqual(SDK_CLIENT_SETTINGS.sns.requestHandler);
    expect(await sns.config.maxAttempts()).toBe(3);
  });

  it("names a real SDK command and client for every operation it allows", async () => {
    for (const [service, operations] of Object.entries(AWS_GATEWAY_OPERATIONS)) {
      const client = await createSdkClient(service as AwsService, "eu-west-1");
      expect(typeof client.send).toBe("function");
      for (const operation of operations) {
        const Command = await commandOf(service as AwsService, operation);
        expect(Command.name).toBe(`${operation}Command`);
      }
    }
    await expect(commandOf("ecs", "DeleteCluster2")).rejects.toThrow(/no DeleteCluster2Command/);
  });

  it("fails at construction on a default region that is not a region name", () => {
    expect(() => new AwsSdkGateway({ region: "" })).toThrow("is not a region name");
    expect(() => new AwsSdkGateway({ region: "us-gov-west-1" })).not.toThrow();
  });

  it("refuses a region that is not a region name without any call", async () => {
    await expect(
      gateway().send({
        service: "ecs",
        operation: "DescribeServices",
        input: {},
        region: "evil.example.com/",
      }),
    ).rejects.toMatchObject({ errorCode: "InvalidRegion", retryable: false });
    expect(mocks.ecs).not.toHaveReceivedAnyCommand();
  });
});

describe("isRetryableAwsError", () => {
  const error = (name: string, extra: object = {}) =>
    Object.assign(new Error(name), { name, $metadata: {}, ...extra });

  it.each([
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
    "TimeoutError",
  ])("retries %s", (name) => {
    expect(isRetryableAwsError(error(name))).toBe(true);
  });

  it.each([
    "AccessDeniedException",
    "AccessDenied",
    "ValidationException",
    "ValidationError",
    "ResourceNotFoundException",
    "InvalidParameterException",
    "InvalidParameterValueException",
    "ResourceConflictException",
    "InvalidDBClusterStateFault",
    "LimitExceededException",
    "AbortError",
  ])("does not retry %s", (name) => {
    expect(isRetryableAwsError(error(name))).toBe(false);
  });

  it("retries server faults, $retryable errors, 5xx and 429 whatever their name", () => {
    expect(isRetryableAwsError(error("ServerException", { $fault: "server" }))).toBe(true);
    expect(isRetryableAwsError(error("Whatever", { $retryable: {} }))).toBe(true);
    expect(isRetryableAwsError(error("Unknown", { $metadata: { httpStatusCode: 503 } }))).toBe(
      true,
    );
    expect(isRetryableAwsError(error("Unknown", { $metadata: { httpStatusCode: 429 } }))).toBe(
      true,
    );
    expect(isRetryableAwsError(error("Unknown", { $metadata: { httpStatusCode: 400 } }))).toBe(
      false,
    );
  });

  it("retries socket and DNS errors, also when wrapped", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(isRetryableAwsError(reset)).toBe(true);
    expect(isRetryableAwsError(new TypeError("fetch failed", { cause: reset }))).toBe(true);
    const dns = Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
    expect(isRetryableAwsError(dns)).toBe(true);
    expect(isRetryableAwsError(new Error("Region is missing"))).toBe(false);
    expect(isRetryableAwsError("a string")).toBe(false);
  });

  it("names socket errors by their code in AwsCallErrors", async () => {
    mocks.rds
      .on(FailoverDBClusterCommand)
      .rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    await expect(
      gateway().send({ service: "rds", operation: "FailoverDBCluster", input: {} }),
    ).rejects.toMatchObject({ errorCode: "ECONNRESET", retryable: true });
  });
});
