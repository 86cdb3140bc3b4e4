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
