import * as z from "zod";
import {
  AccountNotConfiguredError,
  AwsCallError,
  type AwsGateway,
  type AwsRequest,
} from "./gateway";
import type { ActionRecord } from "./model";
import type {
  ChangeToUndo,
  FailoverAction,
  RemediationAction,
  RemediationTarget,
  RestoreMinCapacityAction,
  RollbackAction,
  ScaleAction,
} from "./schema";

/** Where the remediation runs, for ARNs and default regions. */
export interface AwsEnvironment {
  partition: string;
  region: string;
  account: string;
}

/** An IAM policy statement an action needs (least privilege: these actions, these resources). */
export interface IamStatement {
  actions: string[];
  resources: string[];
}

/**
 * `live`: call AWS. `simulated`: call the local stack's model (the outcome is `simulated`).
 * `dry-run`: describe, decide, record the request that would be sent, send nothing that changes
 * anything.
 */
export type ExecutionMode = "live" | "simulated" | "dry-run";

export interface ExecutionContext {
  gateway: AwsGateway;
  mode: ExecutionMode;
  /** Default region for targets that name none. */
  region: string;
  /** The incident's account, stamped on every request (see `AwsRequest.account`). */
  account?: string;
  /** Says what the change is for (Route 53 change comments, ECS... where an API takes one). */
  reference: string;
  /**
   * Records the requests about to be sent, before sending them. A run interrupted after this
   * is finished by re-sending exactly these (see `prepared`), never by deciding again: a
   * scale-out by 2 that was sent but not recorded must not become a scale-out by 4.
   */
  prepare?: (requests: AwsRequest[], reason: string) => Promise<void>;
  /** Requests an interrupted earlier run prepared; when given they are completed instead. */
  prepared?: { requests: AwsRequest[]; reason: string | null };
}

/** What running an action came to. Errors from AWS are thrown as `AwsCallError`. */
export interface ExecutionOutcome {
  status: "succeeded" | "simulated" | "skipped";
  reason: string;
  /** The requests that change something: sent, or (dry run) that would have been. */
  requests: AwsRequest[];
  /** The target before, briefly: "desiredCount 4 of max 20". */
  before: string | null;
}

/** A decision after describing the target: the change to make, or why to leave it alone. */
type Decision =
  | { skip: string; before: string | null }
  | { requests: AwsRequest[]; reason: string; before: string };

/** What the executor runs: a configured remediation, or a restore planned when one resolved. */
export type RunnableAction = RemediationAction | RestoreMinCapacityAction;

/** One kind of remediation on one kind of target: how it is named, what it may do, how it runs. */
interface Remediation<A extends RunnableAction> {
  targetKey(action: A, region: string): string;
  permissions(action: A, env: AwsEnvironment): IamStatement[];
  /** Reads the target and decides; the states it may start from are checked here. */
  decide(
    action: A,
    send: (request: AwsRequest) => Promise<unknown>,
    region: string,
    reference: string,
  ): Promise<Decision>;
}

const regionOf = (target: RemediationTarget, fallback: string) =>
  "region" in target && target.region ? target.region : fallback;

/** Next size after a step or a factor, capped by the action's max and the group's own. */
function nextSize(action: ScaleAction, current: number, groupMax: number | undefined) {
  // The epsilon stops float error rounding an exact product up (100 × 1.1 = 110.00000000000001);
  // from zero a factor multiplies nothing, so it starts at one.
  const wanted =
    action.by !== undefined
      ? current + action.by
      : Math.max(1, Math.ceil(current * (action.factor ?? 1) - 1e-9));
  const cap = Math.min(action.max, groupMax ?? Number.POSITIVE_INFINITY);
  return { next: Math.min(wanted, cap), cap };
}

function atCap(current: number, cap: number, unit: string) {
  return `already at ${current} ${unit}, the most allowed (max ${cap})`;
}

// Describe responses are parsed leniently: only the fields decisions use, with types checked.
const EcsServices = z.object({
  services: z
    .array(
      z.object({
        desiredCount: z.number(),
        runningCount: z.number().optional(),
        status: z.string().optional(),
        taskDefinition: z.string().optional(),
        deployments: z
          .array(z.object({ status: z.string().optional(), rolloutState: z.string().optional() }))
          .optional(),
        /** ECS (rolling), CODE_DEPLOY (blue/green) or EXTERNAL; absent means ECS. */
        deploymentController: z.object({ type: z.string().optional() }).optional(),
        /** CodeDeploy and external deployments run task sets instead of deployments. */
        taskSets: z
          .array(z.object({ status: z.string().optional(), externalId: z.string().optional() }))
          .optional(),
      }),
    )
    .optional(),
  failures: z.array(z.object({ reason: z.string().optional() })).optional(),
});
type EcsService = NonNullable<z.infer<typeof EcsServices>["services"]>[number];
const ScalableTargets = z.object({
  ScalableTargets: z
    .array(z.object({ MaxCapacity: z.number(), MinCapacity: z.number() }))
    .optional(),
});
const AutoScalingGroups = z.object({
  AutoScalingGroups: z
    .array(
      z.object({
        DesiredCapacity: z.number(),
        MaxSize: z.number(),
        MinSize: z.number().optional(),
        Status: z.string().optional(),
      }),
    )
    .optional(),
});
const ProvisionedConcurrency = z.object({
  RequestedProvisionedConcurrentExecutions: z.number().optional(),
  AllocatedProvisionedConcurrentExecutions: z.number().optional(),
  Status: z.string().optional(),
});
const Alias = z.object({
  FunctionVersion: z.string(),
  RoutingConfig: z
    .object({ AdditionalVersionWeights: z.record(z.string(), z.number()).optional() })
    .optional(),
});
const Versions = z.object({
  Versions: z.array(z.object({ Version: z.string() })).optional(),
  NextMarker: z.string().optional(),
});
const TaskDefinitions = z.object({ taskDefinitionArns: z.array(z.string()).optional() });
const Deployments = z.object({ deployments: z.array(z.string()).optional() });
const DeploymentInfo = z.object({
  deploymentInfo: z
    .object({
      applicationName: z.string(),
      deploymentGroupName: z.string(),
      status: z.string().optional(),
      /** What the group ran before this deployment's revision: a finished one goes back to it. */
      previousRevision: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
const DbClusters = z.object({
  DBClusters: z
    .array(
      z.object({
        Status: z.string().optional(),
        DBClusterMembers: z
          .array(
            z.object({
              DBInstanceIdentifier: z.string(),
              IsClusterWriter: z.boolean(),
              PromotionTier: z.number().optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});
const RecordSets = z.object({
  ResourceRecordSets: z
    .array(
      z
        .object({
          Name: z.string(),
          Type: z.string(),
          SetIdentifier: z.string().optional(),
          Weight: z.number().optional(),
        })
        .passthrough(),
    )
    .optional(),
});

const ecsServiceArn = (env: AwsEnvironment, region: string, cluster: string, service: string) =>
  `arn:${env.partition}:ecs:${region}:${env.account}:service/${cluster}/${service}`;

async function describeEcsService(
  send: (request: AwsRequest) => Promise<unknown>,
  region: string,
  cluster: string,
  service: string,
) {
  const response = EcsServices.parse(
    await send({
      service: "ecs",
      operation: "DescribeServices",
      region,
      input: { cluster, services: [service] },
    }),
  );
  const found = response.services?.[0];
  if (!found || found.status === "INACTIVE") return undefined;
  return found;
}

/** How Application Auto Scaling names an ECS service's task count. */
const ecsScalableTarget = (cluster: string, service: string) => ({
  ServiceNamespace: "ecs",
  ResourceId: `service/${cluster}/${service}`,
  ScalableDimension: "ecs:service:DesiredCount",
});

async function describeEcsScalableTarget(
  send: (request: AwsRequest) => Promise<unknown>,
  region: string,
  cluster: string,
  service: string,
) {
  const { ServiceNamespace, ResourceId, ScalableDimension } = ecsScalableTarget(cluster, service);
  const response = ScalableTargets.parse(
    await send({
      service: "application-autoscaling",
      operation: "DescribeScalableTargets",
      region,
      input: { ServiceNamespace, ResourceIds: [ResourceId], ScalableDimension },
    }),
  );
  return response.ScalableTargets?.[0];
}

/** Both `before` and {@link restoreOnResolve} read a scalable target's minimum this way. */
const MIN_CAPACITY = /\bMinCapacity (\d+)\b/;

const scalableTargetPermissions = [
  // DescribeScalableTargets has no resource-level permissions, and a scalable target's ARN holds
  // a random id unknown at deploy time, so RegisterScalableTarget cannot be narrowed either.
  {
    actions: [
      "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:RegisterScalableTarget",
    ],
    resources: ["*"],
  },
];

const ecsTargetKey = (
  target: { cluster: string; service: string; region?: string | undefined },
  region: string,
) =>
  `ecs-service:${regionOf({ kind: "ecs-service", ...target }, region)}/${target.cluster}/${target.service}`;

const scaleEcs: Remediation<ScaleAction & { target: { kind: "ecs-service" } }> = {
  targetKey: ({ target }, region) => ecsTargetKey(target, region),
  permissions: ({ target }, env) => {
    const region = regionOf(target, env.region);
    return [
      {
        actions: ["ecs:DescribeServices", "ecs:UpdateService"],
        resources: [ecsServiceArn(env, region, target.cluster, target.service)],
      },
      ...scalableTargetPermissions,
    ];
  },
  async decide(action, send, defaultRegion) {
    const { target } = action;
    const region = regionOf(target, defaultRegion);
    const service = await describeEcsService(send, region, target.cluster, target.service);
    if (!service)
      return { skip: `service ${target.cluster}/${target.service} not found`, before: null };
    const deployments = service.deployments ?? [];
    const taskSets = service.taskSets ?? [];
    const running = `desiredCount ${service.desiredCount}, running ${service.runningCount ?? "?"}`;
    if (
      deployments.length > 1 ||
      taskSets.length > 1 ||
      deployments.some((deployment) => deployment.rolloutState === "IN_PROGRESS")
    ) {
      return {
        skip: `service is mid-deployment (${Math.max(deployments.length, taskSets.length)} deployments): not scaling it now`,
        before: running,
      };
    }
    const scalable = await describeEcsScalableTarget(send, region, target.cluster, target.service);
    const { next, cap } = nextSize(action, service.desiredCount, scalable?.MaxCapacity);
    if (!scalable) {
      if (next <= service.desiredCount)
        return { skip: atCap(service.desiredCount, cap, "tasks"), before: running };
      return {
        before: running,
        reason: `desiredCount ${service.desiredCount} → ${next}`,
        requests: [
          {
            service: "ecs",
            operation: "UpdateService",
            region,
            input: { cluster: target.cluster, service: target.service, desiredCount: next },
          },
        ],
      };
    }
    // A scaling policy owns desiredCount: a count set by hand is scaled back in at its next
    // evaluation. Raising the minimum makes Application Auto Scaling scale out to it at once
    // and keeps the policy from scaling in below it; the minimum is restored on resolve.
    const before = `${running}; MinCapacity ${scalable.MinCapacity}, MaxCapacity ${scalable.MaxCapacity}`;
    if (next <= Math.max(service.desiredCount, scalable.MinCapacity)) {
      return { skip: atCap(service.desiredCount, cap, "tasks"), before };
    }
    return {
      before,
      reason: `MinCapacity ${scalable.MinCapacity} → ${next} (desiredCount ${service.desiredCount}; restored when the incident resolves)`,
      requests: [
        {
          service: "application-autoscaling",
          operation: "RegisterScalableTarget",
          region,
          input: { ...ecsScalableTarget(target.cluster, target.service), MinCapacity: next },
        },
      ],
    };
  },
};

/** Sets back the minimum a scale-out raised, unless someone has changed it since. */
const restoreEcsMinCapacity: Remediation<RestoreMinCapacityAction> = {
  targetKey: ({ target }, region) => ecsTargetKey(target, region),
  permissions: () => scalableTargetPermissions,
  async decide({ target, restore }, send, defaultRegion) {
    const region = regionOf(target, defaultRegion);
    const scalable = await describeEcsScalableTarget(send, region, target.cluster, target.service);
    if (!scalable) {
      return { skip: `no scalable target for ${target.cluster}/${target.service}`, before: null };
    }
    const before = `MinCapacity ${scalable.MinCapacity}, MaxCapacity ${scalable.MaxCapacity}`;
    if (scalable.MinCapacity !== restore.raisedTo) {
      return {
        skip: `MinCapacity is ${scalable.MinCapacity}, not the ${restore.raisedTo} ${restore.of} set: changed since, left alone`,
        before,
      };
    }
    return {
      before,
      reason: `MinCapacity ${restore.raisedTo} → ${restore.minCapacity} (restored after ${restore.of})`,
      requests: [
        {
          service: "application-autoscaling",
          operation: "RegisterScalableTarget",
          region,
          input: {
            ...ecsScalableTarget(target.cluster, target.service),
            MinCapacity: restore.minCapacity,
          },
        },
      ],
    };
  },
};

/**
 * The restore an action needs once its incident resolves: for a scale-out that raised an ECS
 * service's minimum (live or simulated, not a dry run), setting the minimum back to what it was
 * before; null for every other action.
 */
export function restoreOnResolve(action: ActionRecord): RestoreMinCapacityAction | null {
  if (action.type !== "scale" || action.dryRun) return null;
  if (action.status !== "succeeded" && action.status !== "simulated") return null;
  const spec = action.spec as Partial<ScaleAction>;
  if (spec.target?.kind !== "ecs-service" || "restore" in spec) return null;
  const raise = action.requests.find(
    (request) =>
      request.service === "application-autoscaling" &&
      request.operation === "RegisterScalableTarget",
  );
  const raisedTo = raise?.input.MinCapacity;
  const previous = MIN_CAPACITY.exec(action.before ?? "")?.[1];
  if (typeof raisedTo !== "number" || previous === undefined) return null;
  return {
    type: "scale",
    target: spec.target,
    restore: { of: action.id, raisedTo, minCapacity: Number(previous) },
    cooldown: 0,
  };
}

const scaleAsg: Remediation<ScaleAction & { target: { kind: "autoscaling-group" } }> = {
  targetKey: ({ target }, region) => `autoscaling-group:${regionOf(target, region)}/${target.name}`,
  permissions: ({ target }, env) => [
    // DescribeAutoScalingGroups has no resource-level permissions.
    { actions: ["autoscaling:DescribeAutoScalingGroups"], resources: ["*"] },
    {
      actions: ["autoscaling:SetDesiredCapacity"],
      resources: [
        `arn:${env.partition}:autoscaling:${regionOf(target, env.region)}:${env.account}:autoScalingGroup:*:autoScalingGroupName/${target.name}`,
      ],
    },
  ],
  async decide(action, send, defaultRegion) {
    const { target } = action;
    const region = regionOf(target, defaultRegion);
    const response = AutoScalingGroups.parse(
      await send({
        service: "autoscaling",
        operation: "DescribeAutoScalingGroups",
        region,
        input: { AutoScalingGroupNames: [target.name] },
      }),
    );
    const group = response.AutoScalingGroups?.[0];
    if (!group) return { skip: `auto scaling group ${target.name} not found`, before: null };
    const before = `DesiredCapacity ${group.DesiredCapacity} of MaxSize ${group.MaxSize}`;
    if (group.Status) return { skip: `group is "${group.Status}": not scaling it now`, before };
    const { next, cap } = nextSize(action, group.DesiredCapacity, group.MaxSize);
    if (next <= group.DesiredCapacity)
      return { skip: atCap(group.DesiredCapacity, cap, "instances"), before };
    return {
      before,
      reason: `DesiredCapacity ${group.DesiredCapacity} → ${next}`,
      requests: [
        {
          service: "autoscaling",
          operation: "SetDesiredCapacity",
          region,
          input: { AutoScalingGroupName: target.name, DesiredCapacity: next, HonorCooldown: false },
        },
      ],
    };
  },
};

const lambdaArn = (env: AwsEnvironment, region: string, name: string, qualifier?: string) =>
  `arn:${env.partition}:lambda:${region}:${env.account}:function:${name}${qualifier ? `:${qualifier}` : ""}`;

const scaleLambda: Remediation<
  ScaleAction & { target: { kind: "lambda-provisioned-concurrency" } }
> = {
  targetKey: ({ target }, region) =>
    `lambda-provisioned-concurrency:${regionOf(target, region)}/${target.functionName}:${target.qualifier}`,
  permissions: ({ target }, env) => [
    {
      actions: ["lambda:GetProvisionedConcurrencyConfig", "lambda:PutProvisionedConcurrencyConfig"],
      resources: [
        lambdaArn(env, regionOf(target, env.region), target.functionName, target.qualifier),
      ],
    },
  ],
  async decide(action, send, defaultRegion) {
    const { target } = action;
    const region = regionOf(target, defaultRegion);
    const address = { FunctionName: target.functionName, Qualifier: target.qualifier };
    let config: z.infer<typeof ProvisionedConcurrency> = {};
    try {
      config = ProvisionedConcurrency.parse(
        await send({
          service: "lambda",
          operation: "GetProvisionedConcurrencyConfig",
          region,
          input: address,
        }),
      );
    } catch (error) {
      // None configured yet: scaling starts from zero.
      if (
        !(
          error instanceof AwsCallError &&
          error.errorCode === "ProvisionedConcurrencyConfigNotFoundException"
        )
      ) {
        throw error;
      }
    }
    const current = config.RequestedProvisionedConcurrentExecutions ?? 0;
    const before = `provisioned concurrency ${current} (${config.Status ?? "none"})`;
    if (config.Status === "IN_PROGRESS")
      return { skip: "provisioned concurrency is still being allocated", before };
    const { next, cap } = nextSize(action, current, undefined);
    if (next <= current) return { skip: atCap(current, cap, "provisioned executions"), before };
    return {
      before,
      reason: `provisioned concurrency ${current} → ${next}`,
      requests: [
        {
          service: "lambda",
          operation: "PutProvisionedConcurrencyConfig",
          region,
          input: { ...address, ProvisionedConcurrentExecutions: next },
        },
      ],
    };
  },
};

/**
 * A `last-change` rollback of an alias: back to the change's previous version, but only while
 * the alias still serves the version that change deployed (as its version or its canary); an
 * alias moved since is someone else's change, left alone.
 */
function undoAliasChange(
  change: ChangeToUndo,
  aliasName: string,
  current: string,
  canary: string[],
  before: string,
  update: (version: string) => AwsRequest,
): Decision {
  const previous = change.previousVersion;
  if (previous === null || !/^\d+$/.test(previous)) {
    return { skip: `change ${change.id} has no published version to go back to`, before };
  }
  if (current === previous && canary.length === 0) {
    return { skip: `alias ${aliasName} is already on version ${previous}`, before };
  }
  const serving = [current, ...canary];
  // A version label that is not a Lambda version (a CI's "v43") cannot be compared.
  if (/^\d+$/.test(change.version) && !serving.includes(change.version)) {
    return {
      skip: `alias ${aliasName} serves ${serving.join(" and ")}, not version ${change.version} that change ${change.id} deployed: changed since, left alone`,
      before,
    };
  }
  return {
    before,
    reason: `alias ${aliasName}: version ${serving.join(" and ")} → ${previous} (rolls back change ${change.id})`,
    requests: [update(previous)],
  };
}

const rollbackLambdaAlias: Remediation<RollbackAction & { target: { kind: "lambda-alias" } }> = {
  targetKey: ({ target }, region) =>
    `lambda-alias:${regionOf(target, region)}/${target.functionName}:${target.alias}`,
  permissions: ({ target }, env) => {
    const region = regionOf(target, env.region);
    return [
      {
        // Granted on the function and on the alias: IAM evaluates alias operations against
        // either, depending on how the request names the function.
        actions: ["lambda:GetAlias", "lambda:UpdateAlias"],
        resources: [
          lambdaArn(env, region, target.functionName),
          lambdaArn(env, region, target.functionName, target.alias),
        ],
      },
      {
        actions: ["lambda:ListVersionsByFunction"],
        resources: [lambdaArn(env, region, target.functionName)],
      },
    ];
  },
  async decide({ target, change }, send, defaultRegion) {
    const region = regionOf(target, defaultRegion);
    const alias = Alias.parse(
      await send({
        service: "lambda",
        operation: "GetAlias",
        region,
        input: { FunctionName: target.functionName, Name: target.alias },
      }),
    );
    const canary = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
    const before = `alias ${target.alias} → version ${alias.FunctionVersion}${canary.length ? ` (canary: ${canary.join(", ")})` : ""}`;
    const update = (version: string) => ({
      service: "lambda" as const,
      operation: "UpdateAlias",
      region,
      input: {
        FunctionName: target.functionName,
        Name: target.alias,
        FunctionVersion: version,
        RoutingConfig: { AdditionalVersionWeights: {} },
      },
    });
    if (change)
      return undoAliasChange(change, target.alias, alias.FunctionVersion, canary, before, update);
    // A canary in flight is the newest change: send all traffic back to the stable version.
    if (canary.length > 0) {
      return {
        before,
        reason: `canary of version ${canary.join(", ")} stopped; all traffic on ${alias.FunctionVersion}`,
        requests: [update(alias.FunctionVersion)],
      };
    }
    if (!/^\d+$/.test(alias.FunctionVersion)) {
      return {
        skip: `alias points at ${alias.FunctionVersion}: no published version to go back to`,
        before,
      };
    }
    const versions: number[] = [];
    let marker: string | undefined;
    do {
      const page = Versions.parse(
        await send({
          service: "lambda",
          operation: "ListVersionsByFunction",
          region,
          input: {
            FunctionName: target.functionName,
            MaxItems: 50,
            ...(marker ? { Marker: marker } : {}),
          },
        }),
      );
      for (const { Version } of page.Versions ?? [])
        if (/^\d+$/.test(Version)) versions.push(Number(Version));
      marker = page.NextMarker;
    } while (marker);
    const current = Number(alias.FunctionVersion);
    const previous = versions.filter((version) => version < current).sort((a, b) => b - a)[0];
    if (previous === undefined)
      return { skip: `no version before ${current} to roll back to`, before };
    return {
      before,
      reason: `alias ${target.alias}: version ${current} → ${previous}`,
      requests: [update(String(previous))],
    };
  },
};

const codeDeployGroupArn = (
  env: AwsEnvironment,
  region: string,
  application: string,
  group: string,
) =>
  `arn:${env.partition}:codedeploy:${region}:${env.account}:deploymentgroup:${application}/${group}`;

const rollbackCodeDeploy: Remediation<RollbackAction & { target: { kind: "codedeploy" } }> = {
  targetKey: ({ target }, region) =>
    `codedeploy:${regionOf(target, region)}/${target.application}/${target.deploymentGroup}`,
  permissions: ({ target, change }, env) => {
    const region = regionOf(target, env.region);
    const group = {
      // A change's deployment is read first (GetDeployment), to stop only that one, or, once
      // it finished, to deploy the revision before it again (CreateDeployment).
      actions: [
        ...(change ? ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"] : []),
        "codedeploy:ListDeployments",
        "codedeploy:StopDeployment",
      ],
      resources: [codeDeployGroupArn(env, region, target.application, target.deploymentGroup)],
    };
    if (!change) return [group];
    // CreateDeployment also reads the revision (on the application) and the group's deployment
    // configuration, whose name is the group's to choose.
    const base = `arn:${env.partition}:codedeploy:${region}:${env.account}`;
    return [
      group,
      {
        actions: ["codedeploy:GetApplicationRevision"],
        resources: [`${base}:application:${target.application}`],
      },
      { actions: ["codedeploy:GetDeploymentConfig"], resources: [`${base}:deploymentconfig:*`] },
    ];
  },
  async decide({ target, change }, send, defaultRegion) {
    const region = regionOf(target, defaultRegion);
    if (change) return stopChangeDeployment(send, region, target, change);
    return stopActiveDeployments(send, region, target.application, target.deploymentGroup);
  },
};

/**
 * A `last-change` rollback of a CodeDeploy deployment (the change's `version` is its id): stop
 * exactly that deployment, with automatic rollback, while it is in progress; once it succeeded,
 * deploy the revision the group ran before it again (CodeDeploy cannot stop a finished one).
 */
async function stopChangeDeployment(
  send: (request: AwsRequest) => Promise<unknown>,
  region: string,
  target: { application: string; deploymentGroup: string },
  change: ChangeToUndo,
): Promise<Decision> {
  const deploymentId = change.version;
  const { deploymentInfo } = DeploymentInfo.parse(
    await send({
      service: "codedeploy",
      operation: "GetDeployment",
      region,
      input: { deploymentId },
    }),
  );
  if (!deploymentInfo)
    return { skip: `CodeDeploy deployment ${deploymentId} not found`, before: null };
  const group = `${deploymentInfo.applicationName}/${deploymentInfo.deploymentGroupName}`;
  const status = deploymentInfo.status ?? "in an unknown state";
  const before = `deployment ${deploymentId} of ${group}: ${status}`;
  if (
    deploymentInfo.applicationName !== target.application ||
    deploymentInfo.deploymentGroupName !== target.deploymentGroup
  ) {
    return {
      skip: `deployment ${deploymentId} belongs to ${group}, not ${target.application}/${target.deploymentGroup}`,
      before,
    };
  }
  if (status === "Succeeded" && deploymentInfo.previousRevision) {
    return {
      before,
      reason: `deployed the revision before ${deploymentId} again (rolls back change ${change.id})`,
      requests: [
        {
          service: "codedeploy",
          operation: "CreateDeployment",
          region,
          input: {
            applicationName: target.application,
            deploymentGroupName: target.deploymentGroup,
            revision: deploymentInfo.previousRevision,
            description: `Firebreak: rolls back ${deploymentId} (change ${change.id})`.slice(
              0,
              256,
            ),
          },
        },
      ],
    };
  }
  if (!ACTIVE_DEPLOYMENT_STATUSES.includes(status)) {
    return {
      skip: `deployment ${deploymentId} is ${status}: neither in progress (to stop) nor succeeded with a revision before it (to deploy again)`,
      before,
    };
  }
  return {
    before,
    reason: `stopped ${deploymentId} with automatic rollback (rolls back change ${change.id})`,
    requests: [
      {
        service: "codedeploy",
        operation: "StopDeployment",
        region,
        input: { deploymentId, autoRollbackEnabled: true },
      },
    ],
  };
}

/** `arn:...:task-definition/family:12` → family and revision. */
function taskDefinitionRevision(arn: string) {
  const match = /task-definition\/([^:]+):(\d+)$/.exec(arn);
  return match ? { family: match[1] as string, revision: Number(match[2]) } : undefined;
}

/** Deployments CodeDeploy can still stop (and roll back). */
const ACTIVE_DEPLOYMENT_STATUSES = ["Created", "Queued", "InProgress", "Ready"];

/** Stops a deployment group's active deployments, each with automatic rollback. */
async function stopActiveDeployments(
  send: (request: AwsRequest) => Promise<unknown>,
  region: string,
  application: string,
  deploymentGroup: string,
): Promise<Decision> {
  const response = Deployments.parse(
    await send({
      service: "codedeploy",
      operation: "ListDeployments",
      region,
      input: {
        applicationName: application,
        deploymentGroupName: deploymentGroup,
        includeOnlyStatuses: ACTIVE_DEPLOYMENT_STATUSES,
      },
    }),
  );
  const active = response.deployments ?? [];
  if (active.length === 0)
    return { skip: "no deployment in progress to stop", before: "no active deployment" };
  return {
    before: `active deployments: ${active.join(", ")}`,
    reason: `stopped ${active.join(", ")} with automatic rollback`,
    requests: active.map((deploymentId) => ({
      service: "codedeploy" as const,
      operation: "StopDeployment",
      region,
      input: { deploymentId, autoRollbackEnabled: true },
    })),
  };
}

/**
 * A blue/green (CODE_DEPLOY) service: ECS refuses a new task definition through UpdateService,
 * so the rollback is CodeDeploy's. Its task sets carry the id of the CodeDeploy deployment that
 * made them (`externalId`); that deployment names the application and deployment group, whose
 * active deployment is then stopped with automatic rollback, which shifts traffic back to the
 * original task set. Once a deployment has finished, CodeDeploy can only redeploy an older
 * revision: that is left to a person.
 */
async function rollbackThroughCodeDeploy(
  send: (request: AwsRequest) => Promise<unknown>,
  region: string,
  service: EcsService,
): Promise<Decision> {
  const deploymentId = (service.taskSets ?? []).find((taskSet) =>
    taskSet.externalId?.startsWith("d-"),
  )?.externalId;
  if (!deploymentId) {
    return {
      skip: "blue/green service without a CodeDeploy deployment on its task sets",
      before: "deployment controller CODE_DEPLOY",
    };
  }
  const { deploymentInfo } = DeploymentInfo.parse(
    await send({
      service: "codedeploy",
      operation: "GetDeployment",
      region,
      input: { deploymentId },
    }),
  );
  if (!deploymentInfo)
    return { skip: `CodeDeploy deployment ${deploymentId} not found`, before: null };
  const decision = await stopActiveDeployments(
    send,
    region,
    deploymentInfo.applicationName,
    deploymentInfo.deploymentGroupName,
  );
  const group = `${deploymentInfo.applicationName}/${deploymentInfo.deploymentGroupName}`;
  if ("skip" in decision) {
    return {
      skip: `no CodeDeploy deployment of ${group} in progress to roll back (a finished one needs an older revision redeployed)`,
      before: `deployment controller CODE_DEPLOY, group ${group}`,
    };
  }
  return {
    ...decision,
    before: `deployment controller CODE_DEPLOY, group ${group}, ${decision.before}`,
  };
}

/** `family:revision` of a task definition named by ARN or by `family:revision`. */
const familyRevision = (taskDefinition: string) =>
  /(?:^|task-definition\/)([A-Za-z0-9_-]{1,255}:\d+)$/.exec(taskDefinition)?.[1];

/**
 * A `last-change` rollback of an ECS service whose change names task definitions: back to the
 * change's `previousVersion`, while the service still runs the change's `version`. Null when
 * the change names no previous task definition: the revision before the current one is used.
 */
function undoTaskDefinitionChange(
  change: ChangeToUndo,
  target: { cluster: string; service: string },
  current: string,
  region: string,
): Decision | null {
  const previous = change.previousVersion && familyRevision(change.previousVersion);
  if (!previous) return null;
  const running = familyRevision(current);
  const before = `task definition ${running ?? current}`;
  const deployed = familyRevision(change.version);
  if (running === previous) return { skip: `service already runs ${previous}`, before };
  if (deployed && running !== deployed) {
    return {
      skip: `service runs ${running ?? current}, not ${deployed} that change ${change.id} deployed: changed since, left alone`,
      before,
    };
  }
  // The ARN of the previous revision: the service's own ARN prefix, so account and region match.
  const arn = current.replace(/[A-Za-z0-9_-]{1,255}:\d+$/, previous);
  return {
    before,
    reason: `task definition ${running ?? current} → ${previous} (rolls back change ${change.id})`,
    requests: [
      {
        service: "ecs",
        operation: "UpdateService",
        region,
        input: { cluster: target.cluster, service: target.service, taskDefinition: arn },
      },
    ],
  };
}

const rollbackEcs: Remediation<RollbackAction & { target: { kind: "ecs-service" } }> = {
  targetKey: ({ target }, region) => ecsTargetKey(target, region),
  permissions: ({ target }, env) => {
    const region = regionOf(target, env.region);
    return [
      {
        actions: ["ecs:DescribeServices", "ecs:UpdateService"],
        resources: [ecsServiceArn(env, region, target.cluster, target.service)],
      },
      // ListTaskDefinitions has no resource-level permissions.
      { actions: ["ecs:ListTaskDefinitions"], resources: ["*"] },
      // A blue/green service's deployment group is only found at run time (from its task sets),
      // so these are granted on the deployment groups of the target's region and account.
      {
        actions: [
          "codedeploy:GetDeployment",
          "codedeploy:ListDeployments",
          "codedeploy:StopDeployment",
        ],
        resources: [codeDeployGroupArn(env, region, "*", "*")],
      },
    ];
  },
  async decide({ target, change }, send, defaultRegion) {
    const region = regionOf(target, defaultRegion);
    const service = await describeEcsService(send, region, target.cluster, target.service);
    if (!service)
      return { skip: `service ${target.cluster}/${target.service} not found`, before: null };
    const controller = service.deploymentController?.type ?? "ECS";
    if (controller === "ECS" && change && service.taskDefinition) {
      const undo = undoTaskDefinitionChange(change, target, service.taskDefinition, region);
      if (undo) return undo;
    }
    if (controller === "CODE_DEPLOY") return rollbackThroughCodeDeploy(send, region, service);
    if (controller !== "ECS") {
      return {
        skip: `deployment controller ${controller}: rolled back by whoever deploys it, not by ECS`,
        before: `deployment controller ${controller}`,
      };
    }
    if (!service.taskDefinition)
      return {
        skip: `service ${target.cluster}/${target.service} has no task definition`,
        before: null,
      };
    const current = taskDefinitionRevision(service.taskDefinition);
    const before = `task definition ${service.taskDefinition.split("/").pop()}`;
    if (!current) return { skip: `cannot read the revision of ${service.taskDefinition}`, before };
    const listed = TaskDefinitions.parse(
      await send({
        service: "ecs",
        operation: "ListTaskDefinitions",
        region,
        input: { familyPrefix: current.family, status: "ACTIVE", sort: "DESC", maxResults: 100 },
      }),
    );
    const previous = (listed.taskDefinitionArns ?? [])
      .map((arn) => ({ arn, parsed: taskDefinitionRevision(arn) }))
      .filter(
        ({ parsed }) => parsed?.family === current.family && parsed.revision < current.revision,
      )
      .sort((a, b) => (b.parsed?.revision ?? 0) - (a.parsed?.revision ?? 0))[0];
    if (!previous)
      return { skip: `no active revision of ${current.family} before ${current.revision}`, before };
    return {
      before,
      reason: `task definition ${current.family}:${current.revision} → ${current.family}:${previous.parsed?.revision}`,
      requests: [
        {
          service: "ecs",
          operation: "UpdateService",
          region,
          input: { cluster: target.cluster, service: target.service, taskDefinition: previous.arn },
        },
      ],
    };
  },
};

const failoverRds: Remediation<FailoverAction & { target: { kind: "rds-cluster" } }> = {
  targetKey: ({ target }, region) => `rds-cluster:${regionOf(target, region)}/${target.clusterId}`,
  permissions: ({ target }, env) => {
    const region = regionOf(target, env.region);
    const base = `arn:${env.partition}:rds:${region}:${env.account}`;
    return [
      { actions: ["rds:DescribeDBClusters"], resources: [`${base}:cluster:${target.clusterId}`] },
      {
        actions: ["rds:FailoverDBCluster"],
        resources: [
          `${base}:cluster:${target.clusterId}`,
          `${base}:db:${target.targetInstance ?? "*"}`,
        ],
      },
    ];
  },
  async decide({ target }, send, defaultRegion) {
    const region = regionOf(target, defaultRegion);
    const response = DbClusters.parse(
      await send({
        service: "rds",
        operation: "DescribeDBClusters",
        region,
        input: { DBClusterIdentifier: target.clusterId },
      }),
    );
    const cluster = response.DBClusters?.[0];
    if (!cluster) return { skip: `cluster ${target.clusterId} not found`, before: null };
    const members = cluster.DBClusterMembers ?? [];
    const writer = members.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
    const status = cluster.Status ?? "in an unknown state";
    const before = `writer ${writer ?? "none"}, ${members.length - (writer ? 1 : 0)} reader(s), ${status}`;
    if (cluster.Status !== "available") {
      return { skip: `cluster is ${status}: not failing over now`, before };
    }
    // Readers in RDS's own order of preference (promotion tier), so the one named below is the
    // one RDS would pick, and a retried request cannot fail over twice.
    const readers = members
      .filter((member) => !member.IsClusterWriter)
      .sort((a, b) => (a.PromotionTier ?? 15) - (b.PromotionTier ?? 15))
      .map((member) => member.DBInstanceIdentifier);
    if (readers.length === 0) return { skip: "no reader to fail over to", before };
    if (target.targetInstance) {
      if (target.targetInstance === writer)
        return { skip: `${target.targetInstance} is already the writer`, before };
      if (!readers.includes(target.targetInstance)) {
        return { skip: `${target.targetInstance} is not a reader of ${target.clusterId}`, before };
      }
    }
    const promoted = target.targetInstance ?? (readers[0] as string);
    return {
      before,
      reason: `failover of ${target.clusterId} from ${writer} to ${promoted}`,
      requests: [
        {
          service: "rds",
          operation: "FailoverDBCluster",
          region,
          input: { DBClusterIdentifier: target.clusterId, TargetDBInstanceIdentifier: promoted },
        },
      ],
    };
  },
};

const sameName = (a: string, b: string) =>
  a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();

const failoverRoute53: Remediation<FailoverAction & { target: { kind: "route53-weights" } }> = {
  // Route 53 names are case-insensitive and the trailing dot optional: one record, one key.
  targetKey: ({ target }) =>
    `route53-weights:${target.hostedZoneId}/${target.recordName.replace(/\.$/, "").toLowerCase()}`,
  permissions: ({ target }, env) => [
    {
      actions: ["route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"],
      resources: [`arn:${env.partition}:route53:::hostedzone/${target.hostedZoneId}`],
    },
  ],
  async decide({ target }, send, _region, reference) {
    const response = RecordSets.parse(
      await send({
        service: "route53",
        operation: "ListResourceRecordSets",
        input: {
          HostedZoneId: target.hostedZoneId,
          StartRecordName: target.recordName,
          StartRecordType: target.recordType,
          MaxItems: 100,
        },
      }),
    );
    const records = (response.ResourceRecordSets ?? []).filter(
      (record) => sameName(record.Name, target.recordName) && record.Type === target.recordType,
    );
    const primary = records.find((record) => record.SetIdentifier === target.primary);
    const secondary = records.find((record) => record.SetIdentifier === target.secondary);
    if (!primary || !secondary) {
      return {
        skip: `weighted records ${target.primary} and ${target.secondary} of ${target.recordName} not both found`,
        before: null,
      };
    }
    const before = `weights ${target.primary}=${primary.Weight ?? 0}, ${target.secondary}=${secondary.Weight ?? 0}`;
    if ((primary.Weight ?? 0) === 0 && (secondary.Weight ?? 0) > 0)
      return { skip: "already failed over", before };
    const weight = Math.max(secondary.Weight ?? 0, primary.Weight ?? 0, 1);
    return {
      before,
      reason: `all weight of ${target.recordName} moved to ${target.secondary}`,
      requests: [
        {
          service: "route53",
          operation: "ChangeResourceRecordSets",
          input: {
            HostedZoneId: target.hostedZoneId,
            ChangeBatch: {
              // Route 53 refuses a change comment longer than 256 characters.
              Comment: `Firebreak failover: ${reference}`.slice(0, 256),
              Changes: [
                { Action: "UPSERT", ResourceRecordSet: { ...primary, Weight: 0 } },
                { Action: "UPSERT", ResourceRecordSet: { ...secondary, Weight: weight } },
              ],
            },
          },
        },
      ],
    };
  },
};

// biome-ignore lint/suspicious/noExplicitAny: the registry is keyed so each entry gets its own type.
const REMEDIATIONS: Record<string, Remediation<any>> = {
  "scale/ecs-service": scaleEcs,
  "scale/autoscaling-group": scaleAsg,
  "scale/lambda-provisioned-concurrency": scaleLambda,
  "rollback/lambda-alias": rollbackLambdaAlias,
  "rollback/codedeploy": rollbackCodeDeploy,
  "rollback/ecs-service": rollbackEcs,
  "failover/rds-cluster": failoverRds,
  "failover/route53-weights": failoverRoute53,
  "restore/ecs-service": restoreEcsMinCapacity,
};

function remediationOf(action: RunnableAction): Remediation<RunnableAction> {
  const type = "restore" in action ? "restore" : action.type;
  const remediation = REMEDIATIONS[`${type}/${action.target.kind}`];
  if (!remediation) throw new Error(`no remediation for ${type} on ${action.target.kind}`);
  return remediation;
}

/** What cooldowns and the circuit breaker count an action against. */
export const targetKeyOf = (action: RunnableAction, region: string) =>
  remediationOf(action).targetKey(action, region);

/**
 * The IAM statements an action needs: only its own operations, on its own target's ARNs. The
 * stacks build the dispatcher's policy from these, so it can do what the config says and no more.
 */
export const permissionsOf = (action: RemediationAction, env: AwsEnvironment): IamStatement[] =>
  remediationOf(action).permissions(action, env);

/**
 * Runs a remediation: describe the target, check it may start from that state, then send the
 * change (live), send it to the model (simulated), or only record it (dry run). The requests are
 * handed to `prepare` before they are sent; a run that finds `prepared` requests completes
 * those instead of deciding again.
 * @throws AwsCallError when AWS fails; the dispatcher decides whether to retry
 */
export async function executeRemediation(
  action: RunnableAction,
  context: ExecutionContext,
): Promise<ExecutionOutcome> {
  const inAccount = (request: AwsRequest): AwsRequest =>
    context.account ? { ...request, account: context.account } : request;
  const send = (request: AwsRequest) => context.gateway.send(inAccount(request));
  const finished = context.mode === "simulated" ? "simulated" : "succeeded";
  if (context.prepared && context.mode !== "dry-run") {
    for (const request of context.prepared.requests) {
      if (!(await alreadyApplied(request, send, action))) await sendOnce(request, send);
    }
    const reason = (context.prepared.reason ?? "prepared requests").replace(/^sending: /, "");
    return {
      status: finished,
      reason: `${reason} (completed after an interruption)`,
      requests: context.prepared.requests,
      before: null,
    };
  }
  const decided = await remediationOf(action)
    .decide(action, send, context.region, context.reference)
    .catch((error: unknown): Decision => {
      // The first describe already found no way into the account: nothing was sent.
      if (error instanceof AccountNotConfiguredError) {
        return { skip: `no role for account ${error.account} in accounts`, before: null };
      }
      throw error;
    });
  // The ledger records where each request went.
  const decision =
    "skip" in decided ? decided : { ...decided, requests: decided.requests.map(inAccount) };
  if ("skip" in decision) {
    return { status: "skipped", reason: decision.skip, requests: [], before: decision.before };
  }
  if (context.mode === "dry-run") {
    return {
      status: "simulated",
      reason: `dry run, nothing sent: ${decision.reason}`,
      requests: decision.requests,
      before: decision.before,
    };
  }
  await context.prepare?.(decision.requests, decision.reason);
  for (const request of decision.requests) await sendOnce(request, send);
  return {
    status: finished,
    reason: context.mode === "simulated" ? `simulated: ${decision.reason}` : decision.reason,
    requests: decision.requests,
    before: decision.before,
  };
}

/**
 * Whether a prepared request already took effect, read from the target itself. A request that
 * went out before an interruption must not go out again blindly: other actions may have moved
 * the target since (a resent "desiredCount 5" would undo a later scale-out to 7), and a failover
 * repeated fails back. A target at or beyond what the request asked for counts as done.
 */
async function alreadyApplied(
  request: AwsRequest,
  send: (request: AwsRequest) => Promise<unknown>,
  action: RunnableAction,
): Promise<boolean> {
  const input = request.input as Record<string, unknown>;
  const ask = (
    service: AwsRequest["service"],
    operation: string,
    describeInput: Record<string, unknown>,
  ) =>
    send({
      service,
      operation,
      ...(request.region ? { region: request.region } : {}),
      input: describeInput,
    });
  switch (`${request.service}:${request.operation}`) {
    case "ecs:UpdateService": {
      const service = EcsServices.parse(
        await ask("ecs", "DescribeServices", { cluster: input.cluster, services: [input.service] }),
      ).services?.[0];
      if (!service) return false;
      if (typeof input.desiredCount === "number") return service.desiredCount >= input.desiredCount;
      return service.taskDefinition === input.taskDefinition;
    }
    case "autoscaling:SetDesiredCapacity": {
      const group = AutoScalingGroups.parse(
        await ask("autoscaling", "DescribeAutoScalingGroups", {
          AutoScalingGroupNames: [input.AutoScalingGroupName],
        }),
      ).AutoScalingGroups?.[0];
      return group !== undefined && group.DesiredCapacity >= Number(input.DesiredCapacity);
    }
    case "lambda:PutProvisionedConcurrencyConfig": {
      try {
        const config = ProvisionedConcurrency.parse(
          await ask("lambda", "GetProvisionedConcurrencyConfig", {
            FunctionName: input.FunctionName,
            Qualifier: input.Qualifier,
          }),
        );
        return (
          (config.RequestedProvisionedConcurrentExecutions ?? 0) >=
          Number(input.ProvisionedConcurrentExecutions)
        );
      } catch (error) {
        if (
          error instanceof AwsCallError &&
          error.errorCode === "ProvisionedConcurrencyConfigNotFoundException"
        )
          return false;
        throw error;
      }
    }
    case "lambda:UpdateAlias": {
      const alias = Alias.parse(
        await ask("lambda", "GetAlias", { FunctionName: input.FunctionName, Name: input.Name }),
      );
      const weights = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
      return alias.FunctionVersion === input.FunctionVersion && weights.length === 0;
    }
    case "application-autoscaling:RegisterScalableTarget": {
      const target = ScalableTargets.parse(
        await ask("application-autoscaling", "DescribeScalableTargets", {
          ServiceNamespace: input.ServiceNamespace,
          ResourceIds: [input.ResourceId],
          ScalableDimension: input.ScalableDimension,
        }),
      ).ScalableTargets?.[0];
      if (!target) return false;
      // A restore is done once the raised minimum is gone (restored, or changed by someone);
      // a raise once the minimum is at least what it asked.
      if ("restore" in action) return target.MinCapacity !== action.restore.raisedTo;
      return target.MinCapacity >= Number(input.MinCapacity);
    }
    case "rds:FailoverDBCluster": {
      const cluster = DbClusters.parse(
        await ask("rds", "DescribeDBClusters", { DBClusterIdentifier: input.DBClusterIdentifier }),
      ).DBClusters?.[0];
      const writer = cluster?.DBClusterMembers?.find((member) => member.IsClusterWriter);
      return writer?.DBInstanceIdentifier === input.TargetDBInstanceIdentifier;
    }
    default:
      // StopDeployment answers "already completed" itself; record weights are idempotent UPSERTs.
      return false;
  }
}

/** Sends a change; a deployment that already stopped counts as stopped. */
async function sendOnce(request: AwsRequest, send: (request: AwsRequest) => Promise<unknown>) {
  try {
    await send(request);
  } catch (error) {
    const done =
      error instanceof AwsCallError &&
      request.operation === "StopDeployment" &&
      error.errorCode === "DeploymentAlreadyCompletedException";
    if (!done) throw error;
  }
}
