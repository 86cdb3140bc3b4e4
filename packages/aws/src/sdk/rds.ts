// The rds SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  DescribeDBClustersCommand,
  FailoverDBClusterCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
