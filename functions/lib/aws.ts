import {
  type AppPorts,
  composeApp,
  loadDeployedPolicy,
  type MonitoringConfig,
  type OverrideStore,
  once,
  parseApiTokens,
  type Responders,
  type SilenceStore,
  systemClock,
} from "@firebreak/core";
import * as z from "zod";
import { envCredentials } from "./credentials";
import { readEnv } from "./env";
import { createLogger } from "./logger";
import { emfMetrics } from "./metrics";
import { stageSecrets } from "./secrets";

/** A call that hangs fails instead, and the SDK's retries (and Lambda's) take over. */
const SDK_TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 5000 };

/** Every client's options: the timeouts, and the role's credentials as Lambda sets them. */
const sdkOptions = () => ({ requestHandler: SDK_TIMEOUTS, credentials: envCredentials() });

// Each factory reads only the variables it needs, so a function is configured with exactly
// what it uses. Adapters and their SDK clients are imported inside the factories (./adapters,
// each a chunk of its own in the split bundles: stacks/bundle.ts), so a function loads only the
// clients it calls: each costs its cold start 20 to 90 ms.
const dynamodbAdapters = () => import("./adapters/dynamodb");
const sqsAdapters = () => import("./adapters/sqs");
const accountAdapters = () => import("./adapters/accounts");
const responderAdapters = () => import("./adapters/responders");
const pageBudgetAdapters = () => import("./adapters/page-budget");
// The rules' matchers (and RE2 for their patterns, 150 KB): only ingest and process match rules.
const policyAdapters = () => import("./adapters/policy");

/**
 * The policy from `MONITORING_CONFIG`, the JSON file the stack ships beside the handler: parsed
 * and validated by the deploy (`deployedPolicyJson`), so a cold start does not run the schema.
 */
const awsConfig = /* @__PURE__ */ once(async () => {
  const env = readEnv(z.object({ MONITORING_CONFIG: z.string().default("firebreak.config.json") }));
  return loadDeployedPolicy(env.MONITORING_CONFIG);
});

/** The policy with its rules compiled, for the functions that classify signals. */
const awsPolicy = /* @__PURE__ */ once(
  async () => new (await policyAdapters()).Policy(await awsConfig()),
);

const awsTable = /* @__PURE__ */ once(async () => {
  const env = readEnv(z.object({ TABLE_NAME: z.string().min(1) }));
  const { DynamoDBClient } = await dynamodbAdapters();
  return {
    client: new DynamoDBClient(sdkOptions()),
    tableName: env.TABLE_NAME,
  };
});

// The policy decides each incident's due time and expiry.
const awsStore = /* @__PURE__ */ once(async () => {
  const { DynamoDbIncidentStore } = await dynamodbAdapters();
  return new DynamoDbIncidentStore({ ...(await awsTable()), config: await awsConfig() });
});

// Silences and on-call overrides carry the policy's match schema and on-call's time zones (RE2
// and luxon, about 225 KB): their adapters load on a store's first call, not when a function's
// deps are built, so a sweep with nothing due or an API read that asks neither never loads them.
const silenceStore = /* @__PURE__ */ once(async () => {
  const [{ client, tableName }, { DynamoDbSilenceStore }] = await Promise.all([
    awsTable(),
    import("./adapters/silences"),
  ]);
  return new DynamoDbSilenceStore(client, tableName);
});

const awsSilences = async (): Promise<SilenceStore> => ({
  put: async (silence) => (await silenceStore()).put(silence),
  get: async (id) => (await silenceStore()).get(id),
  delete: async (id) => (await silenceStore()).delete(id),
  listActive: async (now) => (await silenceStore()).listActive(now),
  putWindow: async (window) => (await silenceStore()).putWindow(window),
  deleteWindow: async (id) => (await silenceStore()).deleteWindow(id),
  listWindows: async (now) => (await silenceStore()).listWindows(now),
});

const awsReplays = /* @__PURE__ */ once(async () => {
  const { client, tableName } = await awsTable();
  const { DynamoDbReplayGuard } = await dynamodbAdapters();
  return new DynamoDbReplayGuard(client, tableName, systemClock);
});

const overrideStore = /* @__PURE__ */ once(async () => {
  const [{ client, tableName }, { DynamoDbOverrideStore }] = await Promise.all([
    awsTable(),
    import("./adapters/overrides"),
  ]);
  return new DynamoDbOverrideStore(client, tableName);
});

const awsOverrides = async (): Promise<OverrideStore> => ({
  put: async (override) => (await overrideStore()).put(override),
  delete: async (schedule, id) => (await overrideStore()).delete(schedule, id),
  list: async (schedule, from, to) => (await overrideStore()).list(schedule, from, to),
});

const awsChanges = /* @__PURE__ */ once(
  async () =>
    new (await dynamodbAdapters()).DynamoDbChangeStore({
      ...(await awsTable()),
      retentionMs: (await awsConfig()).incidents.retention,
      clock: systemClock,
    }),
);

const awsCounters = /* @__PURE__ */ once(
  async () =>
    new (await dynamodbAdapters()).DynamoDbSignalCounters({
      ...(await awsTable()),
      retentionMs: (await awsConfig()).incidents.retention,
      clock: systemClock,
    }),
);

const awsQueue = /* @__PURE__ */ once(async () => {
  const env = readEnv(z.object({ QUEUE_URL: z.url() }));
  const { SQSClient, SqsMessageQueue } = await sqsAdapters();
  return new SqsMessageQueue({
    client: new SQSClient(sdkOptions()),
    queueUrl: env.QUEUE_URL,
  });
});

/**
 * The region this function runs in: for links in signals whose payload names none, and for
 * remediation targets that name none.
 */
const awsRegion = () => process.env.AWS_REGION ?? "us-east-1";

// Secrets are read from Parameter Store at cold start (functions/lib/secrets.ts), with the
// function's own permission on exactly its parameters; a missing one fails its first use, by name.

/** Bearer tokens for the HTTP API, from the `API_TOKENS` secret. */
const awsApiTokens = /* @__PURE__ */ once(async () =>
  parseApiTokens(await stageSecrets().read("API_TOKENS")),
);

/** The Sentry integration's client secret, which signs its webhooks. */
const awsSentrySecret = /* @__PURE__ */ once(() => stageSecrets().read("SENTRY_CLIENT_SECRET"));

/** The token of the read-only iCalendar feeds, which calendar apps put in the URL. */
const awsCalendarToken = /* @__PURE__ */ once(() => stageSecrets().read("CALENDAR_TOKEN"));

/** The Slack app's signing secret. */
const awsSlackSecret = /* @__PURE__ */ once(() => stageSecrets().read("SLACK_SIGNING_SECRET"));

/**
 * The secrets the channels name (`env:NAME`), read before `resolveChannels`, which takes them
 * by name: only those, so the dispatcher asks for nothing it was not granted.
 */
async function channelSecrets(config: MonitoringConfig) {
  const names = new Set(
    [
      ...Object.values(config.channels).flatMap((channel) => [
        channel.slackWebhook,
        channel.pagerduty?.routingKey,
      ]),
      ...Object.values(config.people).map((person) => person.pagerduty?.routingKey),
      // The bot token of Slack direct messages, when someone is reached on Slack.
      Object.values(config.people).some((person) => person.slack) ? "env:SLACK_BOT_TOKEN" : null,
    ]
      .filter((value): value is string => value?.startsWith("env:") === true)
      .map((value) => value.slice(4)),
  );
  const secrets = stageSecrets();
  return Object.fromEntries(
    await Promise.all([...names].map(async (name) => [name, await secrets.read(name)] as const)),
  );
}

/** Member accounts through their roles (`accounts`), each role assumed once per cold start. */
const awsAccounts = /* @__PURE__ */ once(async () => {
  const { AccountAccess, sdkSts } = await accountAdapters();
  return new AccountAccess({
    accounts: (await awsConfig()).accounts,
    sts: sdkSts(awsRegion()),
  });
});

/** Alarm states and metrics, in the alarm's own account. */
const awsCloudWatch = /* @__PURE__ */ once(async () =>
  (await accountAdapters()).cloudWatchInAccounts(awsRegion(), await awsAccounts()),
);

/** Pages per channel and minute, and the digests owed, kept in the table. */
const awsPageBudget = /* @__PURE__ */ once(async () => {
  const [{ client, tableName }, { DynamoDbVersionedItems, PageBudgetKeeper }] = await Promise.all([
    awsTable(),
    pageBudgetAdapters(),
  ]);
  return new PageBudgetKeeper(new DynamoDbVersionedItems(client, tableName));
});

/** The dispatcher's AWS side: the SDK gateway, guard ledgers in the table, real page transports. */
const awsResponders = /* @__PURE__ */ once(async (): Promise<Responders> => {
  const env = readEnv(z.object({ API_URL: z.url().optional() }));
  const config = await awsConfig();
  // The secrets' reads wait on Parameter Store while the table's and the pagers' code loads.
  const [{ client, tableName }, adapters, secrets, accounts, pageBudget] = await Promise.all([
    awsTable(),
    responderAdapters(),
    channelSecrets(config),
    awsAccounts(),
    awsPageBudget(),
  ]);
  const {
    AwsSdkGateway,
    DynamoDbVersionedItems,
    FetchPageTransport,
    GuardKeeper,
    resolveChannels,
    resolvePeople,
    TransportPager,
  } = adapters;
  const region = awsRegion();
  const channels = resolveChannels(config.channels, secrets);
  const directory = {
    people: resolvePeople(config.people, secrets),
    slackBotToken: secrets.SLACK_BOT_TOKEN,
  };
  return {
    gateway: new AwsSdkGateway({ region, accounts }),
    guards: new GuardKeeper(new DynamoDbVersionedItems(client, tableName)),
    pageBudget,
    pager: new TransportPager(new FetchPageTransport({ region }), channels, directory),
    mode: "live",
    consoleUrl: (id: string) =>
      env.API_URL ? `${env.API_URL.replace(/\/$/, "")}/incidents/${id}` : null,
  };
});

/** Firebreak's ports on AWS: the SDK adapters, Parameter Store's secrets, Powertools' logger. */
export const awsPorts: AppPorts = {
  clock: systemClock,
  region: awsRegion(),
  logger: createLogger,
  metrics: emfMetrics(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "escalations"),
  policy: awsPolicy,
  config: awsConfig,
  store: awsStore,
  silences: awsSilences,
  queue: awsQueue,
  responders: awsResponders,
  pageBudget: awsPageBudget,
  apiTokens: awsApiTokens,
  sentryClientSecret: awsSentrySecret,
  slackSigningSecret: awsSlackSecret,
  replays: awsReplays,
  overrides: awsOverrides,
  calendarToken: awsCalendarToken,
  cloudwatch: awsCloudWatch,
  changes: awsChanges,
  counters: awsCounters,
};

/** The application every Lambda entry point runs (each function builds only what it calls). */
export const awsApp = composeApp(awsPorts);
