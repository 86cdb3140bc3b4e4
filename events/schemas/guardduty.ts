import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import * as z from "zod";
import { AwsRegionSchema } from "./aws-regions";
import { AccountIdSchema } from "./cloudwatch-alarm";

// As for CloudWatch, plain (stripping) objects: a finding carries dozens of resource and action
// fields that GuardDuty extends every year. Only the fields Firebreak reads are validated.

export const GUARDDUTY_FINDING = "GuardDuty Finding";

/**
 * A GuardDuty finding id: 32 hex characters in practice; letters, digits, `-` and `_` accepted,
 * so that it is safe in a fingerprint and a console link whatever GuardDuty does next.
 */
export const GuardDutyFindingIdSchema = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9_-]+$/, "Expected a GuardDuty finding id (letters, digits, - and _)");

/** `service.count`: a number in events, a numeric string in the GetFindings response syntax. */
const CountSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
]);

/**
 * `detail` of a "GuardDuty Finding" event: the whole finding, as GetFindings returns it
 * (GuardDuty API reference, `Finding`). `severity` is a number from 0.1 to 10 (low below 4,
 * medium below 7, high below 9, critical from 9). The same finding is sent again as it recurs:
 * same `id`, later `updatedAt`, growing `service.count`.
 */
export const GuardDutyFindingSchema = z.object({
  schemaVersion: z.string().max(32).optional(),
  accountId: AccountIdSchema,
  region: AwsRegionSchema,
  partition: z.string().max(32).optional(),
  id: GuardDutyFindingIdSchema,
  arn: z
    .string()
    .max(2048)
    .regex(/^arn:aws[a-z-]*:guardduty:/, "Expected a GuardDuty finding ARN"),
  type: z.string().min(1).max(256),
  severity: z.number().min(0).max(10),
  title: z.string().max(2048).optional(),
  description: z.string().max(10_000).optional(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  resource: z.object({ resourceType: z.string().max(256).optional() }),
  service: z
    .object({
      count: CountSchema.optional(),
      archived: z.boolean().optional(),
      eventFirstSeen: z.string().max(64).optional(),
      eventLastSeen: z.string().max(64).optional(),
    })
    .optional(),
});
export type GuardDutyFinding = z.infer<typeof GuardDutyFindingSchema>;

/**
 * EventBridge "GuardDuty Finding". Follows the GuardDuty user guide, "Processing GuardDuty
 * findings with Amazon EventBridge" (the envelope; `detail` is the complete finding JSON) and
 * the findings GuardDuty generates as samples (aws-samples/amazon-guardduty-automated-response-sample).
 */
export const GuardDutyFindingEventSchema = EventBridgeSchema.extend({
  source: z.literal("aws.guardduty"),
  "detail-type": z.literal(GUARDDUTY_FINDING),
  account: AccountIdSchema,
  region: AwsRegionSchema,
  detail: GuardDutyFindingSchema,
});
export type GuardDutyFindingEvent = z.infer<typeof GuardDutyFindingEventSchema>;
