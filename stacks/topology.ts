/**
 * Firebreak's topology as plain data: every function, queue, topic, rule, event source, schedule
 * and HTTP route, with the settings AWS applies at each seam. `stacks/` declares the AWS
 * resources from it and `packages/local` wires its emulation from it, so what the local stack
 * runs (and every test and benchmark with it) is the wiring a deploy creates.
 *
 * It imports nothing from SST or Pulumi (the local stack loads it), only the deploy options,
 * which size a few of its settings. Read AWS's documentation before changing a number here: each
 * one is checked against a documented limit in `stacks/test`.
 */
import type { DeployOptions } from "./options";

/** Every Lambda function: its handler (relative to the repository root, as SST takes it). */
export const FUNCTIONS = {
  ingest: {
    handler: "functions/ingest.handler",
    description: "Firebreak: CloudWatch Logs subscriptions and alarm actions to the signal queue",
    memoryMB: 512,
    timeoutSeconds: 30,
    /** Whether the function reads the monitoring policy (its JSON ships beside the handler). */
    policy: true,
  },
  process: {
    handler: "functions/process.handler",
    description: "Firebreak: the signal queue's consumer (correlate, classify, store incidents)",
    memoryMB: 1024,
    timeoutSeconds: 60,
    policy: true,
  },
  "sentry-webhook": {
    handler: "functions/sentry-webhook.handler",
    description: "Firebreak: Sentry integration webhooks to the signal queue",
    memoryMB: 512,
    // Sentry waits 1 s and does not retry: the function verifies and enqueues, nothing more.
    timeoutSeconds: 10,
    // It trusts a hook timestamp only within the policy's incidents.trustedTime.
    policy: true,
  },
  api: {
    handler: "functions/api.handler",
    description: "Firebreak: the incidents API (incidents, silences, reports)",
    memoryMB: 1024,
    // API Gateway HTTP APIs give up on an integration after 30 s.
    timeoutSeconds: 29,
    policy: true,
  },
  slack: {
    handler: "functions/slack.handler",
    description: "Firebreak: the Slack slash command and button presses",
    memoryMB: 1024,
    timeoutSeconds: 10,
    policy: true,
  },
  dispatch: {
    handler: "functions/dispatch.handler",
    description: "Firebreak: runs planned actions (remediations, pages) from the table's stream",
    memoryMB: 512,
    timeoutSeconds: 120,
    policy: true,
  },
  escalations: {
    handler: "functions/escalations.handler",
    description: "Firebreak: the escalation sweep (re-pages, auto-resolves, nudges stuck actions)",
    memoryMB: 512,
    // Under the schedule's one-minute rate, so two sweeps never overlap.
    timeoutSeconds: 50,
    policy: true,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface FunctionSpec {
  handler: string;
  description: string;
  memoryMB: number;
  timeoutSeconds: number;
  policy: boolean;
}

/** SQS queues. A queue with `deadLetter` moves a message there after `maxReceiveCount` receives. */
export interface QueueSpec {
  retentionSeconds: number;
  /** At least six times its consumer's timeout (AWS's advice), checked in stacks/test. */
  visibilityTimeoutSeconds?: number;
  /** `queue` names another entry of QUEUES. */
  deadLetter?: { queue: string; maxReceiveCount: number };
}

const DAY = 86_400;

export const QUEUES = {
  signals: {
    retentionSeconds: 4 * DAY,
    visibilityTimeoutSeconds: 6 * FUNCTIONS.process.timeoutSeconds,
    // Partial batch failures count per message: a bad message is dead-lettered alone.
    deadLetter: { queue: "signalsDeadLetter", maxReceiveCount: 5 },
  },
  /** SQS's maximum: a broken processor can be fixed and its signals redriven within two weeks. */
  signalsDeadLetter: { retentionSeconds: 14 * DAY },
  /** Logs and alarm-action events the ingest function failed on after Lambda's async retries. */
  ingestFailures: { retentionSeconds: 14 * DAY },
  /** Stream batches the dispatcher failed on after the mapping's retries (their batch info). */
  dispatchFailures: { retentionSeconds: 14 * DAY },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof QUEUES;

/** SNS topics and what they deliver to. */
export const TOPICS = {
  /** CloudWatch alarm actions notify it; the SNS envelope reaches the queue as is (not raw). */
  alarms: { subscriptions: [{ protocol: "sqs", queue: "signals", rawMessageDelivery: false }] },
} as const;

/**
 * Incident items with actions waiting carry `gsi2pk = "PENDING#<shard>"` (a string): only they
 * reach the dispatcher. Lambda filters stream records with EventBridge semantics, where `numeric`
 * matches JSON numbers only and a stream record carries every DynamoDB number as a string
 * (`{"N": "1"}`), so the filter matches the string attribute, never the `pending` count.
 */
export const DISPATCH_FILTER = {
  dynamodb: {
    NewImage: {
      pk: { S: [{ prefix: "INC#" }] },
      gsi2pk: { S: [{ prefix: "PENDING" }] },
    },
  },
};

/** The table's stream view type: the dispatcher reads new images. */
export const STREAM_VIEW = "NEW_IMAGE" as const;

export interface QueueEventSource {
  queue: QueueName;
  function: FunctionName;
  batchSize: number;
  /** How long Lambda gathers a batch (SQS requires at least 1 s when batchSize > 10). */
  batchingWindowSeconds: number;
  /** Most concurrent invocations the mapping makes (2 to 1,000). */
  maximumConcurrency: number;
  reportBatchItemFailures: boolean;
  /** EventBridge patterns (Lambda filter criteria): non-matching messages are deleted. */
  filters: ReadonlyArray<object>;
}

export interface StreamEventSource {
  function: FunctionName;
  startingPosition: "LATEST" | "TRIM_HORIZON";
  batchSize: number;
  batchingWindowSeconds: number;
  /** EventBridge patterns over the stream record (ORed, at most 5): non-matching are skipped. */
  filters: ReadonlyArray<object>;
  reportBatchItemFailures: boolean;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  maximumRecordAgeSeconds: number;
  /** Where batches that still fail go (their batch info, not the records). */
  onFailure: QueueName;
}

export interface ScheduleSpec {
  function: FunctionName;
  /** An EventBridge Scheduler expression. */
  expression: string;
  /** Milliseconds between runs, the same expression as a number (the local stack's ticker). */
  everyMs: number;
  retries: number;
}

export interface RouteSpec {
  method: "GET" | "POST" | "DELETE";
  path: string;
  function: FunctionName;
  /** API Gateway route throttling (token bucket): steady requests per second and burst. */
  throttle: { rateLimit: number; burstLimit: number };
}

/** Functions AWS invokes asynchronously: Lambda's retries, and where failures go. */
export interface AsyncInvokeSpec {
  function: FunctionName;
  retries: number;
  onFailure?: QueueName;
}

/** The incidents API's routes: one API Gateway route each, so an unknown path is API Gateway's 404. */
export const API_ROUTES = [
  "GET /incidents",
  "GET /incidents/{id}",
  "POST /incidents/{id}/acknowledge",
  "POST /incidents/{id}/resolve",
  "POST /incidents/{id}/notes",
  "POST /incidents/{id}/actions/{actionId}/approve",
  "POST /incidents/{id}/merge",
  "POST /incidents/{id}/alerts/{alertId}/split",
  "PATCH /incidents/{id}",
  "GET /incidents/{id}/postmortem",
  "GET /incidents/{id}/metrics",
  "GET /reports/summary",
  "GET /silences",
  "POST /silences",
  "DELETE /silences/{id}",
  "POST /incidents/{id}/silence",
  "GET /maintenance",
  "POST /maintenance",
  "DELETE /maintenance/{id}",
  "GET /changes",
  "POST /changes",
  "GET /oncall",
  "GET /schedules/{name}",
  "POST /schedules/{name}/overrides",
  "DELETE /schedules/{name}/overrides/{id}",
  "GET /schedules/{name}/calendar.ics",
  "GET /people/{name}/calendar.ics",
  "GET /openapi.json",
] as const;

export type ApiRouteKey = (typeof API_ROUTES)[number];

/**
 * The escalation sweep's liveness figure, emitted every sweep as CloudWatch Embedded Metric
 * Format in its log: the age in seconds of the oldest incident with actions pending (0 when none
 * is). A self-monitoring alarm pages when it stays high (the dispatcher is not draining) or when
 * it stops arriving (the sweep is not running). The one dimension is the sweep's own function
 * name (`AWS_LAMBDA_FUNCTION_NAME`), so each stage has its own series.
 */
export const PENDING_AGE_METRIC = {
  namespace: "Firebreak",
  name: "PendingActionsOldestAgeSeconds",
  unit: "Seconds",
  dimension: "FunctionName",
} as const;

export const SENTRY_ROUTE = "POST /webhooks/sentry";
export const SLACK_ROUTE = "POST /slack/commands";
/** Slack's interactivity request URL: button presses on pages and cards (the slack function). */
export const SLACK_INTERACTIONS_ROUTE = "POST /slack/interactions";

export interface TopologyInput {
  options: DeployOptions;
  /** Firebreak's own alarms start with it; the alarm rule leaves them out (they page directly). */
  alarmPrefix: string;
}

/**
 * The whole topology for one stage: plain data, the same for `sst deploy` and `npm start`.
 *
 * @example
 * const { queueSources } = topology({ options: deployOptions(), alarmPrefix: "firebreak-dev-" });
 */
export function topology({ options, alarmPrefix }: TopologyInput) {
  const route = (key: string, fn: FunctionName, throttle: RouteSpec["throttle"]): RouteSpec => {
    const [method, path] = key.split(" ") as [RouteSpec["method"], string];
    return { method, path, function: fn, throttle };
  };
  const apiThrottle = { rateLimit: options.api.rateLimit, burstLimit: options.api.burstLimit };
  const webhookThrottle = {
    rateLimit: options.api.webhookRateLimit,
    burstLimit: options.api.webhookBurstLimit,
  };
  const routes: RouteSpec[] = [
    ...API_ROUTES.map((key) => route(key, "api", apiThrottle)),
    ...(options.integrations.sentry
      ? [route(SENTRY_ROUTE, "sentry-webhook", webhookThrottle)]
      : []),
    ...(options.integrations.slack
      ? [
          route(SLACK_ROUTE, "slack", webhookThrottle),
          route(SLACK_INTERACTIONS_ROUTE, "slack", webhookThrottle),
        ]
      : []),
  ];

  const queueSources: QueueEventSource[] = [
    {
      queue: "signals",
      function: "process",
      batchSize: options.processor.batchSize,
      batchingWindowSeconds: options.processor.batchWindowSeconds,
      maximumConcurrency: options.processor.maxConcurrency,
      reportBatchItemFailures: true,
      filters: [],
    },
  ];

  const streamSources: StreamEventSource[] = [
    {
      function: "dispatch",
      // Only what is written from now on: after a redeploy, old work is found by the sweep.
      startingPosition: "LATEST",
      // Lambda's default for streams. With no batching window a quiet stream still hands over
      // each record as it comes; in a storm one invocation takes up to 100 incidents, which
      // share the page budget's write per channel (measured over eight channels: batches of 10
      // cost 2.6 to 3.2 writes and 1.10 to 1.16 invocations per new paging incident, batches of
      // 100 cost 2.1 to 2.3 and 1.02).
      batchSize: 100,
      batchingWindowSeconds: 0,
      filters: [DISPATCH_FILTER],
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      maximumRecordAgeSeconds: 3600,
      onFailure: "dispatchFailures",
    },
  ];

  const schedules = {
    // A missed sweep is made good by the next one a minute later; retries would only overlap.
    escalationSweep: {
      function: "escalations",
      expression: "rate(1 minute)",
      everyMs: 60_000,
      retries: 0,
    } satisfies ScheduleSpec,
  };

  const asyncInvokes: AsyncInvokeSpec[] = [
    // CloudWatch Logs and alarm actions invoke ingest asynchronously.
    { function: "ingest", retries: 2, onFailure: "ingestFailures" },
    { function: "escalations", retries: 0 },
  ];

  /** EventBridge rules on the default bus and the queue each delivers to. */
  const rules = {
    alarmStateChanges: {
      description: "CloudWatch alarm state changes to Firebreak's signal queue",
      pattern: {
        source: ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        detail: { alarmName: [{ "anything-but": { prefix: alarmPrefix } }] },
      },
      queue: "signals" as QueueName,
      // EventBridge's own retry horizon: 24 h and 185 attempts.
      retry: { maximumEventAgeSeconds: DAY, maximumRetryAttempts: 185 },
    },
    /** Findings and AWS Health events (the categories AWS documents; the processor refuses others). */
    securityAndHealth: {
      description:
        "GuardDuty and Security Hub findings and AWS Health events to Firebreak's signal queue",
      pattern: {
        $or: [
          { source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] },
          { source: ["aws.securityhub"], "detail-type": ["Security Hub Findings - Imported"] },
          {
            source: ["aws.health"],
            "detail-type": ["AWS Health Event"],
            detail: {
              eventTypeCategory: [
                "issue",
                "accountNotification",
                "scheduledChange",
                "investigation",
              ],
            },
          },
        ],
      },
      queue: "signals" as QueueName,
      retry: { maximumEventAgeSeconds: DAY, maximumRetryAttempts: 185 },
    },
    /**
     * Deploys, which the processor records as changes: CodeDeploy and ECS deployments that
     * finished, and Lambda alias updates CloudTrail recorded (that needs a trail logging
     * management events). States that deploy nothing are left out here.
     */
    deployChanges: {
      description: "Deploys (CodeDeploy, ECS, Lambda alias updates) to Firebreak's signal queue",
      pattern: {
        $or: [
          {
            source: ["aws.codedeploy"],
            "detail-type": ["CodeDeploy Deployment State-change Notification"],
            detail: { state: ["SUCCESS"] },
          },
          {
            source: ["aws.ecs"],
            "detail-type": ["ECS Deployment State Change"],
            detail: { eventName: ["SERVICE_DEPLOYMENT_COMPLETED"] },
          },
          {
            source: ["aws.lambda"],
            "detail-type": ["AWS API Call via CloudTrail"],
            detail: {
              eventSource: ["lambda.amazonaws.com"],
              eventName: [{ prefix: "UpdateAlias" }],
              errorCode: [{ exists: false }],
            },
          },
        ],
      },
      queue: "signals" as QueueName,
      retry: { maximumEventAgeSeconds: DAY, maximumRetryAttempts: 185 },
    },
  };

  return {
    /** The API stage's default throttle; routes whose throttle differs get their own setting. */
    stageThrottle: apiThrottle,
    functions: FUNCTIONS,
    queues: QUEUES as Record<QueueName, QueueSpec>,
    topics: TOPICS,
    rules,
    queueSources,
    streamSources,
    streamView: STREAM_VIEW,
    schedules,
    asyncInvokes,
    routes,
  };
}

export type Topology = ReturnType<typeof topology>;
