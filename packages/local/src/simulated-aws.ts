import {
  AccountNotConfiguredError,
  AwsCallError,
  type AwsGateway,
  type AwsRequest,
  type Change,
  type MonitoringConfig,
} from "@firebreak/core";
import * as z from "zod";
import { SimulatedCloudWatch } from "./simulated-cloudwatch";

/** A call the simulation answered: what Firebreak would have sent to AWS. */
export interface SimulatedCall {
  at: string;
  service: string;
  operation: string;
  region: string | undefined;
  /** The account the request named; absent for Firebreak's own. */
  account?: string;
  /** The role assumed for it (`accounts[account].roleArn`), as AWS would need. */
  assumedRole?: string;
  input: Record<string, unknown>;
  /** True for calls that change something (the ones a live run would make with effect). */
  changes: boolean;
}

interface EcsService {
  desiredCount: number;
  deployments: number;
  family: string;
  revision: number;
  revisions: number[];
  /** Application Auto Scaling's target for the count, when one is registered. */
  scalableTarget: { minCapacity: number; maxCapacity: number } | null;
  /** Blue/green through CodeDeploy: the deployment that made the service's task set. */
  codeDeploy: { application: string; deploymentGroup: string; deploymentId: string } | null;
}

interface Model {
  ecs: Map<string, EcsService>;
  asg: Map<string, { desired: number; max: number }>;
  provisioned: Map<string, number>;
  aliases: Map<string, { version: number; versions: number[] }>;
  deployments: Map<string, string[]>;
  clusters: Map<string, { writer: string; readers: string[] }>;
  weights: Map<string, Record<string, number>>;
}

const emptyModel = (): Model => ({
  ecs: new Map(),
  asg: new Map(),
  provisioned: new Map(),
  aliases: new Map(),
  deployments: new Map(),
  clusters: new Map(),
  weights: new Map(),
});

export interface SimulatedAccounts {
  /** Member accounts and their roles (the config's `accounts`). */
  accounts?: MonitoringConfig["accounts"];
  /**
   * The account the stack plays Firebreak's own. Unset, every account outside `accounts` is
   * taken as its own (sample payloads name several accounts); set, any other is refused as
   * AWS would refuse it: no role to assume there.
   */
  homeAccount?: string;
}

/** A Lambda alias update as CloudTrail reports it through EventBridge. */
const UpdateAliasEventSchema = z.object({
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  account: z.string().optional(),
  detail: z.object({
    eventSource: z.literal("lambda.amazonaws.com"),
    eventName: z.string().startsWith("UpdateAlias"),
    requestParameters: z.object({
      functionName: z.string().min(1),
      name: z.string().min(1),
      functionVersion: z.string().regex(/^\d+$/),
    }),
  }),
});

/** A function name from a name or an ARN (`arn:aws:lambda:...:function:name[:qualifier]`). */
const functionNameOf = (nameOrArn: string) =>
  nameOrArn.startsWith("arn:") ? (nameOrArn.split(":")[6] ?? nameOrArn) : nameOrArn;

const str = (value: unknown) => String(value ?? "");
const notFound = (request: AwsRequest, what: string) =>
  new AwsCallError(request, "ResourceNotFoundException", `${what} not found`, false);

/**
 * A small model of the targets remediation acts on, answering the same API calls the AWS gateway
 * would send, so the local stack behaves as AWS does: bounds hold, cooldowns and breakers count,
 * a rollback with no previous version is skipped. Targets appear on first use with plausible
 * defaults (an ECS service running 2 of max 10 tasks on revision 3, an alias on version 3 of 3,
 * a CodeDeploy deployment in progress, an Aurora cluster with one reader, weights 100/0). An
 * ECS service has no scalable target and uses ECS's own deployments unless seeded otherwise.
 * Every call is recorded (`GET /local/aws`). Each member account has a model of its own,
 * reached through its role in `accounts`; target versions follow deploy events and changes
 * (`observe`, `applyChange`), and `cloudwatch` is the simulated CloudWatch beside them.
 */
export class SimulatedAws implements AwsGateway {
  readonly calls: SimulatedCall[] = [];
  /** Alarm states and metrics, following the alarm events the stack is sent. */
  readonly cloudwatch: SimulatedCloudWatch;
  private readonly home: Model = emptyModel();
  private readonly members = new Map<string, Model>();
  /** The model the running handler acts on: handlers are synchronous, `send` sets it. */
  private model: Model = this.home;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly accounts: SimulatedAccounts = {},
  ) {
    this.cloudwatch = new SimulatedCloudWatch(clock);
  }

  /**
   * Follows what happened in AWS as a raw event tells it: alarm state changes (into
   * `cloudwatch`) and Lambda alias updates (the alias moves to the deployed version).
   */
  observe(raw: unknown): void {
    if (this.cloudwatch.observe(raw)) return;
    const update = UpdateAliasEventSchema.safeParse(raw);
    if (!update.success) return;
    const { functionName, name, functionVersion } = update.data.detail.requestParameters;
    this.inModel(update.data.account, () => {
      this.deployAlias(this.alias(functionNameOf(functionName), name), Number(functionVersion));
    });
  }

  /**
   * Moves a change's target to its version, as the deploy did: a Lambda alias to a numbered
   * version, an ECS service to a task definition revision (`family:revision` or its ARN).
   */
  applyChange(change: Change): void {
    const target = change.target;
    if (!target) return;
    this.inModel(change.account ?? undefined, () => {
      if (target.kind === "lambda-alias" && /^\d+$/.test(change.version)) {
        this.deployAlias(this.alias(target.functionName, target.alias), Number(change.version));
      } else if (target.kind === "ecs-service") {
        const revision = Number(change.version.split(":").pop());
        if (!Number.isInteger(revision) || revision < 1) return;
        const service = this.ecs(target.cluster, target.service);
        const family = change.version.includes(":")
          ? change.version.split("/").pop()?.split(":")[0]
          : undefined;
        if (family) service.family = family;
        this.deployEcs(service, revision);
      }
    });
  }

  /**
   * Names the weighted records of a DNS failover target (their SetIdentifiers come from the
   * config): the primary starts with all the weight.
   */
  seedWeights(hostedZoneId: string, recordName: string, primary: string, secondary: string): void {
    const key = `${hostedZoneId}/${recordName}`;
    if (!this.model.weights.has(key))
      this.model.weights.set(key, { [primary]: 100, [secondary]: 0 });
  }

  /**
   * Registers an Application Auto Scaling target for an ECS service: its scale-outs then raise
   * the minimum, as they would in AWS.
   */
  seedScalableTarget(
    cluster: string,
    service: string,
    minCapacity: number,
    maxCapacity: number,
  ): void {
    const found = this.ecs(cluster, service);
    found.scalableTarget = { minCapacity, maxCapacity };
    found.desiredCount = Math.min(Math.max(found.desiredCount, minCapacity), maxCapacity);
  }

  /**
   * Makes an ECS service blue/green: deployed by CodeDeploy (`deploymentController`
   * CODE_DEPLOY), with a deployment of its group in progress.
   */
  seedCodeDeploy(cluster: string, service: string, application: string, deploymentGroup: string) {
    const deploymentId = `d-LOCAL${String(this.model.deployments.size + 2).padStart(5, "0")}`;
    this.ecs(cluster, service).codeDeploy = { application, deploymentGroup, deploymentId };
    this.model.deployments.set(`${application}/${deploymentGroup}`, [deploymentId]);
  }

  async send(request: AwsRequest): Promise<unknown> {
    const handler = this.handlers[`${request.service}:${request.operation}`];
    if (!handler) {
      throw new AwsCallError(request, "UnsupportedOperation", "not simulated locally", false);
    }
    const role = this.roleFor(request);
    const { response, changes } = this.inModel(role ? request.account : undefined, () =>
      handler(request.input, request),
    );
    this.calls.push({
      at: new Date(this.clock()).toISOString(),
      service: request.service,
      operation: request.operation,
      region: request.region,
      ...(request.account ? { account: request.account } : {}),
      ...(role ? { assumedRole: role } : {}),
      input: request.input,
      changes,
    });
    return response;
  }

  /**
   * The role a request's account is reached through, or null for the stack's own account.
   * @throws AccountNotConfiguredError for a foreign account with no role, as the AWS gateway
   */
  private roleFor(request: AwsRequest): string | null {
    const { account } = request;
    if (account === undefined || account === this.accounts.homeAccount) return null;
    const member = Object.hasOwn(this.accounts.accounts ?? {}, account)
      ? this.accounts.accounts?.[account]
      : undefined;
    if (member) return member.roleArn;
    if (this.accounts.homeAccount === undefined) return null;
    throw new AccountNotConfiguredError(request, account);
  }

  /** Runs `act` on the model of a member account (none: the stack's own). */
  private inModel<T>(account: string | undefined, act: () => T): T {
    const isMember =
      account !== undefined &&
      account !== this.accounts.homeAccount &&
      Object.hasOwn(this.accounts.accounts ?? {}, account);
    if (!isMember) return act();
    let model = this.members.get(account);
    if (!model) {
      model = emptyModel();
      this.members.set(account, model);
    }
    const previous = this.model;
    this.model = model;
    try {
      return act();
    } finally {
      this.model = previous;
    }
  }

  /** An alias now points at `version`, which joins the function's versions. */
  private deployAlias(alias: { version: number; versions: number[] }, version: number) {
    alias.version = version;
    alias.versions = [...new Set([...alias.versions, version])].sort((a, b) => a - b);
  }

  /** A service now runs `revision` of its task definition family. */
  private deployEcs(service: EcsService, revision: number) {
    service.revision = revision;
    service.revisions = [...new Set([...service.revisions, revision])].sort((a, b) => a - b);
  }

  /** The model's current state, for people to see what the simulation did. */
  snapshot() {
    const entries = <T>(map: Map<string, T>) => Object.fromEntries(map);
    const view = (model: Model) => ({
      ecsServices: entries(model.ecs),
      autoScalingGroups: entries(model.asg),
      provisionedConcurrency: entries(model.provisioned),
      lambdaAliases: entries(model.aliases),
      codeDeployActiveDeployments: entries(model.deployments),
      rdsClusters: entries(model.clusters),
      route53Weights: entries(model.weights),
    });
    return {
      ...view(this.home),
      memberAccounts: Object.fromEntries(
        [...this.members].map(([account, model]) => [account, view(model)]),
      ),
      alarms: this.cloudwatch.snapshot(),
    };
  }

  private ecs(cluster: string, service: string): EcsService {
    const key = `${cluster}/${service}`;
    let found = this.model.ecs.get(key);
    if (!found) {
      found = {
        desiredCount: 2,
        deployments: 1,
        family: service,
        revision: 3,
        revisions: [1, 2, 3],
        scalableTarget: null,
        codeDeploy: null,
      };
      this.model.ecs.set(key, found);
    }
    return found;
  }

  private read<T>(response: T) {
    return { response, changes: false };
  }

  private change<T>(response: T) {
    return { response, changes: true };
  }

  private readonly handlers: Record<
    string,
    (input: Record<string, unknown>, request: AwsRequest) => { response: unknown; changes: boolean }
  > = {
    "ecs:DescribeServices": (input, request) => {
      const cluster = str(input.cluster);
      const service = this.ecs(cluster, str((input.services as unknown[])?.[0]));
      const arn = `arn:aws:ecs:${request.region ?? "us-east-1"}:000000000000:task-definition`;
      return this.read({
        services: [
          {
            desiredCount: service.desiredCount,
            runningCount: service.desiredCount,
            status: "ACTIVE",
            taskDefinition: `${arn}/${service.family}:${service.revision}`,
            ...(service.codeDeploy
              ? {
                  deploymentController: { type: "CODE_DEPLOY" },
                  deployments: [],
                  taskSets: [{ status: "PRIMARY", externalId: service.codeDeploy.deploymentId }],
                }
              : {
                  deploymentController: { type: "ECS" },
                  deployments: Array.from({ length: service.deployments }, () => ({
                    status: "PRIMARY",
                    rolloutState: "COMPLETED",
                  })),
                }),
          },
        ],
      });
    },
    "application-autoscaling:DescribeScalableTargets": (input) => {
      const resourceId = str((input.ResourceIds as unknown[])?.[0]);
      const [, cluster, service] = resourceId.split("/");
      const target = this.ecs(str(cluster), str(service)).scalableTarget;
      return this.read({
        ScalableTargets: target
          ? [
              {
                ServiceNamespace: "ecs",
                ResourceId: resourceId,
                ScalableDimension: "ecs:service:DesiredCount",
                MinCapacity: target.minCapacity,
                MaxCapacity: target.maxCapacity,
              },
            ]
          : [],
      });
    },
    "application-autoscaling:RegisterScalableTarget": (input, request) => {
      const [, cluster, service] = str(input.ResourceId).split("/");
      const found = this.ecs(str(cluster), str(service));
      if (!found.scalableTarget)
        throw notFound(request, `scalable target ${str(input.ResourceId)}`);
      if (typeof input.MinCapacity === "number")
        found.scalableTarget.minCapacity = input.MinCapacity;
      if (typeof input.MaxCapacity === "number")
        found.scalableTarget.maxCapacity = input.MaxCapacity;
      // As in AWS, the count moves into the new range at once; scaling in below a lowered
      // minimum is left to the scaling policy.
      const { minCapacity, maxCapacity } = found.scalableTarget;
      found.desiredCount = Math.min(Math.max(found.desiredCount, minCapacity), maxCapacity);
      return this.change({});
    },
    "ecs:UpdateService": (input, request) => {
      const service = this.ecs(str(input.cluster), str(input.service));
      if (service.codeDeploy && typeof input.taskDefinition === "string") {
        // ECS's own refusal: a blue/green service changes its task definition only through
        // a CodeDeploy deployment.
        throw new AwsCallError(
          request,
          "InvalidParameterException",
          "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
          false,
        );
      }
      if (typeof input.desiredCount === "number") service.desiredCount = input.desiredCount;
      if (typeof input.taskDefinition === "string") {
        service.revision = Number(input.taskDefinition.split(":").pop());
      }
      return this.change({ service: { desiredCount: service.desiredCount } });
    },
    "ecs:ListTaskDefinitions": (input, request) => {
      const family = str(input.familyPrefix);
      const service = [...this.model.ecs.values()].find((candidate) => candidate.family === family);
      const arn = `arn:aws:ecs:${request.region ?? "us-east-1"}:000000000000:task-definition/${family}`;
      const revisions = [...(service?.revisions ?? [])].sort((a, b) => b - a);
      return this.read({ taskDefinitionArns: revisions.map((revision) => `${arn}:${revision}`) });
    },
    "autoscaling:DescribeAutoScalingGroups": (input) => {
      const name = str((input.AutoScalingGroupNames as unknown[])?.[0]);
      const group = this.model.asg.get(name) ?? { desired: 2, max: 10 };
      this.model.asg.set(name, group);
      return this.read({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: name,
            DesiredCapacity: group.desired,
            MaxSize: group.max,
            MinSize: 1,
          },
        ],
      });
    },
    "autoscaling:SetDesiredCapacity": (input) => {
      const group = this.model.asg.get(str(input.AutoScalingGroupName)) ?? { desired: 2, max: 10 };
      group.desired = Number(input.DesiredCapacity);
      this.model.asg.set(str(input.AutoScalingGroupName), group);
      return this.change({});
    },
    "lambda:GetProvisionedConcurrencyConfig": (input, request) => {
      const current = this.model.provisioned.get(
        `${str(input.FunctionName)}:${str(input.Qualifier)}`,
      );
      if (current === undefined) {
        throw new AwsCallError(
          request,
          "ProvisionedConcurrencyConfigNotFoundException",
          "No Provisioned Concurrency Config found",
          false,
        );
      }
      return this.read({
        RequestedProvisionedConcurrentExecutions: current,
        AllocatedProvisionedConcurrentExecutions: current,
        Status: "READY",
      });
    },
    "lambda:PutProvisionedConcurrencyConfig": (input) => {
      const requested = Number(input.ProvisionedConcurrentExecutions);
      this.model.provisioned.set(`${str(input.FunctionName)}:${str(input.Qualifier)}`, requested);
      return this.change({
        RequestedProvisionedConcurrentExecutions: requested,
        Status: "IN_PROGRESS",
      });
    },
    "lambda:GetAlias": (input) => {
      const alias = this.alias(str(input.FunctionName), str(input.Name));
      return this.read({
        Name: str(input.Name),
        FunctionVersion: String(alias.version),
        RoutingConfig: { AdditionalVersionWeights: {} },
      });
    },
    "lambda:ListVersionsByFunction": (input) => {
      const versions = [...this.model.aliases.entries()]
        .filter(([key]) => key.startsWith(`${str(input.FunctionName)}:`))
        .flatMap(([, alias]) => alias.versions);
      return this.read({
        Versions: [
          { Version: "$LATEST" },
          ...[...new Set(versions)].map((version) => ({ Version: String(version) })),
        ],
      });
    },
    "lambda:UpdateAlias": (input) => {
      const alias = this.alias(str(input.FunctionName), str(input.Name));
      alias.version = Number(input.FunctionVersion);
      return this.change({ FunctionVersion: String(alias.version) });
    },
    "codedeploy:ListDeployments": (input) => {
      const key = `${str(input.applicationName)}/${str(input.deploymentGroupName)}`;
      if (!this.model.deployments.has(key)) this.model.deployments.set(key, ["d-LOCAL00001"]);
      return this.read({ deployments: this.model.deployments.get(key) });
    },
    "codedeploy:GetDeployment": (input, request) => {
      const id = str(input.deploymentId);
      const service = [...this.model.ecs.values()].find(
        (candidate) => candidate.codeDeploy?.deploymentId === id,
      );
      if (!service?.codeDeploy) {
        throw new AwsCallError(
          request,
          "DeploymentDoesNotExistException",
          `${id} not found`,
          false,
        );
      }
      const { application, deploymentGroup } = service.codeDeploy;
      const active = this.model.deployments.get(`${application}/${deploymentGroup}`) ?? [];
      return this.read({
        deploymentInfo: {
          deploymentId: id,
          applicationName: application,
          deploymentGroupName: deploymentGroup,
          status: active.includes(id) ? "InProgress" : "Stopped",
        },
      });
    },
    "codedeploy:StopDeployment": (input, request) => {
      const entry = [...this.model.deployments.entries()].find(([, ids]) =>
        ids.includes(str(input.deploymentId)),
      );
      if (!entry) throw notFound(request, `deployment ${str(input.deploymentId)}`);
      entry[1].splice(entry[1].indexOf(str(input.deploymentId)), 1);
      return this.change({ status: "Pending", statusMessage: "Stopping; rolling back" });
    },
    "rds:DescribeDBClusters": (input) => {
      const id = str(input.DBClusterIdentifier);
      const cluster = this.model.clusters.get(id) ?? {
        writer: `${id}-instance-1`,
        readers: [`${id}-instance-2`],
      };
      this.model.clusters.set(id, cluster);
      return this.read({
        DBClusters: [
          {
            DBClusterIdentifier: id,
            Status: "available",
            DBClusterMembers: [
              { DBInstanceIdentifier: cluster.writer, IsClusterWriter: true },
              ...cluster.readers.map((reader) => ({
                DBInstanceIdentifier: reader,
                IsClusterWriter: false,
              })),
            ],
          },
        ],
      });
    },
    "rds:FailoverDBCluster": (input, request) => {
      const id = str(input.DBClusterIdentifier);
      const cluster = this.model.clusters.get(id);
      if (!cluster) throw notFound(request, `cluster ${id}`);
      const target = input.TargetDBInstanceIdentifier
        ? str(input.TargetDBInstanceIdentifier)
        : cluster.readers[0];
      if (!target || !cluster.readers.includes(target)) throw notFound(request, `reader ${target}`);
      cluster.readers = [...cluster.readers.filter((reader) => reader !== target), cluster.writer];
      cluster.writer = target;
      return this.change({ DBCluster: { DBClusterIdentifier: id, Status: "failing-over" } });
    },
    "route53:ListResourceRecordSets": (input) => {
      const name = str(input.StartRecordName);
      const type = str(input.StartRecordType ?? "A");
      const key = `${str(input.HostedZoneId)}/${name}`;
      const weights = this.model.weights.get(key) ?? { primary: 100, secondary: 0 };
      this.model.weights.set(key, weights);
      return this.read({
        ResourceRecordSets: Object.entries(weights).map(([setIdentifier, weight], index) => ({
          Name: name,
          Type: type,
          SetIdentifier: setIdentifier,
          Weight: weight,
          TTL: 60,
          ResourceRecords: [{ Value: `192.0.2.${10 + index}` }],
        })),
      });
    },
    "route53:ChangeResourceRecordSets": (input) => {
      const batch = input.ChangeBatch as {
        Changes: Array<{
          ResourceRecordSet: { Name: string; SetIdentifier: string; Weight: number };
        }>;
      };
      for (const change of batch.Changes) {
        const key = `${str(input.HostedZoneId)}/${change.ResourceRecordSet.Name}`;
        const weights = this.model.weights.get(key) ?? {};
        weights[change.ResourceRecordSet.SetIdentifier] = change.ResourceRecordSet.Weight;
        this.model.weights.set(key, weights);
      }
      return this.change({ ChangeInfo: { Status: "PENDING" } });
    },
  };

  private alias(functionName: string, name: string) {
    const key = `${functionName}:${name}`;
    let alias = this.model.aliases.get(key);
    if (!alias) {
      alias = { version: 3, versions: [1, 2, 3] };
      this.model.aliases.set(key, alias);
    }
    return alias;
  }
}
