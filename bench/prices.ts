/**
 * Published on-demand prices of US East (N. Virginia), us-east-1, used by the benchmark's dollars
 * per million signals. Free tiers are left out: they matter to a small account and not at all to
 * a cost per million. Checked on 2026-12-02 against stored copies of public pages (this machine
 * has no route to AWS's own pricing pages; re-check before quoting, prices move, mostly down):
 * - Lambda: $0.20 per million requests, Arm $0.0000133334 per GB-s for the first 7.5 billion
 *   GB-s a month (AWS's "Introducing tiered pricing for AWS Lambda" post and two 2026 guides);
 * - DynamoDB on-demand: $0.625 per million write and $0.125 per million read request units, the
 *   prices since AWS halved them in November 2024 (AWS's on-demand page gives the units; airbyte's
 *   2025 guide the figures);
 * - SQS standard $0.40 per million requests, each 64 KB chunk one request (three 2026 guides);
 * - HTTP APIs $1.00 per million for the first 300 million (AWS's API Gateway pricing page and
 *   three guides); SNS $0.50 per million publishes and t4g.small $0.0168 an hour: not found in the
 *   stored copies, from AWS's pages as last read.
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
