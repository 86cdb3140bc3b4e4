import {
  CODEDEPLOY_DEPLOYMENT,
  CodeDeployDeploymentEventSchema,
  ECS_DEPLOYMENT,
  EcsDeploymentEventSchema,
  LambdaApiCallEventSchema,
  UpdateAliasParametersSchema,
} from "@firebreak/events";
import type * as z from "zod";
import type { RollbackTarget } from "../actions/schema";
import { formatIssues, InvalidEventError } from "../errors";
import { clip } from "../signal";
import type { Change } from "./model";

/** A change as its event tells it: the service is the config's to say (`serviceOfTarget`). */
export type ChangeDraft = Omit<Change, "service"> & { target: RollbackTarget };

export interface ChangeEventOutcome {
  /** What the event deployed, or null for a state that deployed nothing (START, FAILED...). */
  draft: ChangeDraft | null;
  /** Why nothing was deployed, for the log. */
  note: string | null;
}

/** The EventBridge sources whose events are deploys, not alarms. */
export const CHANGE_SOURCES = ["aws.codedeploy", "aws.ecs", "aws.lambda"] as const;

/** Whether a raw event is one `changeFromEvent` reads (by its EventBridge source). */
export const isChangeEvent = (raw: unknown): boolean =>
  typeof raw === "object" &&
  raw !== null &&
  "detail-type" in raw &&
  CHANGE_SOURCES.some((source) => (raw as { source?: unknown }).source === source);

function parse<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new InvalidEventError(`invalid ${what}: ${formatIssues(result.error)}`);
  }
  return result.data;
}

const iso = (time: string) => new Date(time).toISOString();
const ignored = (note: string): ChangeEventOutcome => ({ draft: null, note });

/** `arn:aws:lambda:us-east-1:123456789012:function:checkout-api[:live]`, `123456789012:function:x`. */
const FUNCTION_ARN = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?function:([A-Za-z0-9_-]+)/;

/** The function's name from what `UpdateAlias` was given: a name, a partial or a full ARN. */
export const functionNameOf = (given: string) => FUNCTION_ARN.exec(given)?.[1] ?? given;

/**
 * Who made an API call, briefly: the role and session of an assumed role (`ci-deployer/GitHubActions`),
 * an IAM user's name, else the principal.
 */
function actorOf(identity: {
  type?: string;
  arn?: string;
  userName?: string;
  principalId?: string;
}): string | null {
  const assumed = /:assumed-role\/([^/]+)\/(.+)$/.exec(identity.arn ?? "");
  if (assumed) return clip(`${assumed[1]}/${assumed[2]}`, 256);
  return identity.userName ?? identity.principalId ?? identity.type ?? null;
}

/**
 * What a deploy event changed: CodeDeploy `SUCCESS`, ECS `SERVICE_DEPLOYMENT_COMPLETED` and a
 * successful Lambda `UpdateAlias` that moved the alias to a version. Other states of the same
 * events deploy nothing (a START may still fail; CodeDeploy and ECS roll a failure back
 * themselves) and are accepted with a note. The id is the deploy's own (`codedeploy:d-…`,
 * `ecs:ecs-svc/…`, `lambda:<CloudTrail eventID>`), so a redelivery is the same change.
 * @throws InvalidEventError naming what is wrong with an event of a change source
 */
export function changeFromEvent(raw: Record<string, unknown>): ChangeEventOutcome {
  const detailType = raw["detail-type"];
  if (raw.source === "aws.codedeploy") {
    if (detailType !== CODEDEPLOY_DEPLOYMENT)
      return ignored(`ignored "${clip(String(detailType), 80)}"`);
    const event = parse(CodeDeployDeploymentEventSchema, raw, "CodeDeploy deployment event");
    const { detail } = event;
    if (detail.state !== "SUCCESS")
      return ignored(`CodeDeploy ${detail.deploymentId} ${detail.state}`);
    return {
      note: null,
      draft: {
        id: `codedeploy:${detail.deploymentId}`,
        version: detail.deploymentId,
        previousVersion: null,
        target: {
          kind: "codedeploy",
          application: detail.application,
          deploymentGroup: detail.deploymentGroup,
          region: detail.region,
        },
        commit: null,
        author: null,
        url: `https://${detail.region}.console.aws.amazon.com/codesuite/codedeploy/deployments/${detail.deploymentId}?region=${detail.region}`,
        at: iso(event.time),
        origin: "codedeploy",
        account: event.account,
      },
    };
  }
  if (raw.source === "aws.ecs") {
    if (detailType !== ECS_DEPLOYMENT) return ignored(`ignored "${clip(String(detailType), 80)}"`);
    const event = parse(EcsDeploymentEventSchema, raw, "ECS deployment event");
    const { detail } = event;
    if (detail.eventName !== "SERVICE_DEPLOYMENT_COMPLETED") {
      return ignored(`ECS ${detail.deploymentId} ${detail.eventName}`);
    }
    // service/<cluster>/<service>; the old form service/<service> is in the default cluster.
    const path = event.resources[0].split(":service/")[1]?.split("/") ?? [];
    const [cluster, service] = path.length === 2 ? path : ["default", path[0]];
    return {
      note: null,
      draft: {
        id: `ecs:${detail.deploymentId}`,
        version: detail.deploymentId,
        previousVersion: null,
        target: {
          kind: "ecs-service",
          cluster: cluster as string,
          service: service as string,
          region: event.region,
        },
        commit: null,
        author: null,
        url: null,
        at: iso(detail.updatedAt ?? event.time),
        origin: "ecs",
        account: event.account,
      },
    };
  }
  const event = parse(LambdaApiCallEventSchema, raw, "Lambda CloudTrail event");
  const { detail } = event;
  if (!/^UpdateAlias\d{8}/.test(detail.eventName)) return ignored(`ignored ${detail.eventName}`);
  if (detail.errorCode) return ignored(`${detail.eventName} failed: ${clip(detail.errorCode, 80)}`);
  const request = parse(
    UpdateAliasParametersSchema,
    detail.requestParameters,
    "UpdateAlias requestParameters",
  );
  if (request.functionVersion === undefined || request.functionVersion === "$LATEST") {
    return ignored(`alias ${request.name} now on ${request.functionVersion ?? "the same version"}`);
  }
  return {
    note: null,
    draft: {
      id: `lambda:${detail.eventID}`,
      version: request.functionVersion,
      // CloudTrail records the new version only: the recorder finds the one before in history.
      previousVersion: null,
      target: {
        kind: "lambda-alias",
        functionName: functionNameOf(request.functionName),
        alias: request.name,
        region: detail.awsRegion,
      },
      commit: null,
      author: detail.userIdentity ? actorOf(detail.userIdentity) : null,
      url: null,
      at: iso(detail.eventTime),
      origin: "lambda",
      account: event.account,
    },
  };
}
