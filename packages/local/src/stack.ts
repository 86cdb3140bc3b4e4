import { AsyncLocalStorage } from "node:async_hooks";
import * as crypto from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import {
  AccountAccess,
  AwsSdkGateway,
  cloudWatchInAccounts,
  DynamoDbChangeStore,
  DynamoDbIncidentStore,
  DynamoDbOverrideStore,
  DynamoDbReplayGuard,
  DynamoDbSignalCounters,
  DynamoDbSilenceStore,
  DynamoDbVersionedItems,
  sdkSts,
} from "@firebreak/aws";
import {
  type ApiToken,
  type AppPorts,
  type ChangeStore,
  type Clock,
  composeApp,
  digest,
  type EventRoute,
  GuardKeeper,
  type IncidentChange,
  type Logger,
  type MessageQueue,
  type MonitoringConfig,
  PageBudgetKeeper,
  Policy,
  type Signal,
} from "@firebreak/core";
import { createApiHandler } from "@firebreak/functions/api";
import { createDispatchHandler } from "@firebreak/functions/dispatch";
import { createEscalationsHandler } from "@firebreak/functions/escalations";
import { createIngestHandler } from "@firebreak/functions/ingest";
import { createProcessHandler } from "@firebreak/functions/process";
import { createSentryWebhookHandler } from "@firebreak/functions/sentry-webhook";
import { createSlackHandler } from "@firebreak/functions/slack";
import { DEPLOY } from "@firebreak/stacks/deploy";
import { type DeployOptionsInput, deployOptions } from "@firebreak/stacks/options";
import { type FunctionName, type Topology, topology } from "@firebreak/stacks/topology";
import type { Context } from "aws-lambda";
import { anyPatternMatcher, validatePattern } from "./content-filter";
import {
  type CapacityUnits,
  type EmbeddedDynamoDb,
  type EmbeddedDynamoDbOptions,
  ensureTable,
  localDynamoDbClient,
  type RequestCounts,
  startEmbeddedDynamoDb,
} from "./embedded-dynamodb";
import { type FaultPlan, type InjectedFaults, injectFaults } from "./faults";
import { lambdaContext } from "./lambda";
import { OutboxPager } from "./outbox";
import { LocalQueue, type LocalQueueOptions, type QueuedMessage } from "./queue";
import { startServer } from "./server";
import { SimulatedAws } from "./simulated-aws";
import {
  mappingSettings,
  StreamEventSourceMapping,
  type StreamInvocationRecord,
} from "./stream-mapping";
import { Ticker } from "./ticker";

export const TABLE_NAME = "firebreak";
export const LOCAL_REGION = "us-east-1";
const LOCAL_ACCOUNT = "000000000000";
/** The alarm prefix the local stage's own alarms would carry (the rule leaves them out). */
const ALARM_PREFIX = "firebreak-local-";

export interface LocalSecrets {
  apiTokens: ApiToken[];
  sentryClientSecret: string;
  slackSigningSecret: string;
  /** The iCalendar feeds' token; absent, an unguessable one (the feeds answer no one). */
  calendarToken?: string;
}

export interface LocalStackOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** Where DynamoDB data and the queue journal live; null keeps everything in memory. */
  dataDir: string | null;
  config: MonitoringConfig;
  secrets: LocalSecrets;
  /** Use this DynamoDB endpoint instead of starting the embedded one. */
  dynamodbEndpoint?: string;
  /**
   * The embedded DynamoDB: dynalite in its own process (default: a core of its own) or in this
   * one, or AWS's DynamoDB Local (needs Java 17). `FIREBREAK_DYNAMODB=dynamodb-local` picks the
   * latter for every stack a test starts (CI runs the suites against both).
   */
  dynamodb?: EmbeddedDynamoDbOptions["engine"];
  dynamodbProcess?: "child" | "same";
  /**
   * Time of the queue's emulation, shrunk for tests (visibility timeouts and batching windows
   * are the deployed ones, times this factor). Default 1: as deployed.
   */
  queue?: Pick<LocalQueueOptions, "timeScale" | "lingerWhenIdle">;
  /**
   * `simulated` (default): remediation runs against a local model and pages go to the outbox.
   * `live`: remediation calls AWS with the credentials in the environment.
   */
  remediation?: "simulated" | "live";
  /**
   * How long the processor keeps active silences: as in AWS by default (`SILENCE_CACHE_MS`);
   * tests that create a silence and send a signal at once set 0.
   */
  silenceCacheMs?: number;
  /** Errors to inject into DynamoDB calls (the reliability suite). */
  faults?: FaultPlan;
  /**
   * How often the escalation schedule runs (AWS: every minute; locally every second by default,
   * so short durations can be tried) and the dispatcher's wait before retrying an action.
   */
  intervals?: { escalationsMs?: number; actionRetryMs?: number };
  /**
   * The application's time (the functions' clock; queue, stream and HTTP throttles keep real
   * time). A test moves it forward to reach what AWS does minutes later, such as the sweep
   * nudging an action whose stream record was lost. Default: the system clock.
   */
  clock?: Clock;
  /**
   * Deploy options in place of this repository's (`stacks/deploy.ts`): a suite that floods the
   * API runs with the throttles a deploy for that load would set, as it would in AWS.
   */
  deploy?: DeployOptionsInput;
  /** The stack's own console lines (incidents opened and resolved...). */
  logger: Logger;
  /**
   * The account the stack plays Firebreak's own: a remediation for any other account outside
   * `accounts` is then skipped (no role), as in AWS. Unset, accounts outside `accounts` are
   * taken as its own, so sample payloads from any account remediate.
   */
  homeAccount?: string;
}

export interface LocalDelivery {
  raw: unknown;
  route: EventRoute;
  signals?: Signal[];
}

/** A Lambda handler as the invoke API and the local triggers call it. */
export type LambdaFunction = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalStack {
  url: string;
  topology: Topology;
  queue: LocalQueue;
  store: DynamoDbIncidentStore;
  dynamodbEndpoint: string;
  functions: Record<FunctionName, LambdaFunction>;
  /** DynamoDB requests sent so far, by operation (the benchmarks' requests per event). */
  dynamodbRequests: RequestCounts;
  /** Capacity units those requests consumed (the benchmarks' DynamoDB dollars). */
  dynamodbUnits: CapacityUnits;
  /** Invocations of each function so far (the benchmarks' Lambda invocations per event). */
  invocations: Record<string, number>;
  /** Milliseconds each function has run so far, summed (the benchmarks' Lambda durations). */
  invocationMs: Record<string, number>;
  /** Pages, as they would have gone out. */
  outbox: OutboxPager;
  /** The model remediation acts on locally, and every call it answered. */
  simulation: SimulatedAws;
  /** The dispatcher's stream event source mapping (records read, filtered, retried...). */
  stream: StreamEventSourceMapping;
  /** Stream batches the dispatcher failed on after retries (the on-failure destination). */
  dispatchFailures: StreamInvocationRecord[];
  /** What fault injection (`faults`) has injected so far. */
  injectedFaults: InjectedFaults | null;
  /**
   * Stops the embedded DynamoDB for `downMs`, then starts it again on the same port and data
   * (the reliability suite's outage). Needs a DATA_DIR, or the data is gone.
   */
  restartDynamoDb(downMs: number): Promise<void>;
  /** Waits until every stream record written so far and the running sweep are handled. */
  settle(): Promise<void>;
  /**
   * Sends validated raw events along their AWS path (EventBridge through the rule's pattern,
   * SNS envelopes to the queue, the rest through `ingest`); resolves with the queue message
   * ids they made. Those `ingest` queued are captured only with `capture` (for `?wait=true`).
   */
  deliver(events: ReadonlyArray<LocalDelivery>, options?: { capture: boolean }): Promise<string[]>;
  /** Runs a function, collecting the ids of the queue messages it sent (for `?wait=true`). */
  capturingQueued<T>(run: () => Promise<T>): Promise<{ result: T; queued: string[] }>;
  /** The incidents each processed message touched (for `?wait=true`). */
  incidentsOf(messageIds: ReadonlyArray<string>): string[];
  stop(): Promise<void>;
}

/**
 * The whole of Firebreak on one machine, wired from the deployed topology
 * (`stacks/topology.ts`): the same functions, built by the same composition root, behind the
 * same routes, event sources and schedules, each emulated with AWS's semantics (the README's
 * mapping table says where that stops).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config, secrets, logger } = options;
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const deployed = topology({
    options: deployOptions(options.deploy ?? DEPLOY),
    alarmPrefix: ALARM_PREFIX,
  });
  for (const source of deployed.streamSources) source.filters.forEach(validatePattern);
  for (const source of deployed.queueSources) source.filters.forEach(validatePattern);

  const embeddedOptions: EmbeddedDynamoDbOptions = {
    path: options.dataDir ? join(options.dataDir, "dynamodb") : undefined,
    process: options.dynamodbProcess ?? "child",
    engine: options.dynamodb,
  };
  let embedded: EmbeddedDynamoDb | undefined = options.dynamodbEndpoint
    ? undefined
    : await startEmbeddedDynamoDb(embeddedOptions);
  const dynamodbEndpoint = options.dynamodbEndpoint ?? (embedded as EmbeddedDynamoDb).endpoint;
  const dynamodbRequests: RequestCounts = {};
  const dynamodbUnits: CapacityUnits = { read: 0, write: 0 };
  const client = localDynamoDbClient(dynamodbEndpoint, dynamodbRequests, dynamodbUnits);
  await ensureTable(client, TABLE_NAME, { streamViewType: deployed.streamView });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE_NAME }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${TABLE_NAME} has no stream`);
  const streamArn = Table.LatestStreamArn;
  const injectedFaults = options.faults ? injectFaults(client, options.faults) : null;
  const store = new DynamoDbIncidentStore({ client, tableName: TABLE_NAME, config });
  const silences = new DynamoDbSilenceStore(client, TABLE_NAME);

  const signalSource = deployed.queueSources[0];
  if (!signalSource) throw new Error("the topology has no queue event source");
  const signalQueue = deployed.queues[signalSource.queue];
  if (!signalQueue.visibilityTimeoutSeconds || !signalQueue.deadLetter) {
    throw new Error(`queue ${signalSource.queue} has no visibility timeout or dead-letter queue`);
  }
  const queue = await LocalQueue.open({
    journalPath: options.dataDir ? join(options.dataDir, "queue.log") : undefined,
    logger,
    batchSize: signalSource.batchSize,
    batchWindowMs: signalSource.batchingWindowSeconds * 1000,
    maximumConcurrency: signalSource.maximumConcurrency,
    visibilityTimeoutMs: signalQueue.visibilityTimeoutSeconds * 1000,
    maxReceiveCount: signalQueue.deadLetter.maxReceiveCount,
    filters: signalSource.filters.map((pattern) => JSON.stringify(pattern)),
    ...options.queue,
  });

  // The ids of messages an invocation queued, so `?wait=true` can wait for them. In use, an
  // AsyncLocalStorage turns on Node's promise hooks for every promise in the process (about a
  // tenth of the stack's CPU in a storm of new incidents), so it runs only around the
  // invocations that capture, and is disabled whenever none is running.
  const sent = new AsyncLocalStorage<string[]>();
  let capturing = 0;
  const queuePort: MessageQueue = {
    send: async (bodies) => {
      const ids = await queue.send(bodies);
      sent.getStore()?.push(...ids);
    },
  };

  // Responses: remediation against the local model (or AWS), pages to the outbox.
  const simulation = new SimulatedAws(() => options.clock?.now() ?? Date.now(), {
    accounts: config.accounts,
    homeAccount: options.homeAccount,
  });
  for (const rule of config.rules) {
    for (const action of rule.actions) {
      if (action.type === "failover" && action.target.kind === "route53-weights") {
        const { hostedZoneId, recordName, primary, secondary } = action.target;
        simulation.seedWeights(hostedZoneId, recordName, primary, secondary);
      }
    }
  }
  const live = options.remediation === "live";
  const liveRegion = process.env.AWS_REGION ?? LOCAL_REGION;
  // Live, member accounts are reached through their roles with the developer's credentials.
  const liveAccounts = live
    ? new AccountAccess({ accounts: config.accounts, sts: sdkSts(liveRegion) })
    : null;
  const outbox = new OutboxPager(logger);
  let baseUrl = "";
  const processedIncidents = new Map<string, string[]>();
  const policy = new Policy(config);

  const ports: AppPorts = {
    clock: options.clock ?? { now: () => Date.now() },
    region: LOCAL_REGION,
    logger: () => logger,
    policy: async () => policy,
    store: async () => store,
    silences: async () => silences,
    queue: async () => queuePort,
    responders: async () => ({
      guards: new GuardKeeper(new DynamoDbVersionedItems(client, TABLE_NAME)),
      pageBudget: await ports.pageBudget(),
      gateway: liveAccounts
        ? new AwsSdkGateway({ region: liveRegion, accounts: liveAccounts })
        : simulation,
      pager: outbox,
      mode: live ? "live" : "simulated",
      consoleUrl: (id) => `${baseUrl}/incidents/${id}`,
      ...(options.intervals?.actionRetryMs
        ? { backoffMs: () => options.intervals?.actionRetryMs as number }
        : {}),
    }),
    pageBudget: async () => new PageBudgetKeeper(new DynamoDbVersionedItems(client, TABLE_NAME)),
    apiTokens: async () => secrets.apiTokens,
    sentryClientSecret: async () => secrets.sentryClientSecret,
    slackSigningSecret: async () => secrets.slackSigningSecret,
    replays: async () => new DynamoDbReplayGuard(client, TABLE_NAME, ports.clock),
    overrides: async () => new DynamoDbOverrideStore(client, TABLE_NAME),
    calendarToken: async () =>
      secrets.calendarToken ?? crypto.randomBytes(24).toString("base64url"),
    cloudwatch: async () =>
      liveAccounts ? cloudWatchInAccounts(liveRegion, liveAccounts) : simulation.cloudwatch,
    changes: async () => {
      const changes = new DynamoDbChangeStore({
        client,
        tableName: TABLE_NAME,
        retentionMs: config.incidents.retention,
        clock: ports.clock,
      });
      return live ? changes : followedBy(simulation, changes);
    },
    counters: async () =>
      new DynamoDbSignalCounters({
        client,
        tableName: TABLE_NAME,
        retentionMs: config.incidents.retention,
        clock: ports.clock,
      }),
    silenceCacheMs: options.silenceCacheMs,
    listener: {
      processed(messageId, incidentIds) {
        processedIncidents.set(messageId, incidentIds);
        if (processedIncidents.size > 100_000) {
          processedIncidents.delete(processedIncidents.keys().next().value as string);
        }
      },
      changed(changes) {
        for (const change of changes) announce(change, logger);
      },
    },
  };
  const app = composeApp(ports);
  const handlers: Record<FunctionName, LambdaFunction> = {
    ingest: createIngestHandler(app.ingest),
    process: createProcessHandler(app.process),
    "sentry-webhook": createSentryWebhookHandler(app.sentryWebhook),
    api: createApiHandler(app.api),
    slack: createSlackHandler(app.slack, (post) => outbox.respond(post)),
    dispatch: createDispatchHandler(app.dispatch),
    escalations: createEscalationsHandler(app.escalations),
  } as Record<FunctionName, LambdaFunction>;
  const invocations: Record<string, number> = {};
  const invocationMs: Record<string, number> = {};
  const functions = Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      async (event: unknown, context: Context) => {
        invocations[name] = (invocations[name] ?? 0) + 1;
        const started = performance.now();
        try {
          return await handler(event, context);
        } finally {
          invocationMs[name] = (invocationMs[name] ?? 0) + performance.now() - started;
        }
      },
    ]),
  ) as Record<FunctionName, LambdaFunction>;
  const context = (name: FunctionName) =>
    lambdaContext(name, deployed.functions[name].timeoutSeconds * 1000);

  // The table's stream, as the deployed event source mapping reads it: dispatch runs only on
  // the records the deployed filter lets through.
  const streamSource = deployed.streamSources[0];
  if (!streamSource) throw new Error("the topology has no stream event source");
  const dispatchFailures: StreamInvocationRecord[] = [];
  const stream = new StreamEventSourceMapping(
    new DynamoDBStreamsClient({
      endpoint: dynamodbEndpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    }),
    streamArn,
    {
      ...mappingSettings(streamSource),
      DestinationConfig: {
        OnFailure: (record) => {
          dispatchFailures.push(record);
          logger.warn("dispatch: a stream batch failed after retries", {
            batch: record.DDBStreamBatchInfo,
          });
        },
      },
      invoke: (event) => functions[streamSource.function](event, context(streamSource.function)),
      logger,
    },
  );

  // The escalation schedule: every second by default here (the deployed rate is a minute).
  const schedule = deployed.schedules.escalationSweep;
  const escalating = new Ticker(
    "escalations",
    options.intervals?.escalationsMs ?? 1000,
    async () => {
      await functions[schedule.function](
        { source: "aws.scheduler", "detail-type": "Scheduled Event" },
        context(schedule.function),
      );
    },
    logger,
  );

  queue.start((messages) =>
    functions[signalSource.function](
      sqsEvent(messages, signalSource.queue),
      context(signalSource.function),
    ),
  );

  const capturingQueued: LocalStack["capturingQueued"] = async (run) => {
    const queued: string[] = [];
    capturing += 1;
    try {
      const result = await sent.run(queued, run);
      return { result, queued };
    } finally {
      capturing -= 1;
      if (capturing === 0) sent.disable();
    }
  };

  // The rule table compiled once: an event is flattened once for all of its patterns.
  const anyRuleMatches = anyPatternMatcher(
    Object.values(deployed.rules).map((rule) => rule.pattern),
  );
  const deliver: LocalStack["deliver"] = async (events, options = { capture: true }) => {
    // AWS changed first (the alarm's state, the alias), then told Firebreak. EventBridge
    // delivers what one of its rules' patterns matches, nothing else; SNS delivers the envelope
    // to its subscribed queue; the rest is pushed to `ingest` by AWS.
    const direct: string[] = [];
    let pushed = false;
    for (const event of events) {
      simulation.observe(event.raw);
      if (event.route !== "queue") pushed = true;
      else if (!isEventBridgeEvent(event.raw) || anyRuleMatches(event.raw)) {
        direct.push(JSON.stringify(event.raw));
      }
    }
    const ids = direct.length ? await queue.send(direct) : [];
    if (!pushed) return ids;
    for (const event of events) {
      if (event.route !== "ingest") continue;
      const invoke = () => functions.ingest(event.raw, context("ingest"));
      if (!options.capture) await invoke();
      else ids.push(...(await capturingQueued(invoke)).queued);
    }
    return ids;
  };

  const stack: Omit<LocalStack, "url" | "stop"> = {
    topology: deployed,
    queue,
    store,
    dynamodbEndpoint,
    functions,
    dynamodbRequests,
    dynamodbUnits,
    invocations,
    invocationMs,
    injectedFaults,
    stream,
    dispatchFailures,
    async restartDynamoDb(downMs) {
      if (!embedded) throw new Error("DynamoDB is not embedded in this stack");
      const port = Number(new URL(dynamodbEndpoint).port);
      await embedded.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      embedded = await startEmbeddedDynamoDb({ ...embeddedOptions, port });
    },
    outbox,
    simulation,
    settle: async () => {
      await escalating.settled();
      await stream.settled();
    },
    deliver,
    capturingQueued,
    incidentsOf: (messageIds) => [
      ...new Set(messageIds.flatMap((id) => processedIncidents.get(id) ?? [])),
    ],
  };
  const server = await startServer(stack, {
    port: options.port,
    host: options.host ?? "127.0.0.1",
    functions,
    routes: deployed.routes,
    policy,
    logger,
    apiTokens: secrets.apiTokens,
    live,
  });

  baseUrl = server.url;
  await stream.start();
  escalating.start();

  return {
    ...stack,
    url: server.url,
    async stop() {
      await server.close();
      await escalating.stop();
      await queue.stop();
      await stream.stop();
      client.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * The change store, with the simulated targets moving to each change recorded: a change says a
 * deploy happened (`POST /changes` reports one the simulation did not see as an event).
 */
function followedBy(simulation: SimulatedAws, changes: ChangeStore): ChangeStore {
  return {
    list: (query) => changes.list(query),
    async record(change, dedupe) {
      const recorded = await changes.record(change, dedupe);
      if (recorded.created) simulation.applyChange(recorded.change);
      return recorded;
    },
  };
}

const isEventBridgeEvent = (raw: unknown) =>
  typeof raw === "object" && raw !== null && "detail-type" in raw;

/** Prints what a newcomer wants to see happen: incidents opening and resolving. */
function announce(change: IncidentChange, logger: Logger): void {
  const { incident } = change.record;
  for (const event of change.events) {
    if (event.type === "opened") {
      logger.info(`incident ${incident.id} opened: [${incident.severity}] ${incident.title}`, {
        source: incident.source,
        rule: incident.rule,
        flapping: incident.flapping,
      });
    } else if (event.type === "resolved") {
      logger.info(
        `incident ${incident.id} resolved by ${event.by} after ${incident.count} signal(s)`,
      );
    } else if (event.type === "severity-raised") {
      logger.info(`incident ${incident.id} raised from ${event.from} to ${event.to}`);
    }
  }
}

/** Queue messages as the SQS event source mapping hands them to the processor. */
function sqsEvent(messages: ReadonlyArray<QueuedMessage>, queueName: string) {
  return {
    Records: messages.map((message) => ({
      messageId: message.id,
      receiptHandle: message.receiptHandle ?? message.id,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: LOCAL_ACCOUNT,
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
      },
      messageAttributes: {},
      md5OfBody: digest("md5", message.body, "hex"),
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queueName}`,
      awsRegion: LOCAL_REGION,
    })),
  };
}
