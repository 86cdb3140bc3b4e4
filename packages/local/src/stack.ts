import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  AwsSdkGateway,
  DynamoDbIncidentStore,
  DynamoDbSilenceStore,
  DynamoDbVersionedItems,
} from "@firebreak/aws";
import {
  type ApiToken,
  Correlator,
  Dispatcher,
  type EventRoute,
  GuardKeeper,
  type IncidentChange,
  type Logger,
  type MessageQueue,
  type MonitoringConfig,
  Policy,
  planResponses,
  type Signal,
  SilenceCache,
  systemClock,
} from "@firebreak/core";
import type { Context } from "aws-lambda";
import { createApiHandler } from "../../../functions/api";
import { createDispatchHandler } from "../../../functions/dispatch";
import { createEscalationsHandler } from "../../../functions/escalations";
import { createIngestHandler } from "../../../functions/ingest";
import { createProcessHandler } from "../../../functions/process";
import { createSentryWebhookHandler } from "../../../functions/sentry-webhook";
import { createSlackHandler } from "../../../functions/slack";
import {
  type EmbeddedDynamoDb,
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
import { Ticker } from "./ticker";

export const TABLE_NAME = "firebreak";
export const LOCAL_REGION = "us-east-1";
const QUEUE_ARN = `arn:aws:sqs:${LOCAL_REGION}:000000000000:firebreak-signals`;

export interface LocalSecrets {
  apiTokens: ApiToken[];
  sentryClientSecret: string;
  slackSigningSecret: string;
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
  /** The embedded DynamoDB in its own process (default: a core of its own) or in this one. */
  dynamodbProcess?: "child" | "same";
  queue?: Pick<
    LocalQueueOptions,
    "batchSize" | "batchWindowMs" | "idleWindowMs" | "maxReceiveCount" | "retryDelayMs"
  >;
  /**
   * `simulated` (default): remediation runs against a local model and pages go to the outbox.
   * `live`: remediation calls AWS with the credentials in the environment.
   */
  remediation?: "simulated" | "live";
  /** Errors to inject into DynamoDB calls (the reliability suite). */
  faults?: FaultPlan;
  /**
   * How often the escalation sweep and the dispatcher poll run (AWS: every minute / stream),
   * and the dispatcher's wait before retrying an action (tests make them short).
   */
  intervals?: { escalationsMs?: number; dispatchMs?: number; actionRetryMs?: number };
  /** The stack's own console lines (incidents opened and resolved...). */
  logger: Logger;
}

export interface LocalDelivery {
  raw: unknown;
  route: EventRoute;
  signals: Signal[];
}

/** A Lambda handler as the invoke API and the local triggers call it. */
export type LambdaFunction = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalStack {
  url: string;
  queue: LocalQueue;
  store: DynamoDbIncidentStore;
  dynamodbEndpoint: string;
  functions: Record<string, LambdaFunction>;
  /** DynamoDB requests sent so far, by operation (the benchmarks' requests per event). */
  dynamodbRequests: RequestCounts;
  /** Invocations of each function so far (the benchmarks' Lambda invocations per event). */
  invocations: Record<string, number>;
  /** Pages, as they would have gone out. */
  outbox: OutboxPager;
  /** The model remediation acts on locally, and every call it answered. */
  simulation: SimulatedAws;
  /** What fault injection (`faults`) has injected so far. */
  injectedFaults: InjectedFaults | null;
  /**
   * Stops the embedded DynamoDB for `downMs`, then starts it again on the same port and data
   * (the reliability suite's outage). Needs a DATA_DIR, or the data is gone.
   */
  restartDynamoDb(downMs: number): Promise<void>;
  /** Asks the dispatcher to look for pending actions now (after an API change, say). */
  kick(): void;
  /** Waits for the running dispatch and escalation passes to finish. */
  settle(): Promise<void>;
  /**
   * Sends validated raw events along their AWS path (with the signals validation found, so the
   * processor need not parse them again); resolves with the queue message ids they made.
   */
  deliver(events: ReadonlyArray<LocalDelivery>): Promise<string[]>;
  /** Runs a function, collecting the ids of the queue messages it sent (for `?wait=true`). */
  capturingQueued<T>(run: () => Promise<T>): Promise<{ result: T; queued: string[] }>;
  /** The incidents each processed message touched (for `?wait=true`). */
  incidentsOf(messageIds: ReadonlyArray<string>): string[];
  stop(): Promise<void>;
}

/**
 * The whole of Firebreak on one machine: embedded DynamoDB, the durable local queue feeding the
 * processor, and the very handlers deployed to Lambda, behind one HTTP server.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config, secrets, logger } = options;
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });

  const embeddedOptions = {
    path: options.dataDir ? join(options.dataDir, "dynamodb") : undefined,
    process: options.dynamodbProcess ?? "child",
  } as const;
  let embedded: EmbeddedDynamoDb | undefined = options.dynamodbEndpoint
    ? undefined
    : await startEmbeddedDynamoDb(embeddedOptions);
  const dynamodbEndpoint = options.dynamodbEndpoint ?? (embedded as EmbeddedDynamoDb).endpoint;
  const dynamodbRequests: RequestCounts = {};
  const client = localDynamoDbClient(dynamodbEndpoint, dynamodbRequests);
  await ensureTable(client, TABLE_NAME);
  const injectedFaults = options.faults ? injectFaults(client, options.faults) : null;
  const store = new DynamoDbIncidentStore({ client, tableName: TABLE_NAME });

  const queue = await LocalQueue.open({
    journalPath: options.dataDir ? join(options.dataDir, "queue.log") : undefined,
    logger,
    ...options.queue,
  });

  // The ids of messages an ingest invocation queued, so `?wait=true` can wait for them.
  const sent = new AsyncLocalStorage<string[]>();
  const queuePort: MessageQueue = {
    send: async (bodies) => {
      const ids = await queue.send(bodies);
      sent.getStore()?.push(...ids);
    },
  };

  const policy = new Policy(config);
  const silences = new DynamoDbSilenceStore(client, TABLE_NAME);
  const silenceCache = new SilenceCache(silences, 1000);
  const correlator = new Correlator({
    store,
    policy,
    clock: systemClock,
    logger,
    respond: async (record, events, now) =>
      planResponses(record, events, {
        config,
        now,
        region: LOCAL_REGION,
        silences: await silenceCache.active(now),
      }),
  });

  // Responses: remediation against the local model (or AWS), pages to the outbox.
  const simulation = new SimulatedAws();
  for (const rule of config.rules) {
    for (const action of rule.actions) {
      if (action.type === "failover" && action.target.kind === "route53-weights") {
        const { hostedZoneId, recordName, primary, secondary } = action.target;
        simulation.seedWeights(hostedZoneId, recordName, primary, secondary);
      }
    }
  }
  const live = options.remediation === "live";
  const outbox = new OutboxPager(logger);
  let baseUrl = "";
  const dispatcher = new Dispatcher({
    store,
    guards: new GuardKeeper(new DynamoDbVersionedItems(client, TABLE_NAME)),
    gateway: live
      ? new AwsSdkGateway({ region: process.env.AWS_REGION ?? LOCAL_REGION })
      : simulation,
    pager: outbox,
    clock: systemClock,
    config,
    mode: live ? "live" : "simulated",
    region: LOCAL_REGION,
    consoleUrl: (id) => `${baseUrl}/incidents/${id}`,
    backoffMs: options.intervals?.actionRetryMs
      ? () => options.intervals?.actionRetryMs as number
      : undefined,
    logger,
  });
  const processedIncidents = new Map<string, string[]>();
  // Signals of queued messages, decoded when /local/events validated them; consumed once.
  const decoded = new Map<string, Signal[]>();
  const predecoded = (messageId: string) => {
    const signals = decoded.get(messageId);
    decoded.delete(messageId);
    return signals;
  };
  const observer = {
    processed(messageId: string, incidentIds: string[]) {
      processedIncidents.set(messageId, incidentIds);
      if (processedIncidents.size > 100_000) {
        processedIncidents.delete(processedIncidents.keys().next().value as string);
      }
    },
    changed(changes: IncidentChange[]) {
      for (const change of changes) announce(change, logger);
      if (
        changes.some((change) =>
          change.record.actions.some((action) => action.status === "planned"),
        )
      ) {
        dispatching.kick();
      }
    },
  };

  const functions: Record<string, LambdaFunction> = {
    ingest: createIngestHandler(async () => ({ policy, queue: queuePort, region: LOCAL_REGION })),
    process: createProcessHandler(async () => ({
      correlator,
      policy,
      region: LOCAL_REGION,
      observer,
      predecoded,
    })),
    "sentry-webhook": createSentryWebhookHandler(async () => ({
      queue: queuePort,
      clientSecret: secrets.sentryClientSecret,
      clock: systemClock,
    })),
    api: createApiHandler(async () => ({
      store,
      silences,
      tokens: secrets.apiTokens,
      config,
      clock: systemClock,
      region: LOCAL_REGION,
      changed: () => {
        silenceCache.invalidate();
        dispatching.kick();
      },
    })),
    slack: createSlackHandler(async () => ({
      store,
      silences,
      config,
      clock: systemClock,
      region: LOCAL_REGION,
      signingSecret: secrets.slackSigningSecret,
      changed: () => {
        silenceCache.invalidate();
        dispatching.kick();
      },
    })),
    dispatch: createDispatchHandler(async () => ({ dispatcher })),
    escalations: createEscalationsHandler(async () => ({
      store,
      silences,
      config,
      clock: systemClock,
      region: LOCAL_REGION,
      logger,
    })),
  } as Record<string, LambdaFunction>;
  const invocations: Record<string, number> = {};
  for (const [name, handler] of Object.entries(functions)) {
    functions[name] = (event, context) => {
      invocations[name] = (invocations[name] ?? 0) + 1;
      return handler(event, context);
    };
  }

  // The table's stream, locally: incidents with pending actions go to the dispatch function.
  const dispatching = new Ticker(
    "dispatch",
    options.intervals?.dispatchMs ?? 1000,
    async () => {
      const ids = await store.listPending();
      if (ids.length > 0) await functions.dispatch?.(streamEvent(ids), lambdaContext("dispatch"));
    },
    logger,
  );
  // The `escalations` schedule, locally: at least once a second, so short durations can be tried.
  const escalating = new Ticker(
    "escalations",
    options.intervals?.escalationsMs ?? 1000,
    async () => {
      await functions.escalations?.({ source: "aws.scheduler" }, lambdaContext("escalations"));
      dispatching.kick();
    },
    logger,
  );

  queue.start(async (messages) => {
    const response = (await functions.process?.(sqsEvent(messages), lambdaContext("process"))) as {
      batchItemFailures: Array<{ itemIdentifier: string }>;
    };
    return { failedIds: response.batchItemFailures.map((failure) => failure.itemIdentifier) };
  });

  const capturingQueued: LocalStack["capturingQueued"] = async (run) => {
    const queued: string[] = [];
    const result = await sent.run(queued, run);
    return { result, queued };
  };

  const deliver: LocalStack["deliver"] = async (events) => {
    const direct = events.filter((event) => event.route === "queue");
    const ids = direct.length
      ? await queue.send(direct.map((event) => JSON.stringify(event.raw)))
      : [];
    for (const event of events) {
      if (event.route !== "ingest") continue;
      const { queued } = await capturingQueued(() =>
        (functions.ingest as LambdaFunction)(event.raw, lambdaContext("ingest")),
      );
      ids.push(...queued);
    }
    return ids;
  };

  const stack: Omit<LocalStack, "url" | "stop"> = {
    queue,
    store,
    dynamodbEndpoint,
    functions,
    dynamodbRequests,
    invocations,
    injectedFaults,
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
      await dispatching.settled();
    },
    kick: () => dispatching.kick(),
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
    policy,
    logger,
  });

  baseUrl = server.url;
  dispatching.start();
  escalating.start();

  return {
    ...stack,
    url: server.url,
    async stop() {
      await server.close();
      await escalating.stop();
      await dispatching.stop();
      await queue.stop();
      client.destroy();
      await embedded?.stop();
    },
  };
}

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
function sqsEvent(messages: QueuedMessage[]) {
  return {
    Records: messages.map((message) => ({
      messageId: message.id,
      receiptHandle: message.id,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: "local",
        ApproximateFirstReceiveTimestamp: String(message.sentAt),
      },
      messageAttributes: {},
      md5OfBody: createHash("md5").update(message.body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: QUEUE_ARN,
      awsRegion: LOCAL_REGION,
    })),
  };
}

/** Incidents with pending actions as the table's stream would present them (NEW_IMAGE). */
function streamEvent(incidentIds: string[]) {
  const now = Date.now();
  return {
    Records: incidentIds.map((id, index) => ({
      eventID: `${now}-${index}`,
      eventName: "MODIFY",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: LOCAL_REGION,
      eventSourceARN: `arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${TABLE_NAME}/stream/local`,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: { pk: { S: `INC#${id}` }, sk: { S: "INC" } },
        NewImage: { pk: { S: `INC#${id}` }, sk: { S: "INC" }, pending: { N: "1" } },
        SequenceNumber: String(now * 1000 + index),
        SizeBytes: 100,
        StreamViewType: "NEW_IMAGE",
      },
    })),
  };
}
