import type { Change } from "../changes/model";
import type { MonitoringConfig } from "../config/schema";
import type { IncidentEvent } from "../incidents/reduce";
import type { SignalAttributes, Source } from "../signal";
import { type AwsEnvironment, type IamStatement, permissionsOf, targetKeyOf } from "./remediations";
import type {
  ChangeToUndo,
  RemediationAction,
  RemediationSpec,
  RemediationTarget,
  RollbackTarget,
} from "./schema";

// ---------------------------------------------------------------------------------------------
// Templates: `{dimensions.FunctionName}`, `{service}`, `{account}`, `{region}` in target fields.

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** What a placeholder may say, for messages. */
export const PLACEHOLDERS = "{dimensions.NAME}, {service}, {account} or {region}";

const isKnownPlaceholder = (inner: string) =>
  inner === "service" ||
  inner === "account" ||
  inner === "region" ||
  /^dimensions\.[^\s{}]{1,255}$/.test(inner);

/** Whether a target value takes anything from the incident. */
export const isTemplate = (value: string): boolean => /[{}]/.test(value);

/**
 * Why a target value is not a valid template, or null when it is (a plain name is one too).
 * The config check calls it on every target field, so a typo fails the deploy, naming its path.
 *
 * @example
 * templateProblem("{dimensions.FunctionName}"); // null
 * templateProblem("{dimension.FunctionName}"); // "unknown placeholder {dimension.FunctionName} (...)"
 */
export function templateProblem(value: string): string | null {
  let unknown: string | null = null;
  const rest = value.replace(PLACEHOLDER, (whole, inner: string) => {
    if (unknown === null && !isKnownPlaceholder(inner)) unknown = whole;
    return "";
  });
  if (unknown !== null) return `unknown placeholder ${unknown} (use ${PLACEHOLDERS})`;
  if (/[{}]/.test(rest)) {
    return `an unmatched "{" or "}" (placeholders look like {dimensions.FunctionName})`;
  }
  return null;
}

/** What templates read: the incident's attributes (the alarm's dimensions...) and its service. */
export interface TemplateSubject {
  source?: Source;
  attributes: SignalAttributes;
  /** The incident's service, when the policy assigned one. */
  service?: string | null;
}

function placeholderValue(inner: string, subject: TemplateSubject): string | undefined {
  if (inner === "service") return subject.service ?? undefined;
  if (inner === "account") return subject.attributes.account;
  if (inner === "region") return subject.attributes.region;
  return subject.attributes.dimensions?.[inner.slice("dimensions.".length)];
}

/** A template filled in from the incident, or the first placeholder it has nothing for. */
function fill(template: string, subject: TemplateSubject): { value: string } | { missing: string } {
  let missing: string | null = null;
  const value = template.replace(PLACEHOLDER, (whole, inner: string) => {
    const found = placeholderValue(inner, subject);
    if (found === undefined || found === "") missing ??= whole;
    return found ?? "";
  });
  return missing === null ? { value } : { missing };
}

// ---------------------------------------------------------------------------------------------
// Identifier formats, as the AWS API references document them. A value is checked before any
// call: a dimension is whatever the metric's publisher wrote, and a name that is really an ARN
// (Lambda accepts one for FunctionName) could reach beyond the ARN pattern IAM granted.

interface IdentifierFormat {
  pattern: RegExp;
  says: string;
}

const LAMBDA_FUNCTION: IdentifierFormat = {
  pattern: /^[A-Za-z0-9_-]{1,64}$/,
  says: "a Lambda function name: 1 to 64 letters, digits, hyphens or underscores",
};
const LAMBDA_ALIAS: IdentifierFormat = {
  pattern: /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/,
  says: "a Lambda alias name: 1 to 128 letters, digits, hyphens or underscores, not all digits",
};
const LAMBDA_QUALIFIER: IdentifierFormat = {
  pattern: /^(?:\d{1,10}|(?!\d+$)[A-Za-z0-9_-]{1,128})$/,
  says: "a Lambda version number or alias name",
};
const LAMBDA_VERSION: IdentifierFormat = {
  pattern: /^\d{1,10}$/,
  says: "a published Lambda version number",
};
const ECS_NAME = (what: string): IdentifierFormat => ({
  pattern: /^[A-Za-z0-9_-]{1,255}$/,
  says: `an ECS ${what} name: 1 to 255 letters, digits, hyphens or underscores`,
});
const RDS_IDENTIFIER = (what: string): IdentifierFormat => ({
  pattern: /^(?=.{1,63}$)[A-Za-z](?:-?[A-Za-z0-9])*$/,
  says: `an RDS ${what} identifier: 1 to 63 letters, digits or hyphens, a letter first, no trailing or double hyphen`,
});
const PRINTABLE = (what: string, max: number): IdentifierFormat => ({
  pattern: new RegExp(`^[^\\p{Cc}\\u2028\\u2029]{1,${max}}$`, "u"),
  says: `${what}: 1 to ${max} characters, no control characters`,
});
const REGION: IdentifierFormat = {
  pattern: /^[a-z]{2}(-[a-z]+)+-\d$/,
  says: "a region code such as us-east-1",
};
const CODEDEPLOY_DEPLOYMENT: IdentifierFormat = {
  pattern: /^d-[A-Z0-9]{9}$/,
  says: "a CodeDeploy deployment id such as d-A1B2C3D4E",
};
/** A task definition: `family:revision`, or its ARN. */
export const TASK_DEFINITION =
  /^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}:\d{1,10}$/;

/** The format of every field of every kind of target that names something in AWS. */
const FORMATS: { [K in RemediationTarget["kind"]]: Record<string, IdentifierFormat> } = {
  "ecs-service": { cluster: ECS_NAME("cluster"), service: ECS_NAME("service"), region: REGION },
  "autoscaling-group": { name: PRINTABLE("an Auto Scaling group name", 255), region: REGION },
  "lambda-provisioned-concurrency": {
    functionName: LAMBDA_FUNCTION,
    qualifier: LAMBDA_QUALIFIER,
    region: REGION,
  },
  "lambda-alias": { functionName: LAMBDA_FUNCTION, alias: LAMBDA_ALIAS, region: REGION },
  codedeploy: {
    application: PRINTABLE("a CodeDeploy application name", 100),
    deploymentGroup: PRINTABLE("a CodeDeploy deployment group name", 100),
    region: REGION,
  },
  "rds-cluster": {
    clusterId: RDS_IDENTIFIER("DB cluster"),
    targetInstance: RDS_IDENTIFIER("DB instance"),
    region: REGION,
  },
  "route53-weights": {
    recordName: PRINTABLE("a record name", 1024),
    primary: PRINTABLE("a record set identifier", 128),
    secondary: PRINTABLE("a record set identifier", 128),
  },
};

/** JSON.stringify, cut: a hostile dimension must not make the reason unreadable. */
const quoted = (value: string) =>
  JSON.stringify(value.length > 80 ? `${value.slice(0, 79)}…` : value);

/** Why a filled-in target cannot be acted on (the first field that breaks its format), or null. */
export function targetFormatProblem(target: RemediationTarget): string | null {
  const formats: Record<string, IdentifierFormat> = FORMATS[target.kind];
  for (const [field, value] of Object.entries(target)) {
    const format = formats[field];
    if (format && typeof value === "string" && !format.pattern.test(value)) {
      return `${field} ${quoted(value)} is not ${format.says}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Resolution: the configured action with its target filled in, checked, as it will run.

/**
 * Reads the most recent change to a service at or before a time (ISO). The change store
 * implements it; planning reads it once per incident change, ahead of planning (see
 * {@link lastChangeForPlanning}), so that planning itself stays synchronous.
 */
export interface ChangeLookup {
  lastChange(service: string, before: string): Promise<Change | null>;
}

/** What resolution reads besides the incident. */
export interface TargetFacts {
  /** Default region of targets that name none. */
  region: string;
  /**
   * The last change to the incident's service, read ahead of planning; absent when nothing
   * read it (no change store wired, or the rule has no `last-change` rollback).
   */
  lastChange?: Change | null;
}

/**
 * An action ready to plan (its target filled in and checked), or why it is skipped. Either way
 * `targetKey` names the target for the ledger: what cooldowns and breakers count once resolved.
 */
export type Resolution =
  | { ok: true; action: RemediationAction; targetKey: string }
  | { ok: false; reason: string; targetKey: string };

/** The rollback kinds a change can name (`Change.target`): what `last-change` may act on. */
export const LAST_CHANGE_KINDS = ["lambda-alias", "codedeploy", "ecs-service"] as const;

/**
 * Fills in an action's target from the incident and checks every value's format; for
 * `rollback` of `"last-change"`, takes the target and versions of the service's last change.
 *
 * @example
 * resolveAction(
 *   { type: "rollback", target: { kind: "lambda-alias", functionName: "{dimensions.FunctionName}", alias: "live" } },
 *   { attributes: { dimensions: { FunctionName: "checkout" } } },
 *   { region: "us-east-1" },
 * ); // ok, target.functionName "checkout", targetKey "lambda-alias:us-east-1/checkout:live"
 */
export function resolveAction(
  spec: RemediationSpec,
  subject: TemplateSubject,
  facts: TargetFacts,
): Resolution {
  if (spec.type === "rollback" && spec.target === "last-change") {
    return resolveLastChange({ ...spec, target: spec.target }, subject, facts);
  }
  const configured = spec as RemediationAction;
  const unresolvedKey = targetKeyOf(configured, facts.region);
  const target: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(configured.target)) {
    if (typeof value !== "string" || !isTemplate(value)) {
      target[field] = value;
      continue;
    }
    const filled = fill(value, subject);
    if ("missing" in filled) {
      const where = subject.source === "cloudwatch" ? "alarm" : "incident";
      return {
        ok: false,
        reason: `${filled.missing} is not on this ${where} (${field} "${value}")`,
        targetKey: unresolvedKey,
      };
    }
    target[field] = filled.value;
  }
  const action = { ...configured, target } as RemediationAction;
  const problem = targetFormatProblem(action.target);
  if (problem) return { ok: false, reason: problem, targetKey: unresolvedKey };
  return { ok: true, action, targetKey: targetKeyOf(action, facts.region) };
}

function resolveLastChange(
  spec: Extract<RemediationSpec, { type: "rollback" }> & { target: "last-change" },
  subject: TemplateSubject,
  facts: TargetFacts,
): Resolution {
  const service = subject.service ?? null;
  const skip = (reason: string): Resolution => ({
    ok: false,
    reason: `rollback of the last change: ${reason}`,
    targetKey: `last-change:${service ?? "(no service)"}`,
  });
  if (service === null) return skip("the incident has no service (see `services`)");
  if (facts.lastChange === undefined) return skip("changes are not recorded here");
  const change = facts.lastChange;
  if (change === null) return skip(`no change to ${service} recorded`);
  const named = `change ${change.id} (${change.service} ${change.version})`;
  if (change.service !== service) return skip(`${named} is not a change to ${service}`);
  if (change.target === null) return skip(`${named} names no target to roll back`);
  const problem = targetFormatProblem(change.target) ?? versionProblem(change.target, change);
  if (problem) return skip(`${named}: ${problem}`);
  const undo: ChangeToUndo = {
    id: change.id,
    version: change.version,
    previousVersion: change.previousVersion,
  };
  const { target: _lastChange, ...rest } = spec;
  const action: RemediationAction = { ...rest, target: change.target, change: undo };
  return { ok: true, action, targetKey: targetKeyOf(action, facts.region) };
}

/**
 * What each kind needs of a change's versions: a Lambda alias goes back to a published
 * version; CodeDeploy stops the deployment the change was (its `version` is the deployment id);
 * ECS goes to `previousVersion` when it is a task definition, else to the revision before.
 */
function versionProblem(target: RollbackTarget, change: Change): string | null {
  if (target.kind === "lambda-alias") {
    if (change.previousVersion === null) return "no previous version to go back to";
    if (!LAMBDA_VERSION.pattern.test(change.previousVersion)) {
      return `previousVersion ${quoted(change.previousVersion)} is not ${LAMBDA_VERSION.says}`;
    }
  }
  if (target.kind === "codedeploy" && !CODEDEPLOY_DEPLOYMENT.pattern.test(change.version)) {
    return `version ${quoted(change.version)} is not ${CODEDEPLOY_DEPLOYMENT.says}`;
  }
  return null;
}

interface MaybeRollback {
  type: string;
  target?: unknown;
  ifIneffective?: ReadonlyArray<{ type: string; target?: unknown }>;
}

const rollsBackLastChange = (actions: ReadonlyArray<MaybeRollback>) =>
  actions.some((action) => action.type === "rollback" && action.target === "last-change");

/**
 * Whether any of these actions, or a step of their `ifIneffective` ladders, rolls back the last
 * change: a sweep that plans ladder steps reads the change for those (`PlanContext.lastChange`).
 */
export const needsLastChange = (actions: ReadonlyArray<MaybeRollback>): boolean =>
  rollsBackLastChange(actions) ||
  actions.some((action) => rollsBackLastChange(action.ifIneffective ?? []));

/**
 * Reads the service's last change when planning these events may roll it back: the incident's
 * rule has a `last-change` rollback and the events plan its actions. Returns undefined when
 * nothing needed reading (then such an action says changes are not recorded).
 *
 * @example
 * respond: async (record, events, now) =>
 *   planResponses(record, events, {
 *     config, now, region,
 *     lastChange: await lastChangeForPlanning(changes, record.incident, events, config, now),
 *   })
 */
export async function lastChangeForPlanning(
  lookup: ChangeLookup | undefined,
  incident: TemplateSubject & { rule: string | null },
  events: ReadonlyArray<IncidentEvent>,
  config: Pick<MonitoringConfig, "rules">,
  now: number,
): Promise<Change | null | undefined> {
  const service = incident.service ?? null;
  if (!lookup || service === null) return undefined;
  const rule = config.rules.find((candidate) => candidate.name === incident.rule);
  const plans = events.some((event) => event.type === "opened" || event.type === "severity-raised");
  if (!rule || !plans || !rollsBackLastChange(rule.actions)) return undefined;
  return lookup.lastChange(service, new Date(now).toISOString());
}

// ---------------------------------------------------------------------------------------------
// IAM: what templates can produce, and nothing wider.

/** Every placeholder becomes `*`: the ARN pattern of exactly the segment it stands in. */
const wildcarded = (value: string) => value.replace(PLACEHOLDER, "*");

/** A change stands in for itself: its kind's operations, with those that reach a deployment. */
const ANY_CHANGE: ChangeToUndo = { id: "*", version: "*", previousVersion: "*" };

/**
 * The targets a `last-change` rollback may act on: any Lambda alias, CodeDeploy deployment group
 * and ECS service of the deployment's account and region (changes are recorded from that
 * account's events; which function or service a change names is only known when it happens).
 */
const LAST_CHANGE_TARGETS: RollbackTarget[] = [
  { kind: "lambda-alias", functionName: "*", alias: "*" },
  { kind: "codedeploy", application: "*", deploymentGroup: "*" },
  { kind: "ecs-service", cluster: "*", service: "*" },
];

/**
 * The IAM statements a configured action needs, whatever its templates resolve to: a templated
 * part of a name becomes `*` in that segment of the ARN (account and region stay the
 * deployment's unless `region` itself is templated); `last-change` is granted the rollback
 * operations of {@link LAST_CHANGE_KINDS} on the account's resources of those kinds.
 *
 * @example
 * grantsOf({ type: "rollback", target: { kind: "lambda-alias", functionName: "{dimensions.FunctionName}", alias: "live" } }, env)
 * // lambda:GetAlias, lambda:UpdateAlias on arn:aws:lambda:us-east-1:123456789012:function:* and ...:function:*:live
 */
export function grantsOf(spec: RemediationSpec, env: AwsEnvironment): IamStatement[] {
  if (spec.type === "rollback" && spec.target === "last-change") {
    const { target: _lastChange, ...rest } = spec;
    return LAST_CHANGE_TARGETS.flatMap((target) =>
      permissionsOf({ ...rest, target, change: ANY_CHANGE }, env),
    );
  }
  const configured = spec as RemediationAction;
  const target = Object.fromEntries(
    Object.entries(configured.target).map(([field, value]) => [
      field,
      typeof value === "string" ? wildcarded(value) : value,
    ]),
  );
  return permissionsOf({ ...configured, target } as RemediationAction, env);
}
