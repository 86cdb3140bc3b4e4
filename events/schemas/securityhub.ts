import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import * as z from "zod";
import { AwsRegionSchema } from "./aws-regions";
import { AccountIdSchema } from "./cloudwatch-alarm";

export const SECURITY_HUB_FINDINGS_IMPORTED = "Security Hub Findings - Imported";

/**
 * Most findings one event may carry. Security Hub sends one finding per event ("EventBridge
 * event formats for Security Hub CSPM"); BatchImportFindings takes at most 100 per call, so
 * more than 100 is no event Security Hub sends, and is refused before any finding is parsed.
 */
export const MAX_FINDINGS_PER_EVENT = 100;

export const SEVERITY_LABELS = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type AsffSeverityLabel = (typeof SEVERITY_LABELS)[number];

/**
 * The label for a `Severity.Normalized` score, by the ASFF's own ranges (0 informational, 1-39
 * low, 40-69 medium, 70-89 high, 90-100 critical): older findings carry only the score.
 */
export function severityLabelOf(normalized: number): AsffSeverityLabel {
  if (normalized >= 90) return "CRITICAL";
  if (normalized >= 70) return "HIGH";
  if (normalized >= 40) return "MEDIUM";
  if (normalized >= 1) return "LOW";
  return "INFORMATIONAL";
}

/** ASFF timestamps: ISO 8601 with `Z` or an offset, fractional seconds optional. */
const AsffTimeSchema = z.iso.datetime({ offset: true });

/**
 * One finding in the AWS Security Finding Format, the attributes Firebreak reads: the ASFF's
 * required ones (Id, ProductArn, GeneratorId, AwsAccountId, Types, CreatedAt, UpdatedAt,
 * Severity, Title, Description, Resources) and the state (`Workflow.Status`, `RecordState`).
 * Length limits are the ASFF's (Id and ProductArn 512, Title 256, Description 1024).
 */
export const AsffFindingSchema = z.object({
  SchemaVersion: z.string().max(32),
  Id: z.string().min(1).max(512),
  ProductArn: z.string().min(1).max(512),
  ProductName: z.string().max(128).optional(),
  GeneratorId: z.string().min(1).max(512),
  AwsAccountId: AccountIdSchema,
  Region: AwsRegionSchema.optional(),
  Types: z.array(z.string().max(256)).max(50),
  CreatedAt: AsffTimeSchema,
  UpdatedAt: AsffTimeSchema,
  Severity: z
    .object({
      Label: z.enum(SEVERITY_LABELS).optional(),
      Normalized: z.number().int().min(0).max(100).optional(),
    })
    .refine((severity) => severity.Label !== undefined || severity.Normalized !== undefined, {
      message: "Severity needs Label or Normalized",
    }),
  Title: z.string().min(1).max(256),
  Description: z.string().max(1024),
  Resources: z
    .array(z.object({ Type: z.string().min(1).max(256), Id: z.string().min(1).max(512) }))
    .min(1)
    .max(32),
  Workflow: z.object({ Status: z.enum(["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"]) }).optional(),
  RecordState: z.enum(["ACTIVE", "ARCHIVED"]).optional(),
});
export type AsffFinding = z.infer<typeof AsffFindingSchema>;

/**
 * EventBridge "Security Hub Findings - Imported": `detail.findings` in ASFF. The array is checked
 * for its size before any finding is parsed, so a forged event with 100,000 findings costs one
 * length test. Follows the Security Hub user guide, "EventBridge event formats for Security Hub
 * CSPM", and the findings of aws-solutions/automated-security-response-on-aws (`simtest/simdata`).
 */
export const SecurityHubFindingsEventSchema = EventBridgeSchema.extend({
  source: z.literal("aws.securityhub"),
  "detail-type": z.literal(SECURITY_HUB_FINDINGS_IMPORTED),
  account: AccountIdSchema,
  region: AwsRegionSchema,
  detail: z.object({
    findings: z
      .array(z.unknown())
      .min(1)
      .max(
        MAX_FINDINGS_PER_EVENT,
        `at most ${MAX_FINDINGS_PER_EVENT} findings per event (Security Hub sends one)`,
      )
      .pipe(z.array(AsffFindingSchema)),
  }),
});
export type SecurityHubFindingsEvent = z.infer<typeof SecurityHubFindingsEventSchema>;
