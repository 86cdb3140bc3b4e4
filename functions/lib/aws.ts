import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDbIncidentStore, SqsMessageQueue } from "@firebreak/aws";
import { loadConfigFile, Policy, parseApiTokens } from "@firebreak/core";
import { z } from "zod";
import { readEnv } from "./env";
import { once } from "./once";

// Each factory reads only the variables it needs, so a function is configured with exactly
// what it uses, and a bundle pulls in only the SDK clients its function calls.

/** The policy from `MONITORING_CONFIG`, a JSON file the stack ships beside the handler. */
export const awsPolicy = once(async () => {
  const env = readEnv(z.object({ MONITORING_CONFIG: z.string().default("firebreak.config.json") }));
  return new Policy(await loadConfigFile(env.MONITORING_CONFIG));
});

export const awsStore = once(async () => {
  const env = readEnv(z.object({ TABLE_NAME: z.string().min(1) }));
  return new DynamoDbIncidentStore({ client: new DynamoDBClient({}), tableName: env.TABLE_NAME });
});

export const awsQueue = once(async () => {
  const env = readEnv(z.object({ QUEUE_URL: z.url() }));
  return new SqsMessageQueue({ client: new SQSClient({}), queueUrl: env.QUEUE_URL });
});

/** The region this function runs in, for links in signals whose payload does not name one. */
export const awsRegion = () => process.env.AWS_REGION;

/** Bearer tokens for the HTTP API, from the `API_TOKENS` secret. */
export const awsApiTokens = once(async () => {
  const env = readEnv(z.object({ API_TOKENS: z.string().min(1) }));
  return parseApiTokens(env.API_TOKENS);
});

/** The Sentry integration's client secret, which signs its webhooks. */
export const awsSentrySecret = once(async () => {
  return readEnv(z.object({ SENTRY_CLIENT_SECRET: z.string().min(1) })).SENTRY_CLIENT_SECRET;
});
