// The auto-scaling SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from "@aws-sdk/client-auto-scaling";
