// The codedeploy SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
