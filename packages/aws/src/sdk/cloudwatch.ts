// The cloudwatch SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
