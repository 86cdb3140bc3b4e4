import * as z from "zod";
import { DurationSchema } from "../duration";
import { isTemplate, templateProblem } from "./targets";

/**
 * A name of something in AWS: no control characters or line breaks, which have no place in a
 * name and could split a request line or a header.
 */
const Name = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\p{Cc}\u2028\u2029]+$/u, "no control characters or line breaks")
  .superRefine(templateIssue);
/**
 * A region code, or a template such as `{region}` (the alarm's region): resolved and checked
 * against the region format when the action is planned.
 */
const Region = z
  .string()
  .refine(
    (value) => isTemplate(value) || /^[a-z]{2}(-[a-z]+)+-\d$/.test(value),
    "a region code such as us-east-1, or {region}",
  )
  .superRefine(templateIssue)
  .optional();

/**
 * Target values may take parts from the incident: `{dimensions.FunctionName}` (the alarm
 * metric's dimensions), `{service}`, `{account}`, `{region}`. A placeholder nothing fills is a
 * config error here, at the field's path, not a skipped action at 3 a.m.
 */
function templateIssue(value: string, ctx: z.RefinementCtx) {
  const problem = templateProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}

export const EcsServiceTarget = z.strictObject({
  kind: z.literal("ecs-service"),
  cluster: Name,
  service: Name,
  region: Region,
});
export const AutoScalingGroupTarget = z.strictObject({
  kind: z.literal("autoscaling-group"),
  name: Name,
  region: Region,
});
export const LambdaProvisionedConcurrencyTarget = z.strictObject({
  kind: z.literal("lambda-provisioned-concurrency"),
  functionName: Name,
  /** An alias or version number; provisioned concurrency cannot be set on $LATEST. */
  qualifier: Name.refine(
    (qualifier) => qualifier !== "$LATEST",
    "not $LATEST: use an alias or a version",
  ),
  region: Region,
});
export const LambdaAliasTarget = z.strictObject({
  kind: z.literal("lambda-alias"),
  functionName: Name,
  alias: Name,
  region: Region,
});
export const CodeDeployTarget = z.strictObject({
  kind: z.literal("codedeploy"),
  application: Name,
  deploymentGroup: Name,
  region: Region,
});
export const RdsClusterTarget = z.strictObject({
  kind: z.literal("rds-cluster"),
  clusterId: Name,
  /** The reader to promote; RDS picks one when absent. */
  targetInstance: Name.optional(),
  region: Region,
});
/** DNS failover with Route 53 weighted records: all weight moves from primary to secondary. */
export const Route53WeightsTarget = z
  .strictObject({
    kind: z.literal("route53-weights"),
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, "a hosted zone id such as Z0123456789ABC"),
    /** The record name as Route 53 stores it, e.g. `api.example.com.` */
    recordName: Name,
    recordType: z.enum(["A", "AAAA", "CNAME"]).default("A"),
    primary: Name.describe("SetIdentifier of the primary record"),
    secondary: Name.describe("SetIdentifier of the secondary record"),
  })
  .refine((target) => target.primary !== target.secondary, {
    message: "primary and secondary must be different records",
    path: ["secondary"],
  });

export const ScaleTargetSchema = z.discriminatedUnion("kind", [
  EcsServiceTarget,
  AutoScalingGroupTarget,
  LambdaProvisionedConcurrencyTarget,
]);
export const RollbackTargetSchema = z.discriminatedUnion("kind", [
  LambdaAliasTarget,
  CodeDeployTarget,
  EcsServiceTarget,
]);
export const FailoverTargetSchema = z.discriminatedUnion("kind", [
  RdsClusterTarget,
  Route53WeightsTarget,
]);

export type ScaleTarget = z.infer<typeof ScaleTargetSchema>;
export type RollbackTarget = z.infer<typeof RollbackTargetSchema>;
export type FailoverTarget = z.infer<typeof FailoverTargetSchema>;
export type RemediationTarget = ScaleTarget | RollbackTarget | FailoverTarget;

/** What every automated action may say about itself. */
const Guarded = {
  /** Decide and record, call nothing that changes anything (overrides `safety.dryRun`). */
  dryRun: z.boolean().optional(),
  /** Wait for a person to approve before running (failover always does unless `false`). */
  approve: z.boolean().optional(),
  /** Overrides `safety.cooldown` for this action. */
  cooldown: DurationSchema.optional(),
  /**
   * How long after it ran to check whether it worked (the alarm back to OK, the errors
   * stopped); the action's `verification` says what was found. Default 5m.
   */
  verifyAfter: DurationSchema.optional(),
};

const ScaleFields = {
  type: z.literal("scale"),
  target: ScaleTargetSchema,
  /** Add this many (tasks, instances, provisioned executions). */
  by: z.number().int().min(1).max(10_000).optional(),
  /** Or multiply by this (rounded up). */
  factor: z.number().gt(1).max(10).optional(),
  /** Never go above this; the group's own maximum also holds. */
  max: z.number().int().min(1).max(100_000),
  ...Guarded,
};
const oneStep = <T extends { by?: number; factor?: number }>(action: T) =>
  (action.by === undefined) !== (action.factor === undefined);
const ONE_STEP = { message: "give exactly one of `by` (a step) or `factor`", path: ["by"] };

const RollbackFields = {
  type: z.literal("rollback"),
  /**
   * What to roll back, or `"last-change"`: the most recent change to the incident's service
   * (see `changes/model.ts`), set back to its previous version.
   */
  target: z.union([RollbackTargetSchema, z.literal("last-change")]),
  ...Guarded,
};

/**
 * The change a `last-change` rollback undoes, as planning found it: the executor sets the
 * target back from `version` to `previousVersion`, and leaves it alone when it moved since.
 * Never written in a config: planning adds it (see `resolveAction`).
 */
export const ChangeToUndoSchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1),
  previousVersion: z.string().min(1).nullable(),
});
export type ChangeToUndo = z.infer<typeof ChangeToUndoSchema>;

const FailoverFields = {
  type: z.literal("failover"),
  target: FailoverTargetSchema,
  ...Guarded,
};

export const PageActionSchema = z.strictObject({
  type: z.literal("page"),
  /** A name from `channels`. */
  channel: z.string().min(1),
});

/**
 * Not configured by anyone: planned when an incident resolves, to undo a scale-out that raised
 * an ECS service's Application Auto Scaling minimum (a raised minimum would otherwise hold the
 * extra tasks for good). It runs as a `scale` on the same target, so cooldowns and breakers
 * count it; `cooldown: 0` lets it follow its own scale-out at once.
 */
export const RestoreMinCapacityActionSchema = z.strictObject({
  type: z.literal("scale"),
  target: EcsServiceTarget,
  restore: z.strictObject({
    /** The action (`a3`) whose raise this undoes. */
    of: z.string().min(1),
    /** The minimum that action set: the restore acts only while the target still has it. */
    raisedTo: z.number().int().min(0),
    /** The minimum before the raise, to set again. */
    minCapacity: z.number().int().min(0),
  }),
  cooldown: z.literal(0),
});
export type RestoreMinCapacityAction = z.infer<typeof RestoreMinCapacityActionSchema>;

/**
 * A step of a chain: an action tried only after every step before it (and the action that
 * carries the chain) was verified ineffective. A `page` step sends and the chain goes on.
 * Steps carry no chain of their own: one flat ladder per action is what people can read.
 */
export const ChainStepSchema = z.discriminatedUnion("type", [
  z.strictObject(ScaleFields).refine(oneStep, ONE_STEP),
  z.strictObject(RollbackFields),
  z.strictObject(FailoverFields),
  PageActionSchema,
]);
export type ChainStep = z.infer<typeof ChainStepSchema>;

/**
 * `ifIneffective`: what to try, in order, while the alarm is still firing after each step
 * (scale out; then roll back the last change; then fail over; page at any step).
 */
const Chain = { ifIneffective: z.array(ChainStepSchema).min(1).max(5).optional() };

export const ScaleActionSchema = z
  .strictObject({ ...ScaleFields, ...Chain })
  .refine(oneStep, ONE_STEP);
/** A rollback as configured: a target (maybe templated) or `"last-change"`. */
export const RollbackSpecSchema = z.strictObject({ ...RollbackFields, ...Chain });
/** A rollback as it runs: one target, and the change it undoes when it came from one. */
export const RollbackActionSchema = z.strictObject({
  ...RollbackFields,
  target: RollbackTargetSchema,
  change: ChangeToUndoSchema.optional(),
  ...Chain,
});
export const FailoverActionSchema = z.strictObject({ ...FailoverFields, ...Chain });

export const ActionSpecSchema = z.discriminatedUnion("type", [
  ScaleActionSchema,
  RollbackSpecSchema,
  FailoverActionSchema,
  PageActionSchema,
]);
export type ActionSpec = z.infer<typeof ActionSpecSchema>;
export type ScaleAction = z.infer<typeof ScaleActionSchema>;
export type RollbackSpec = z.infer<typeof RollbackSpecSchema>;
export type RollbackAction = z.infer<typeof RollbackActionSchema>;
export type FailoverAction = z.infer<typeof FailoverActionSchema>;
export type PageAction = z.infer<typeof PageActionSchema>;
/** A remediation as configured; planning resolves it into a {@link RemediationAction}. */
export type RemediationSpec = ScaleAction | RollbackSpec | FailoverAction;
/** A remediation as it runs: its target filled in from the incident (see `resolveAction`). */
export type RemediationAction = ScaleAction | RollbackAction | FailoverAction;
export type ActionType = ActionSpec["type"];

/**
 * A secret in the config: the value itself, or `env:NAME` to read it from the environment at
 * start (in AWS, an SST secret the stack passes in), so a config file need hold no secrets.
 * Never whitespace or control characters: a CR/LF in a URL or key could split a request.
 */
const SecretSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[^\s\p{Cc}]+$/u, "no whitespace or control characters");

/** Whether a Slack incoming webhook is an https URL (the only kind Slack issues). */
export const isWebhookUrl = (value: string): boolean => {
  if (!/^[^\s\p{Cc}]+$/u.test(value)) return false;
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
};

/** Where a page goes: any of SNS, a Slack incoming webhook and PagerDuty Events v2. */
export const ChannelSchema = z
  .strictObject({
    sns: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "an SNS topic ARN")
      .optional(),
    slackWebhook: SecretSchema.refine(
      (value) => value.startsWith("env:") || isWebhookUrl(value),
      "an https:// URL, or env:NAME",
    ).optional(),
    pagerduty: z.strictObject({ routingKey: SecretSchema }).optional(),
  })
  .refine((channel) => channel.sns || channel.slackWebhook || channel.pagerduty, {
    message: "a channel needs at least one of sns, slackWebhook, pagerduty",
  });
export type ChannelConfig = z.infer<typeof ChannelSchema>;

export const EscalationSchema = z.strictObject({
  /** Re-page an unacknowledged critical incident this often... */
  repeatAfter: DurationSchema.prefault("5m"),
  /** ...at most this many times... */
  maxRepeats: z.number().int().min(0).max(50).default(3),
  /** ...repeat n going to channels[n], or to the last channel when the list is shorter. */
  channels: z.array(z.string().min(1)).default([]),
});

export const SafetySchema = z.strictObject({
  /** Decide and record everything, call nothing. */
  dryRun: z.boolean().default(false),
  /** Least time between two runs of one action type on one target. */
  cooldown: DurationSchema.prefault("10m"),
  /** Circuit breaker: automated actions per target, and in total, in any hour. */
  maxActionsPerHour: z.number().int().min(0).max(1000).default(6),
});
