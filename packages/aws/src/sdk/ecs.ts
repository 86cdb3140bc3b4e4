// The ecs SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  DescribeServicesCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
