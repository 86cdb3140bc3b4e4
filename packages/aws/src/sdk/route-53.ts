// The route-53 SDK client and the commands Firebreak sends it (./sns.ts says why by name).
export {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
