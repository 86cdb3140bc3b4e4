import * as z from "zod";
import { FirebreakError } from "../errors";

/** The AWS services remediation talks to, named as in IAM action prefixes. */
export const AWS_SERVICES = [
  "ecs",
  "autoscaling",
  "application-autoscaling",
  "lambda",
  "codedeploy",
  "rds",
  "route53",
  "sns",
] as const;
export type AwsService = (typeof AWS_SERVICES)[number];

/**
 * One AWS API call, exactly as made: the operation name of the API reference and its input.
 * Core decides every request; gateways only send them. The request is recorded on the action.
 */
export const AwsRequestSchema = z.object({
  service: z.enum(AWS_SERVICES),
  operation: z.string(),
  /** Region to call; the gateway's default when absent. */
  region: z.string().optional(),
  /**
   * The AWS account the target lives in (12 digits): the incident's own account, so that a
   * member account's alarm is remediated there, through the role `accounts` names. Absent: the
   * account Firebreak runs in.
   */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  input: z.record(z.string(), z.unknown()),
});
export type AwsRequest = z.infer<typeof AwsRequestSchema>;

/**
 * Sends AWS requests. The AWS gateway maps each (service, operation) to its SDK v3 command; the
 * local stack's simulated gateway answers from a model of the targets. Only operations the
 * remediation actions declare are accepted.
 */
export interface AwsGateway {
  send(request: AwsRequest): Promise<unknown>;
}

/**
 * An AWS call that failed. `retryable` says whether trying again later can help (throttling,
 * 5xx, timeouts) or not (validation, access denied, not found).
 */
export class AwsCallError extends FirebreakError {
  readonly code = "aws_call_failed";
  constructor(
    readonly request: Pick<AwsRequest, "service" | "operation">,
    readonly errorCode: string,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`${request.service}:${request.operation} failed: ${errorCode}: ${message}`, options);
  }
}

/**
 * The account a signal's `attributes.account` names, when it is an account id: sources that
 * send something else (or nothing) leave requests in Firebreak's own account.
 */
export const accountIdOf = (value: string | undefined): string | undefined =>
  value !== undefined && /^\d{12}$/.test(value) ? value : undefined;

/**
 * A request for an account Firebreak cannot act in: not its own, and no role in `accounts`.
 * Nothing was sent; the action is skipped with this reason rather than failed, since retrying
 * cannot help until the config names a role.
 */
export class AccountNotConfiguredError extends AwsCallError {
  constructor(
    request: Pick<AwsRequest, "service" | "operation">,
    readonly account: string,
  ) {
    super(
      request,
      "AccountNotConfigured",
      `account ${account} has no role in accounts (accounts["${account}"].roleArn)`,
      false,
    );
  }
}
