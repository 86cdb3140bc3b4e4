import * as z from "zod";
import type { RollbackTarget } from "../actions/schema";
import { globMatcher } from "../policy/glob";

const Glob = z.string().min(1).max(512);

/**
 * Which deploys belong to a service (`services.<name>.changes`): globs on the deploy's target.
 * A service's `match` entries describe alarms, logs and Sentry projects, none of which names a
 * Lambda function or a CodeDeploy group, so deploy events are assigned by these instead. Every
 * key given must match; an entry names at least one key.
 *
 * @example
 * changes: [{ functionName: "checkout-*" }, { cluster: "prod", ecsService: "checkout" }]
 */
export const ChangeMatchSchema = z
  .strictObject({
    /** A Lambda alias update: the function's name (not its ARN). */
    functionName: Glob.optional(),
    /** ...and the alias. */
    alias: Glob.optional(),
    /** A CodeDeploy deployment: its application and deployment group. */
    application: Glob.optional(),
    deploymentGroup: Glob.optional(),
    /** An ECS deployment: the cluster and the ECS service's name. */
    cluster: Glob.optional(),
    ecsService: Glob.optional(),
  })
  .refine((entry) => Object.keys(entry).length > 0, "name at least one key");
export type ChangeMatch = z.infer<typeof ChangeMatchSchema>;

/** The target's fields under the names `ChangeMatch` uses. */
function fieldsOf(target: RollbackTarget): Record<keyof ChangeMatch, string | undefined> {
  return {
    functionName: target.kind === "lambda-alias" ? target.functionName : undefined,
    alias: target.kind === "lambda-alias" ? target.alias : undefined,
    application: target.kind === "codedeploy" ? target.application : undefined,
    deploymentGroup: target.kind === "codedeploy" ? target.deploymentGroup : undefined,
    cluster: target.kind === "ecs-service" ? target.cluster : undefined,
    ecsService: target.kind === "ecs-service" ? target.service : undefined,
  };
}

/** Whether one `changes` entry matches a deploy's target. */
export function matchesChange(entry: ChangeMatch, target: RollbackTarget): boolean {
  const fields = fieldsOf(target);
  return Object.entries(entry).every(([key, glob]) => {
    const value = fields[key as keyof ChangeMatch];
    return typeof glob === "string" && value !== undefined && globMatcher(glob)(value);
  });
}

/**
 * The first service (in config order) with a `changes` entry matching the target, or null.
 *
 * @example
 * serviceOfTarget(config.services, { kind: "lambda-alias", functionName: "checkout-api", alias: "live" }); // "checkout"
 */
export function serviceOfTarget(
  services: Readonly<Record<string, { changes?: ReadonlyArray<ChangeMatch> }>>,
  target: RollbackTarget,
): string | null {
  for (const [name, service] of Object.entries(services)) {
    if ((service.changes ?? []).some((entry) => matchesChange(entry, target))) return name;
  }
  return null;
}
