import { AWS_REGION_CODE } from "@firebreak/events";

/**
 * The AWS Management Console's host for a region: the regional endpoint in the commercial
 * partition (`us-west-2.console.aws.amazon.com`, AWS General Reference, "AWS Management Console
 * endpoints"), the partition's console in GovCloud and China. The ISO partitions have no public
 * console, so they get none.
 */
function consoleHost(region: string): string | undefined {
  if (region.startsWith("us-gov-")) return "console.amazonaws-us-gov.com";
  if (region.startsWith("cn-")) return "console.amazonaws.cn";
  if (/^[a-z]{2}-iso/.test(region)) return undefined;
  return `${region}.console.aws.amazon.com`;
}

/**
 * A link into the AWS console of `region`, or undefined when `region` is not a region code: the
 * region comes from payloads, and only a code can name no other host.
 *
 * @example
 * ```ts
 * awsConsoleUrl("eu-west-1", "cloudwatch/home", "alarmsV2:alarm/api-5xx");
 * // "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/api-5xx"
 * awsConsoleUrl("evil.example/", "cloudwatch/home", ""); // undefined
 * ```
 */
export function awsConsoleUrl(region: string, path: string, fragment: string): string | undefined {
  if (!AWS_REGION_CODE.test(region)) return undefined;
  const host = consoleHost(region);
  return host ? `https://${host}/${path}?region=${region}#${fragment}` : undefined;
}
