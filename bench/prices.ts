/**
 * Published on-demand prices of US East (N. Virginia), us-east-1, used by the benchmark's dollars
 * per million signals. Written 2026-12-02 from AWS's public pricing pages below (this machine has
 * no route to them: re-check before quoting, prices move, mostly down). Free tiers are left out:
 * they matter to a small account and not at all to a cost per million.
 */
export const PRICES = {
  region: "us-east-1",
  writtenOn: "2026-12-02",
  lambda: {
    source: "https://aws.amazon.com/lambda/pricing/",
    /** Per request (invocation): $0.20 per million. */
    perRequest: 0.2 / 1e6,
    /** Arm (Graviton), the functions' architecture, first 7.5 billion GB-s a month. */
    perGbSecondArm: 0.0000133334,
  },
  dynamodb: {
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    /** On-demand, Standard table class: $0.625 per million write request units (1 KB each). */
    perWriteUnit: 0.625 / 1e6,
    /** $0.125 per million read request units (a 4 KB strongly consistent read each). */
    perReadUnit: 0.125 / 1e6,
    /** Lambda's reads of the table's stream for a trigger are free (GetRecords by Lambda). */
    streamReadsByLambda: 0,
  },
  sqs: {
    source: "https://aws.amazon.com/sqs/pricing/",
    /** Standard queue: $0.40 per million requests, each 64 KB chunk of a payload one request. */
    perRequest: 0.4 / 1e6,
  },
  sns: {
    source: "https://aws.amazon.com/sns/pricing/",
    /** $0.50 per million publishes (deliveries to email, SMS, HTTP are priced apart). */
    perPublish: 0.5 / 1e6,
  },
  apiGateway: {
    source: "https://aws.amazon.com/api-gateway/pricing/",
    /** HTTP APIs: $1.00 per million requests (first 300 million a month, 512 KB each). */
    perHttpRequest: 1.0 / 1e6,
  },
  eventBridge: {
    source: "https://aws.amazon.com/eventbridge/pricing/",
    /** AWS service events (CloudWatch alarm state changes) on the default bus: free. */
    perAwsServiceEvent: 0,
  },
  ec2: {
    source: "https://aws.amazon.com/ec2/pricing/on-demand/",
    /** t4g.small (2 vCPU, 2 GiB), Linux, on-demand, per hour. */
    t4gSmallPerHour: 0.0168,
    /** gp3 storage per GB-month (an 8 GB root volume). */
    gp3PerGbMonth: 0.08,
  },
} as const;

/** Hours in AWS's billing month (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;
