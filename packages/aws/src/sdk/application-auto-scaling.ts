// The application-auto-scaling SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
