/**
 * Every check of stacks/limits.ts applied to every resource of a synthesized stage: throws at the
 * first limit a deploy would hit, and otherwise returns each measured figure by resource.
 */
import {
  checkEnvironment,
  checkFilters,
  checkInlinePolicies,
  checkResourcePolicy,
  checkSqsBatching,
  checkThrottle,
  checkVisibilityTimeout,
  type LambdaGrant,
  lambdaResourcePolicy,
} from "../limits";
import { ACCOUNT, REGION, type RecordedResource, type Synth } from "./harness";

export interface LimitFigures {
  /** Bytes of each function's resource-based policy. */
  resourcePolicyBytes: Record<string, number>;
  filters: Record<string, number>;
  /** Characters of each role's inline policies, whitespace excluded. */
  inlinePolicyCharacters: Record<string, number>;
  environmentBytes: Record<string, number>;
  /** Each SQS-consumed queue's visibility timeout over its consumer's timeout. */
  visibilityFactor: Record<string, number>;
  sqsBatchSize: Record<string, number>;
  /** Each stage or route throttle's share of the account's rate. */
  throttleShare: Record<string, number>;
}

const functionArn = (fn: RecordedResource) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.inputs.name}`;

/**
 * The grants a function's resource policy holds: every aws.lambda.Permission naming it. Pulumi
 * names a statement `<resource name>-<7 random characters>` when none is given.
 */
export function grantsOf(stage: Synth, fn: RecordedResource): LambdaGrant[] {
  return stage
    .ofType("aws:lambda/permission:Permission")
    .filter((p) => [fn.inputs.name, functionArn(fn)].includes(p.inputs.function))
    .map((p) => ({
      statementId: p.inputs.statementId ?? `${p.name}-a1b2c3d`,
      principal: p.inputs.principal,
      action: p.inputs.action,
      sourceArn: p.inputs.sourceArn,
      sourceAccount: p.inputs.sourceAccount,
    }));
}

export function checkLimits(stage: Synth): LimitFigures {
  const figures: LimitFigures = {
    resourcePolicyBytes: {},
    filters: {},
    inlinePolicyCharacters: {},
    environmentBytes: {},
    visibilityFactor: {},
    sqsBatchSize: {},
    throttleShare: {},
  };
  const functions = stage.ofType("aws:lambda/function:Function");
  const functionOf = (nameOrArn: string) => {
    const fn = functions.find((f) => [f.inputs.name, functionArn(f)].includes(nameOrArn));
    if (!fn) throw new Error(`no function ${nameOrArn}`);
    return fn;
  };

  for (const fn of functions) {
    figures.resourcePolicyBytes[fn.name] = checkResourcePolicy(
      fn.name,
      lambdaResourcePolicy(functionArn(fn), grantsOf(stage, fn)),
    );
    figures.environmentBytes[fn.name] = checkEnvironment(
      fn.name,
      fn.inputs.environment?.variables ?? {},
    );
  }
  for (const role of stage.ofType("aws:iam/role:Role")) {
    figures.inlinePolicyCharacters[role.name] = checkInlinePolicies(
      role.name,
      (role.inputs.inlinePolicies ?? []).map((p: { policy: string }) => p.policy),
    );
  }
  for (const mapping of stage.ofType("aws:lambda/eventSourceMapping:EventSourceMapping")) {
    figures.filters[mapping.name] = checkFilters(
      mapping.name,
      mapping.inputs.filterCriteria?.filters ?? [],
    );
    const queue = stage
      .ofType("aws:sqs/queue:Queue")
      .find(
        (q) =>
          mapping.inputs.eventSourceArn === `arn:aws:sqs:${REGION}:${ACCOUNT}:${q.inputs.name}`,
      );
    if (!queue) continue;
    figures.visibilityFactor[queue.name] = checkVisibilityTimeout(
      queue.name,
      queue.inputs.visibilityTimeoutSeconds,
      functionOf(mapping.inputs.functionName).inputs.timeout,
    );
    figures.sqsBatchSize[mapping.name] = checkSqsBatching(
      mapping.name,
      mapping.inputs.batchSize,
      mapping.inputs.maximumBatchingWindowInSeconds ?? 0,
    );
  }
  for (const apiStage of stage.ofType("aws:apigatewayv2/stage:Stage")) {
    const throttles = [
      { key: "default", settings: apiStage.inputs.defaultRouteSettings },
      ...(apiStage.inputs.routeSettings ?? []).map((settings: { routeKey: string }) => ({
        key: settings.routeKey,
        settings,
      })),
    ];
    for (const { key, settings } of throttles) {
      if (!settings) continue;
      figures.throttleShare[`${apiStage.name} ${key}`] = checkThrottle(`${apiStage.name} ${key}`, {
        rateLimit: settings.throttlingRateLimit,
        burstLimit: settings.throttlingBurstLimit,
      });
    }
  }
  return figures;
}
