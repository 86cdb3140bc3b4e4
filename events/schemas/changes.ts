import * as z from "zod";

// What deploys look like on EventBridge: CodeDeploy's and ECS's own state-change events, and
// Lambda alias updates recorded by CloudTrail. Plain (stripping) objects, as for alarms: AWS
// adds fields over time, and only the fields Firebreak reads are validated tightly.

const AccountSchema = z.string().regex(/^\d{12}$/, "Expected a 12-digit AWS account id");
const RegionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "Expected a region code");
/** EventBridge and CloudTrail write `2016-06-30T22:06:31Z`; ECS adds milliseconds. */
const EventTimeSchema = z.iso.datetime({ offset: true });
/** A name in AWS: printable, one line. */
const NameSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\p{Cc}\u2028\u2029]+$/u, "no control characters or line breaks");

const envelope = {
  version: z.string(),
  id: z.string().min(1).max(512),
  account: AccountSchema,
  time: EventTimeSchema,
  region: RegionSchema,
  resources: z.array(z.string()),
};

export const CODEDEPLOY_DEPLOYMENT = "CodeDeploy Deployment State-change Notification";
export const ECS_DEPLOYMENT = "ECS Deployment State Change";
export const CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail";

/** CodeDeploy's deployment lifecycle as EventBridge reports it. */
export const CodeDeployDeploymentStateSchema = z.enum([
  "START",
  "SUCCESS",
  "FAILURE",
  "STOP",
  "READY",
]);

/**
 * `CodeDeploy Deployment State-change Notification`. It names the deployment, never the
 * revision it deployed: the change's version is the deployment id.
 */
export const CodeDeployDeploymentEventSchema = z.object({
  ...envelope,
  source: z.literal("aws.codedeploy"),
  "detail-type": z.literal(CODEDEPLOY_DEPLOYMENT),
  detail: z.object({
    region: RegionSchema,
    deploymentId: z.string().regex(/^d-[A-Z0-9]{1,64}$/, "Expected a deployment id like d-A1B2C3"),
    instanceGroupId: z.string().optional(),
    deploymentGroup: NameSchema,
    application: NameSchema,
    state: CodeDeployDeploymentStateSchema,
  }),
});
export type CodeDeployDeploymentEvent = z.infer<typeof CodeDeployDeploymentEventSchema>;

/** An ECS service ARN, new form (`service/<cluster>/<service>`) or old (`service/<service>`). */
export const EcsServiceArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)?$/,
    "Expected an ECS service ARN",
  );

/** `ECS Deployment State Change`: `resources[0]` is the service. */
export const EcsDeploymentEventSchema = z.object({
  ...envelope,
  source: z.literal("aws.ecs"),
  "detail-type": z.literal(ECS_DEPLOYMENT),
  resources: z.tuple([EcsServiceArnSchema], z.string()),
  detail: z.object({
    eventType: z.string(),
    eventName: z.enum([
      "SERVICE_DEPLOYMENT_IN_PROGRESS",
      "SERVICE_DEPLOYMENT_COMPLETED",
      "SERVICE_DEPLOYMENT_FAILED",
    ]),
    deploymentId: z.string().min(1).max(256),
    updatedAt: EventTimeSchema.optional(),
    reason: z.string().max(2048).optional(),
  }),
});
export type EcsDeploymentEvent = z.infer<typeof EcsDeploymentEventSchema>;

const UserIdentitySchema = z.object({
  type: z.string().optional(),
  arn: z.string().optional(),
  userName: z.string().optional(),
  principalId: z.string().optional(),
  sessionContext: z
    .object({ sessionIssuer: z.object({ userName: z.string().optional() }).optional() })
    .optional(),
});

/**
 * A Lambda API call recorded by CloudTrail (`source: aws.lambda`). Event names carry the API
 * version (`UpdateAlias20150331`); a failed call carries `errorCode` and no response.
 */
export const LambdaApiCallEventSchema = z.object({
  ...envelope,
  source: z.literal("aws.lambda"),
  "detail-type": z.literal(CLOUDTRAIL_API_CALL),
  detail: z.object({
    eventSource: z.literal("lambda.amazonaws.com"),
    eventName: z.string().min(1).max(128),
    eventID: z.string().min(1).max(128),
    eventTime: EventTimeSchema,
    awsRegion: RegionSchema,
    userIdentity: UserIdentitySchema.optional(),
    errorCode: z.string().optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
    responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});
export type LambdaApiCallEvent = z.infer<typeof LambdaApiCallEventSchema>;

/** What `UpdateAlias` asked for: `functionName` may be a name, a partial or a full ARN. */
export const UpdateAliasParametersSchema = z.object({
  functionName: NameSchema,
  name: NameSchema,
  /** Absent when only the description or the routing changed. */
  functionVersion: z
    .string()
    .regex(/^(\$LATEST|\d+)$/)
    .optional(),
});
export type UpdateAliasParameters = z.infer<typeof UpdateAliasParametersSchema>;
