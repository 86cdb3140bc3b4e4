import * as z from "zod";

/**
 * Display names that CloudWatch writes into the SNS alarm `Region` field, mapped to region codes.
 *
 * CloudWatch renamed "EU (...)" to "Europe (...)" and "Asia Pacific (Osaka-Local)" to
 * "Asia Pacific (Osaka)"; alarms in the wild still carry the old names, so both stay here.
 */
const REGION_DISPLAY_NAMES: Readonly<Record<string, readonly string[]>> = {
  "us-east-1": ["US East (N. Virginia)"],
  "us-east-2": ["US East (Ohio)"],
  "us-west-1": ["US West (N. California)"],
  "us-west-2": ["US West (Oregon)"],
  "af-south-1": ["Africa (Cape Town)"],
  "ap-east-1": ["Asia Pacific (Hong Kong)"],
  "ap-east-2": ["Asia Pacific (Taipei)"],
  "ap-south-1": ["Asia Pacific (Mumbai)"],
  "ap-south-2": ["Asia Pacific (Hyderabad)"],
  "ap-southeast-1": ["Asia Pacific (Singapore)"],
  "ap-southeast-2": ["Asia Pacific (Sydney)"],
  "ap-southeast-3": ["Asia Pacific (Jakarta)"],
  "ap-southeast-4": ["Asia Pacific (Melbourne)"],
  "ap-southeast-5": ["Asia Pacific (Malaysia)"],
  "ap-southeast-6": ["Asia Pacific (New Zealand)"],
  "ap-southeast-7": ["Asia Pacific (Thailand)"],
  "ap-northeast-1": ["Asia Pacific (Tokyo)"],
  "ap-northeast-2": ["Asia Pacific (Seoul)"],
  "ap-northeast-3": ["Asia Pacific (Osaka)", "Asia Pacific (Osaka-Local)"],
  "ca-central-1": ["Canada (Central)"],
  "ca-west-1": ["Canada West (Calgary)"],
  "eu-central-1": ["Europe (Frankfurt)", "EU (Frankfurt)"],
  "eu-central-2": ["Europe (Zurich)", "EU (Zurich)"],
  "eu-west-1": ["Europe (Ireland)", "EU (Ireland)"],
  "eu-west-2": ["Europe (London)", "EU (London)"],
  "eu-west-3": ["Europe (Paris)", "EU (Paris)"],
  "eu-south-1": ["Europe (Milan)", "EU (Milan)"],
  "eu-south-2": ["Europe (Spain)", "EU (Spain)"],
  "eu-north-1": ["Europe (Stockholm)", "EU (Stockholm)"],
  "il-central-1": ["Israel (Tel Aviv)"],
  "me-south-1": ["Middle East (Bahrain)"],
  "me-central-1": ["Middle East (UAE)"],
  "mx-central-1": ["Mexico (Central)"],
  "sa-east-1": ["South America (Sao Paulo)", "South America (São Paulo)"],
  // Outside the commercial partition, but their alarms speak the same SNS format.
  "us-gov-east-1": ["AWS GovCloud (US-East)"],
  "us-gov-west-1": ["AWS GovCloud (US-West)", "AWS GovCloud (US)"],
  "cn-north-1": ["China (Beijing)"],
  "cn-northwest-1": ["China (Ningxia)"],
};

const normalise = (name: string): string => name.trim().replace(/\s+/g, " ").toLowerCase();

const CODE_BY_DISPLAY_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(REGION_DISPLAY_NAMES).flatMap(([code, names]) =>
    names.map((name) => [normalise(name), code] as const),
  ),
);

/**
 * A region code such as `us-east-1`, `us-gov-west-1` or `eu-isoe-west-1`, including regions newer
 * than the table. Nothing else can pass: a region ends up in console links' host names.
 */
export const AWS_REGION_CODE = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** A region code (see {@link AWS_REGION_CODE}), as EventBridge envelopes and alarm actions carry. */
export const AwsRegionSchema = z
  .string()
  .max(32)
  .regex(AWS_REGION_CODE, "Expected an AWS region code such as us-east-1");

/**
 * Maps the display name CloudWatch puts in an SNS alarm's `Region` ("US East (N. Virginia)",
 * "EU (Ireland)", "Europe (Ireland)") to its code; a code is returned unchanged.
 * Returns `undefined` for a name it does not know, so the caller can fall back to the ARN.
 *
 * @example
 * ```ts
 * regionCodeFromDisplayName("EU (Ireland)"); // "eu-west-1"
 * regionCodeFromDisplayName("eu-west-1");    // "eu-west-1"
 * ```
 */
export function regionCodeFromDisplayName(name: string): string | undefined {
  const trimmed = name.trim();
  if (AWS_REGION_CODE.test(trimmed)) return trimmed;
  return CODE_BY_DISPLAY_NAME.get(normalise(trimmed));
}
