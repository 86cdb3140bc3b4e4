import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  AwsSdkGateway,
  DynamoDbIncidentStore,
  DynamoDbSilenceStore,
  DynamoDbVersionedItems,
  FetchPageTransport,
  SqsMessageQueue,
} from "@firebreak/aws";
import {
  GuardKeeper,
  loadConfigFile,
  Policy,
  parseApiTokens,
  resolveChannels,
  TransportPager,
} from "@firebreak/core";
import { z } from "zod";
import { readEnv } from "./env";
import { once } from "./once";

/** A call that hangs fails instead, and the SDK's retries (and Lambda's) take over. */
const SDK_TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 5000 };

// Each factory reads only the variables it needs, so a function is configured with exactly
// what it uses, and a bundle pulls in only the SDK clients its function calls.

/** The policy from `MONITORING_CONFIG`, a JSON file the stack ships beside the handler. */
export const awsPolicy = once(async () => {
  const env = readEnv(z.object({ MONITORING_CONFIG: z.string().default("firebreak.config.json") }));
  return new Policy(await loadConfigFile(env.MONITORING_CONFIG));
});

const awsTable = once(async () => {
  const env = readEnv(z.object({ TABLE_NAME: z.string().min(1) }));
  return {
    client: new DynamoDBClient({ requestHandler: SDK_TIMEOUTS }),
    tableName: env.TABLE_NAME,
  };
});

export const awsStore = once(async () => new DynamoDbIncidentStore(await awsTable()));

export const awsSilences = once(async () => {
  const { client, tableName } = await awsTable();
  return new DynamoDbSilenceStore(client, tableName);
});

export const awsQueue = once(async () => {
  const env = readEnv(z.object({ QUEUE_URL: z.url() }));
  return new SqsMessageQueue({
    client: new SQSClient({ requestHandler: SDK_TIMEOUTS }),
    queueUrl: env.QUEUE_URL,
  });
});

/**
 * The region this function runs in: for links in signals whose payload names none, and for
 * remediation targets that name none.
 */
export const awsRegion = () => process.env.AWS_REGION ?? "us-east-1";

/** Bearer tokens for the HTTP API, from the `API_TOKENS` secret. */
export const awsApiTokens = once(async () => {
  const env = readEnv(z.object({ API_TOKENS: z.string().min(1) }));
  return parseApiTokens(env.API_TOKENS);
});

/** The Sentry integration's client secret, which signs its webhooks. */
export const awsSentrySecret = once(async () => {
  return readEnv(z.object({ SENTRY_CLIENT_SECRET: z.string().min(1) })).SENTRY_CLIENT_SECRET;
});

/** The dispatcher's AWS side: the SDK gateway, guard ledgers in the table, real page transports. */
export const awsDispatchParts = once(async () => {
  const env = readEnv(z.object({ API_URL: z.url().optional() }));
  const { client, tableName } = await awsTable();
  const policy = await awsPolicy();
  const region = awsRegion();
  const channels = resolveChannels(policy.config.channels, process.env);
  return {
    gateway: new AwsSdkGateway({ region }),
    guards: new GuardKeeper(new DynamoDbVersionedItems(client, tableName)),
    pager: new TransportPager(new FetchPageTransport({ region }), channels),
    consoleUrl: (id: string) =>
      env.API_URL ? `${env.API_URL.replace(/\/$/, "")}/incidents/${id}` : null,
  };
});
