import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import * as z from "zod";
import { AwsRegionSchema } from "./aws-regions";
import { AccountIdSchema } from "./cloudwatch-alarm";

export const AWS_HEALTH_EVENT = "AWS Health Event";

/**
 * The event type categories AWS Health documents. The EventBridge rule sends only these, so an
 * event with another category is not one AWS delivers to Firebreak, and is refused.
 */
export const HEALTH_CATEGORIES = [
  "issue",
  "accountNotification",
  "scheduledChange",
  "investigation",
] as const;
export type HealthCategory = (typeof HEALTH_CATEGORIES)[number];

/**
 * AWS Health's own time form, RFC 1123 (`Sat, 04 Jun 2016 05:01:10 GMT`), unlike the envelope's
 * ISO `time`. ISO is accepted too. The string is kept as sent.
 */
export const HealthTimeSchema = z
  .string()
  .max(64)
  .refine((text) => !Number.isNaN(Date.parse(text)), {
    message: "Expected a time such as Sat, 04 Jun 2016 05:01:10 GMT",
  });

/**
 * `detail` of an "AWS Health Event" (AWS Health user guide, "AWS Health events Amazon
 * EventBridge schema"). `statusCode` is missing in older events (AWS's own test events among
 * them): then the event is taken as open. `affectedAccount` is set in an organizational view,
 * where the envelope's `account` is the receiving one; `eventRegion` is the affected region,
 * where the envelope's `region` is where the event was delivered.
 */
export const HealthEventDetailSchema = z.object({
  // "An event ARN isn't unique to a specific AWS account or Region": key it with the account.
  eventArn: z
    .string()
    .max(1600)
    .regex(/^arn:aws[a-z-]*:health:[a-z0-9-]*::event\/\S+$/, "Expected an AWS Health event ARN"),
  service: z.string().min(1).max(100),
  eventTypeCode: z.string().min(1).max(100),
  eventTypeCategory: z.enum(HEALTH_CATEGORIES),
  eventScopeCode: z.enum(["PUBLIC", "ACCOUNT_SPECIFIC", "NONE"]).optional(),
  statusCode: z.enum(["open", "closed", "upcoming"]).optional(),
  startTime: HealthTimeSchema,
  endTime: HealthTimeSchema.optional(),
  lastUpdatedTime: HealthTimeSchema.optional(),
  eventRegion: z.string().max(32).optional(),
  affectedAccount: AccountIdSchema.optional(),
  eventDescription: z
    .array(z.object({ language: z.string().max(16), latestDescription: z.string().max(100_000) }))
    .min(1)
    .max(20),
  affectedEntities: z
    .array(z.object({ entityValue: z.string().max(1600) }))
    .max(10_000)
    .optional(),
});
export type HealthEventDetail = z.infer<typeof HealthEventDetailSchema>;

/**
 * EventBridge "AWS Health Event". Follows the AWS Health user guide (schema and sample payloads)
 * and aws/aws-health-tools' test events.
 */
export const HealthEventSchema = EventBridgeSchema.extend({
  source: z.literal("aws.health"),
  "detail-type": z.literal(AWS_HEALTH_EVENT),
  account: AccountIdSchema,
  region: AwsRegionSchema,
  detail: HealthEventDetailSchema,
});
export type HealthEvent = z.infer<typeof HealthEventSchema>;
