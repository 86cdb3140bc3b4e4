import { DurationSchema, formatIssues } from "@firebreak/core";
import * as z from "zod";

const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "a region code such as eu-west-1");
const KmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    "a KMS key ARN (not an alias)",
  );

/** CloudWatch Logs retention periods Firebreak accepts (a subset of what SST maps to days). */
const Retention = z.enum(["1 week", "2 weeks", "1 month", "3 months", "6 months", "1 year"]);

/** A log group to watch: its name, or the name and a subscription filter pattern. */
const LogGroupSchema = z
  .union([
    z.string(),
    z.strictObject({
      name: z.string(),
      /** CloudWatch Logs filter syntax; `""` sends every line (the ingest function drops noise). */
      filterPattern: z.string().max(1024).default(""),
    }),
  ])
  .transform((group) => (typeof group === "string" ? { name: group, filterPattern: "" } : group))
  .pipe(
    z.object({
      name: z
        .string()
        .regex(/^[\w#./-]{1,512}$/, "a log group name such as /aws/lambda/checkout")
        .refine((name) => !name.includes("*"), "one log group per entry: no wildcards"),
      filterPattern: z.string(),
    }),
  );

/**
 * How one stage of Firebreak is deployed: infrastructure choices, not policy. The policy (rules,
 * channels, remediations) is `monitoring.config.ts`; these are the things a deploy creates or
 * sizes, and that only a deploy can change.
 */
export const DeployOptionsSchema = z.strictObject({
  /** Stages that keep their data: deletion protection, `retain` removal, `sst remove` refused. */
  productionStages: z.array(z.string().min(1)).default(["production", "prod"]),
  /**
   * CloudWatch Logs groups to watch: a subscription filter on each sends its lines to the ingest
   * function. At most two subscription filters per log group are allowed by CloudWatch Logs.
   */
  logGroups: z.array(LogGroupSchema).max(200).default([]),
  table: z
    .strictObject({
      /** A customer managed key; absent: the AWS owned key (free, nothing to manage). */
      kmsKeyArn: KmsKeyArn.optional(),
      /** Regions to replicate the table to (a global table), for cross-region recovery. */
      replicaRegions: z
        .array(z.strictObject({ region: Region, kmsKeyArn: KmsKeyArn.optional() }))
        .default([]),
      /** How far back point-in-time recovery can restore (1 to 35 days). */
      recoveryDays: z.number().int().min(1).max(35).default(35),
    })
    .prefault({})
    .refine(
      (table) => table.replicaRegions.every((replica) => !replica.kmsKeyArn === !table.kmsKeyArn),
      {
        message:
          "a global table's replicas use the same kind of key: give every replica a kmsKeyArn exactly when the table has one",
        path: ["replicaRegions"],
      },
    ),
  /**
   * The stage's secrets (SecureString parameters under `/<app>/<stage>/`, stacks/secrets.ts):
   * the customer managed key they are encrypted with; absent, the AWS managed key `aws/ssm`,
   * which every principal of the account may decrypt through SSM (its key policy), so that
   * `ssm:GetParameter` alone decides who reads them. With a key of your own, its policy decides
   * too.
   */
  secrets: z.strictObject({ kmsKeyArn: KmsKeyArn.optional() }).prefault({}),
  /** Retention of every function's log group and the API's access log. */
  logRetention: Retention.default("1 month"),
  api: z
    .strictObject({
      /** Steady requests per second across the API (API Gateway's token bucket). */
      rateLimit: z.number().int().min(1).max(10_000).default(50),
      burstLimit: z.number().int().min(1).max(5_000).default(100),
      /**
       * The webhook routes (Sentry, Slack) have limits of their own, sized for their bursts, not
       * tighter: a 429 is a lost signal. Sentry gives a webhook 1 s, never retries, and disables
       * an integration whose deliveries keep failing; a bad deploy sends one `error` and one
       * `event_alert` per event across every project at once, hundreds within a second. Burst
       * 500 absorbs such a wave; 200/s refills it within seconds. Each request only verifies a
       * signature and enqueues, so 200/s keeps only a few functions busy at once, and both stay far under API Gateway's account limits (10,000/s, burst 5,000), which every
       * API in the account and region shares.
       */
      webhookRateLimit: z.number().int().min(1).max(10_000).default(200),
      webhookBurstLimit: z.number().int().min(1).max(5_000).default(500),
    })
    .prefault({}),
  processor: z
    .strictObject({
      /**
       * Messages per invocation: a storm folds into one write per fingerprint per batch, so the
       * larger the batch the fewer writes (Lambda also caps a batch at 6 MB of payload).
       */
      batchSize: z.number().int().min(1).max(10_000).default(1000),
      /** How long SQS gathers a batch (seconds, at least 1 when batchSize > 10). */
      batchWindowSeconds: z.number().int().min(0).max(300).default(1),
      /** Most processor invocations at once: bounds DynamoDB write bursts. */
      maxConcurrency: z.number().int().min(2).max(1000).default(10),
    })
    .prefault({})
    .refine((processor) => processor.batchSize <= 10 || processor.batchWindowSeconds >= 1, {
      message: "batchWindowSeconds must be at least 1 when batchSize is over 10 (an SQS rule)",
      path: ["batchWindowSeconds"],
    }),
  alarms: z
    .strictObject({
      /** Page when no signal has been processed for this long (`false`: no heartbeat alarm). */
      heartbeat: z
        .union([DurationSchema, z.literal(false)])
        .prefault("6h")
        .refine(
          (ms) =>
            ms === false ||
            (ms >= 300_000 && ms <= 86_400_000 && ms % (ms > 3_600_000 ? 3_600_000 : 60_000) === 0),
          "between 5m and 24h: whole minutes up to 1h, whole hours above",
        ),
      /** Page when the oldest queued signal is older than this. */
      queueAge: DurationSchema.prefault("5m").refine((ms) => ms >= 60_000, "at least 1m"),
      /** Function errors in five minutes that page (per function). */
      functionErrors: z.number().int().min(1).default(1),
      /** Email addresses subscribed to Firebreak's own alarm topic (each must confirm). */
      emails: z.array(z.email()).default([]),
    })
    .prefault({}),
  /**
   * An AWS Organizations id (`o-...`): every account of the organization may put events on this
   * account's default event bus (its resource policy, `aws:PrincipalOrgID`), so member accounts'
   * alarms, deploys and findings reach this Firebreak. Absent: no bus policy is created.
   */
  organizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, "an organization id such as o-a1b2c3d4e5")
    .optional(),
  /** The incident console: a static site (S3 and CloudFront) calling the API from browsers. */
  console: z.boolean().default(true),
  /** Turn off an integration you do not use: its route, function and secret are not created. */
  integrations: z
    .strictObject({ slack: z.boolean().default(true), sentry: z.boolean().default(true) })
    .prefault({}),
});

export type DeployOptionsInput = z.input<typeof DeployOptionsSchema>;
export type DeployOptions = z.output<typeof DeployOptionsSchema>;

/**
 * Validates deploy options once, naming every bad path, so a typo fails the deploy before
 * anything is created.
 *
 * @example
 * const options = deployOptions({ logGroups: ["/aws/lambda/checkout"], alarms: { heartbeat: "2h" } });
 */
export function deployOptions(input: DeployOptionsInput = {}): DeployOptions {
  const result = DeployOptionsSchema.safeParse(input);
  if (!result.success) {
    throw new Error(`Invalid deploy options: ${formatIssues(result.error, 20)}`);
  }
  return result.data;
}
