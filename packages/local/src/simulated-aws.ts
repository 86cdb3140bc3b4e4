import { AwsCallError, type AwsGateway, type AwsRequest } from "@firebreak/core";

/** A call the simulation answered: what Firebreak would have sent to AWS. */
export interface SimulatedCall {
  at: string;
  service: string;
  operation: string;
  region: string | undefined;
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
 * Every call is recorded (`GET /local/aws`).
 */
export class SimulatedAws implements AwsGateway {
  readonly calls: SimulatedCall[] = [];
  private readonly model: Model = {
    ecs: new Map(),
    asg: new Map(),
    provisioned: new Map(),
    aliases: new Map(),
    deployments: new Map(),
    clusters: new Map(),
    weights: new Map(),
  };

  constructor(private readonly clock: () => number = Date.now) {}

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
    const { response, changes } = handler(request.input, request);
    this.calls.push({
      at: new Date(this.clock()).toISOString(),
      service: request.service,
      operation: request.operation,
      region: request.region,
      input: request.input,
      changes,
    });
    return response;
  }

  /** The model's current state, for people to see what the simulation did. */
  snapshot() {
    const entries = <T>(map: Map<string, T>) => Object.fromEntries(map);
    return {
      ecsServices: entries(this.model.ecs),
      autoScalingGroups: entries(this.model.asg),
      provisionedConcurrency: entries(this.model.provisioned),
      lambdaAliases: entries(this.model.aliases),
      codeDeployActiveDeployments: entries(this.model.deployments),
      rdsClusters: entries(this.model.clusters),
      route53Weights: entries(this.model.weights),
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
