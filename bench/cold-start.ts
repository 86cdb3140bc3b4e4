/**
 * Cold starts of every Firebreak function, each built both ways the stacks can deploy it: with
 * the AWS SDK v3 left to the `nodejs22.x` runtime's copy, and with the SDK bundled (tree-shaken,
 * minified ESM). Targets (issue 15): every function at most 150 ms on this machine, `slack` and
 * `sentry-webhook` at most 120 ms (their callers allow 3 s and 1 s end to end). stacks/bundle.ts
 * `SDK_SOURCE` records the choice per function; this measures it.
 *
 * Each variant is built exactly as `sst deploy` builds it (stacks/bundle.ts). Then, RUNS times
 * per function and variant (the two alternating, so a busy machine weighs on both alike), a fresh
 * `node` (no tsx, no loader) imports the bundle and handles one realistic event, talking to local
 * stand-ins through the SDK's standard endpoint variables: the embedded DynamoDB (dynalite), and
 * a small SQS + SNS + SSM endpoint served by this process (secrets are read from its Parameter
 * Store at cold start, as deployed functions read theirs, so that read counts). The runtime's SDK
 * is the repository's node_modules copy, which Node loads as Lambda loads the runtime's: the
 * CommonJS build, file by file. The child reports `performance.now()` (milliseconds since its own
 * start, so Node's bootstrap counts) when the handler returns, with import and handler time
 * apart. Prints min / median / max per variant, beside a bare `node -e` for Node's own floor and
 * each function's SDK floor (FLOOR_CLIENTS: the same clients' first requests in a bare handler,
 * the physical limit a target is measured against), and writes bench/results/cold-start.json.
 *
 *   npx tsx bench/cold-start.ts
 *   npx tsx bench/cold-start.ts --runs 9   more runs per function and variant (default 5)
 *   npx tsx bench/cold-start.ts --only ingest,slack   those functions only
 *   npx tsx bench/cold-start.ts --sdk bundled   one SDK source only (runtime or bundled)
 *   npx tsx bench/cold-start.ts --smoke   one run of each deployed bundle, nothing written: every
 *                                         bundle loads and handles its event (CI's test:infra)
 *   COLD_START_NODE=/path/to/node npx tsx bench/cold-start.ts   every child on that Node (Lambda's
 *                                         `nodejs22.x` is Node 22; the README says how to fetch one),
 *                                         written to cold-start-node<major>.json
 *   COLD_START_PROFILE=/tmp/prof npx tsx bench/cold-start.ts   a CPU profile of every child (its
 *                                         bundles keep their identifiers, so profiles name functions)
 *                                         and each bundle's esbuild metafile (what each chunk holds)
 *
 * It is a benchmark: nothing is asserted against the targets. It exits 1 when a handler throws
 * or answers with an error (5xx, an unexpected status, batch item failures): a cold start that
 * fails is not a measurement. It exits 1 too when a function compiles code at run time (zod's
 * JIT, which the bundles leave out: functions/lib/zod-jitless.ts); the child counts
 * `new Function` calls.
 */

import { execFileSync, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { isBuiltin } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDbIncidentStore } from "@firebreak/aws";
import { hmacSha256Hex, signSlackRequest } from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { ensureTable, localDynamoDbClient, startEmbeddedDynamoDb } from "@firebreak/local";
import { build, type Metafile } from "esbuild";
import * as z from "zod";
import monitoringConfig from "../monitoring.config";
import {
  bundleSizes,
  nodejsOptions,
  SDK_SOURCE,
  type SdkSource,
  sstEsbuildOptions,
} from "../stacks/bundle";
import { policyForDeploy } from "../stacks/policy";
import { FUNCTIONS, type FunctionName as FunctionKey } from "../stacks/topology";
import { percentile, round } from "./load";
import { MACHINE, writeResult } from "./results";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SMOKE = process.argv.includes("--smoke");
/** The Node every child runs on: this one, or COLD_START_NODE's (Node 22, as Lambda runs). */
const CHILD_NODE = process.env.COLD_START_NODE ?? process.execPath;
const CHILD_NODE_VERSION = execFileSync(CHILD_NODE, ["--version"], { encoding: "utf8" }).trim();
const runsArgument = process.argv.indexOf("--runs");
const RUNS = SMOKE ? 1 : runsArgument > 0 ? Number(process.argv[runsArgument + 1]) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs takes a whole number");
const onlyArgument = process.argv.indexOf("--only");
/** `--only ingest,slack`: those functions only. */
const ONLY = onlyArgument > 0 ? new Set(process.argv[onlyArgument + 1]?.split(",")) : null;
const sdkArgument = process.argv.indexOf("--sdk");
/** `--sdk bundled`: that SDK source only, for every function measured. */
const SDK_ONLY = sdkArgument > 0 ? process.argv[sdkArgument + 1] : undefined;
if (SDK_ONLY !== undefined && SDK_ONLY !== "runtime" && SDK_ONLY !== "bundled") {
  throw new Error("--sdk takes runtime or bundled");
}
// The dispatcher's runs take incidents the processor's runs opened.
if (ONLY?.has("dispatch")) ONLY.add("process");
/** Median cold start each function should stay within (issue 15). */
const TARGET_MS: Record<FunctionKey, number> = {
  ingest: 150,
  process: 150,
  "sentry-webhook": 120,
  api: 150,
  slack: 120,
  dispatch: 150,
  escalations: 150,
};
/** A run that takes longer than this is stuck (a stand-in not answering), not slow. */
const RUN_TIMEOUT_MS = 60_000;
const REGION = "us-east-1";
const TABLE_NAME = "firebreak-bench";
/** `stacks/lambda.ts` POLICY_FILE: the stacks copy the policy's JSON beside each handler. */
const POLICY_FILE = "firebreak.config.json";
const API_TOKEN = "bench-cold-start-token-0123456789";
const SENTRY_SECRET = "bench-cold-start-sentry-client-secret";
const SLACK_SECRET = "bench-cold-start-slack-signing-secret";
/** The stage's parameter path (`SECRETS_PATH`), as stacks/secrets.ts names it. */
const SECRETS_PATH = "/firebreak/bench";
/** What the stand-in's Parameter Store holds, by parameter name. */
const PARAMETERS: Record<string, string> = {
  [`${SECRETS_PATH}/ApiTokens`]: `bench:${API_TOKEN}`,
  [`${SECRETS_PATH}/SentryClientSecret`]: SENTRY_SECRET,
  [`${SECRETS_PATH}/SlackSigningSecret`]: SLACK_SECRET,
};
/** An AWS client a function's cold run uses. */
type FloorClient = "dynamodb" | "sqs" | "sns" | "ssm";
/**
 * The floor under each function's cold start: a bare handler making one request with each AWS
 * client the function's cold run uses (to the same stand-ins; DynamoDB through the document
 * client, as Firebreak's adapters), bundled as the functions deploy. It is what Node and the SDK v3
 * cost before any of Firebreak's code: a function's median above its floor is Firebreak's own, and
 * a target under its floor cannot be met with the SDK on this machine.
 */
const FLOOR_CLIENTS: Record<FunctionKey, FloorClient[]> = {
  ingest: ["sqs"],
  process: ["dynamodb"],
  "sentry-webhook": ["ssm", "sqs"],
  api: ["ssm", "dynamodb"],
  slack: ["ssm", "dynamodb"],
  dispatch: ["dynamodb", "sns"],
  escalations: ["dynamodb"],
};
/** The floor's SNS topic: its publishes are told apart from the dispatcher's pages by it. */
const FLOOR_TOPIC = "firebreak-bench-floor";
/**
 * Each client's import and one request, as the floor handler's source. Imported by name, as
 * Firebreak's adapters import theirs (packages/aws/src/sdk), so the bundle shakes the same way.
 */
const FLOOR_REQUESTS: Record<FloorClient, { imports: string; request: string }> = {
  ssm: {
    imports: `import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";`,
    request: `await new SSMClient({}).send(
    new GetParameterCommand({ Name: process.env.SECRETS_PATH + "/ApiTokens", WithDecryption: true }),
  );`,
  },
  sqs: {
    imports: `import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";`,
    request: `await new SQSClient({}).send(
    new SendMessageBatchCommand({
      QueueUrl: process.env.QUEUE_URL,
      Entries: [{ Id: "0", MessageBody: "{}" }],
    }),
  );`,
  },
  sns: {
    imports: `import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";`,
    request: `await new SNSClient({}).send(
    new PublishCommand({
      TopicArn: "arn:aws:sns:${REGION}:123456789012:${FLOOR_TOPIC}",
      Message: "floor",
    }),
  );`,
  },
  dynamodb: {
    imports: `import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";`,
    request: `await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: "FLOOR", sk: "FLOOR" } }),
  );`,
  },
};
/** A function's floor handler: its clients' requests, one after another. */
const floorSource = (name: FunctionKey) => {
  const clients = FLOOR_CLIENTS[name].map((client) => FLOOR_REQUESTS[client]);
  return `// Written by bench/cold-start.ts and removed with it.
${clients.map((client) => client.imports).join("\n")}

export async function handler() {
  ${clients.map((client) => client.request).join("\n  ")}
  return { floor: ${JSON.stringify(FLOOR_CLIENTS[name])} };
}
`;
};
/** Prefixes the child's report: the handlers' own JSON logs share its stdout. */
const MARKER = "@@firebreak-cold-start@@";

/** The child: reads one event, imports one bundle, handles the event, reports its clock. */
const DRIVER = `// Written by bench/cold-start.ts and removed with it.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [bundle, eventFile, name] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, "utf8"));
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:${REGION}:123456789012:function:" + name,
  memoryLimitInMB: "512",
  awsRequestId: randomUUID(),
  logGroupName: "/aws/lambda/" + name,
  logStreamName: "2024/11/05/[$LATEST]0123456789abcdef",
  getRemainingTimeInMillis: () => 30000,
  done() {},
  fail() {},
  succeed() {},
};
// Code compiled at run time (zod's JIT builds its parsers with \`new Function\`), counted: every
// function is meant to run without it (functions/lib/zod-jitless.ts).
let compiledAtRunTime = 0;
globalThis.Function = new Proxy(Function, {
  construct(target, args, newTarget) {
    compiledAtRunTime++;
    return Reflect.construct(target, args, newTarget);
  },
  apply(target, self, args) {
    compiledAtRunTime++;
    return Reflect.apply(target, self, args);
  },
});
const importStart = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const importEnd = performance.now();
let result = null;
let error = null;
try {
  result = await handler(event, context);
} catch (caught) {
  error = String(caught?.stack ?? caught);
}
const handlerEnd = performance.now();
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
const report = JSON.stringify({
  importStart, importEnd, handlerEnd, cpuMs, compiledAtRunTime, result, error,
});
// Exit at once: the SDK's keep-alive sockets would hold the process open.
process.stdout.write("\\n${MARKER}" + report + "\\n", () => process.exit(0));
`;

/**
 * The packages a bundle leaves to the runtime (the AWS SDK), imported alone in a fresh process:
 * how much of a bundle's import time is the SDK rather than Firebreak's own code.
 */
const EXTERNALS_DRIVER = `// Written by bench/cold-start.ts and removed with it.
const importStart = performance.now();
for (const specifier of process.argv.slice(2)) await import(specifier);
const importEnd = performance.now();
process.stdout.write("${MARKER}" + JSON.stringify({ importStart, importEnd }) + "\\n");
`;

const SdkReportSchema = z.object({ importStart: z.number(), importEnd: z.number() });

const ChildReportSchema = z.object({
  importStart: z.number(),
  importEnd: z.number(),
  handlerEnd: z.number(),
  cpuMs: z.number(),
  compiledAtRunTime: z.number(),
  result: z.unknown(),
  error: z.string().nullable(),
});

interface Sample {
  /** `performance.now()` in the child when the handler returned: the cold start. */
  totalMs: number;
  /**
   * CPU time (user + system) the child had used when the handler returned. On a machine others
   * load, wall time stretches with the queue for the cores; CPU time stays near what a dedicated
   * core (a Lambda instance's) would take, so the choice of SDK source goes by it.
   */
  cpuMs: number;
  /** Node's bootstrap and the driver's own start, before the import begins. */
  nodeMs: number;
  importMs: number;
  handlerMs: number;
  /** From spawn to exit, seen from here (process creation and teardown included). */
  wallMs: number;
  /** A fresh process importing only the packages the bundle leaves external (the AWS SDK). */
  sdkImportMs: number;
}

/** What an event source hands a function, and how to read its answer. */
interface Scenario {
  /** The event, for the report. */
  event: string;
  /** A fresh event for one cold run (signed now, or naming an incident of its own). */
  make(run: number): unknown | Promise<unknown>;
  /** What the answer says; throws when it is an error, so the run is not counted. */
  outcome(result: unknown): string;
}

// ---------------------------------------------------------------------------------------------
// Stand-ins for SQS and SNS: what the handlers send, answered as AWS answers it.

interface StandIn {
  url: string;
  counts: {
    sqsMessages: number;
    /** Pages: publishes to any topic but the floor's. */
    snsPublishes: number;
    floorPublishes: number;
    ssmReads: number;
    unexpected: string[];
  };
  close(): Promise<void>;
}

const SendMessageInput = z.object({ QueueUrl: z.string(), MessageBody: z.string() });
const GetParameterInput = z.object({ Name: z.string(), WithDecryption: z.literal(true) });
const SendMessageBatchInput = z.object({
  QueueUrl: z.string(),
  Entries: z.array(z.object({ Id: z.string(), MessageBody: z.string() })),
});

/** SQS checks the MD5 of every body it accepted; the SDK verifies it. */
const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

/**
 * One HTTP endpoint for all three: SQS speaks AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Operation>`),
 * SSM AWS JSON 1.1 (`AmazonSSM.GetParameter`, decrypted SecureString reads only), SNS the query
 * protocol (a form with `Action=Publish`, answered in XML).
 */
async function startStandIn(): Promise<StandIn> {
  const counts = {
    sqsMessages: 0,
    snsPublishes: 0,
    floorPublishes: 0,
    ssmReads: 0,
    unexpected: [] as string[],
  };
  const answerSsm = (target: string, body: string, response: ServerResponse) => {
    const fail = (type: string, message: string) => {
      counts.unexpected.push(`SSM ${type}: ${message}`);
      response
        .writeHead(400, { "content-type": "application/x-amz-json-1.1" })
        .end(JSON.stringify({ __type: type, message }));
    };
    if (target !== "AmazonSSM.GetParameter") return fail("UnsupportedOperation", target);
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return fail("ValidationException", "the body is not JSON");
    }
    const read = GetParameterInput.safeParse(input);
    if (!read.success) return fail("ValidationException", read.error.message);
    const value = PARAMETERS[read.data.Name];
    if (value === undefined) return fail("ParameterNotFound", read.data.Name);
    counts.ssmReads += 1;
    response.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(
      JSON.stringify({
        Parameter: {
          Name: read.data.Name,
          Type: "SecureString",
          Value: value,
          Version: 1,
          ARN: `arn:aws:ssm:${REGION}:123456789012:parameter${read.data.Name}`,
          DataType: "text",
        },
      }),
    );
  };
  const sqsError = (response: ServerResponse, type: string, message: string) => {
    counts.unexpected.push(`${type}: ${message}`);
    response
      .writeHead(400, { "content-type": "application/x-amz-json-1.0" })
      .end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
  };
  const answerSqs = (target: string, body: string, response: ServerResponse) => {
    const json = (value: unknown) =>
      response
        .writeHead(200, { "content-type": "application/x-amz-json-1.0" })
        .end(JSON.stringify(value));
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return sqsError(response, "InvalidParameterValue", "the body is not JSON");
    }
    if (target === "AmazonSQS.SendMessageBatch") {
      const batch = SendMessageBatchInput.safeParse(input);
      if (!batch.success) return sqsError(response, "InvalidParameterValue", batch.error.message);
      counts.sqsMessages += batch.data.Entries.length;
      return json({
        Successful: batch.data.Entries.map((entry) => ({
          Id: entry.Id,
          MessageId: randomUUID(),
          MD5OfMessageBody: md5(entry.MessageBody),
        })),
        Failed: [],
      });
    }
    if (target === "AmazonSQS.SendMessage") {
      const message = SendMessageInput.safeParse(input);
      if (!message.success) {
        return sqsError(response, "InvalidParameterValue", message.error.message);
      }
      counts.sqsMessages += 1;
      return json({ MessageId: randomUUID(), MD5OfMessageBody: md5(message.data.MessageBody) });
    }
    return sqsError(response, "UnsupportedOperation", `${target} is not served here`);
  };
  const answerSns = (form: URLSearchParams, response: ServerResponse) => {
    if (form.get("Action") !== "Publish" || !form.get("TopicArn") || !form.get("Message")) {
      counts.unexpected.push(`SNS ${form.get("Action") ?? "(no action)"}`);
      response
        .writeHead(400, { "content-type": "text/xml" })
        .end(
          "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>" +
            "<Message>only Publish is served here</Message></Error></ErrorResponse>",
        );
      return;
    }
    if (form.get("TopicArn")?.endsWith(`:${FLOOR_TOPIC}`)) counts.floorPublishes += 1;
    else counts.snsPublishes += 1;
    response
      .writeHead(200, { "content-type": "text/xml" })
      .end(
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
          `<PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
          "</PublishResponse>",
      );
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const target = request.headers["x-amz-target"];
      if (typeof target === "string" && target.startsWith("AmazonSSM.")) {
        return answerSsm(target, body, response);
      }
      if (typeof target === "string") return answerSqs(target, body, response);
      answerSns(new URLSearchParams(body), response);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Events, from the fixtures in events/.

const HttpApiTemplateSchema = z.looseObject({
  headers: z.record(z.string(), z.string()),
  requestContext: z.looseObject({ http: z.looseObject({}) }),
});

/** An HTTP API (payload 2.0) request, shaped like the Slack fixture API Gateway delivered. */
function httpApiEvent(request: {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  base64?: boolean;
}): Record<string, unknown> {
  const { about: _, ...template } = HttpApiTemplateSchema.parse(
    loadEvent("slack/apigateway-command.json"),
  );
  const routeKey = `${request.method} ${request.path}`;
  const headers: Record<string, string> = {
    accept: "application/json",
    host: "abc123.execute-api.us-east-1.amazonaws.com",
    "user-agent": "firebreak-bench",
    "x-amzn-trace-id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    "x-forwarded-for": template.headers["x-forwarded-for"] ?? "203.0.113.10",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...(request.body === undefined
      ? {}
      : { "content-length": String(Buffer.byteLength(request.body)) }),
    ...request.headers,
  };
  const body =
    request.body === undefined
      ? {}
      : {
          body: request.base64 ? Buffer.from(request.body).toString("base64") : request.body,
          isBase64Encoded: request.base64 ?? false,
        };
  return {
    ...template,
    routeKey,
    rawPath: request.path,
    rawQueryString: "",
    headers,
    requestContext: {
      ...template.requestContext,
      requestId: randomUUID(),
      routeKey,
      http: { ...template.requestContext.http, method: request.method, path: request.path },
      timeEpoch: Date.now(),
    },
    ...(request.body === undefined ? { isBase64Encoded: false } : body),
  };
}

/**
 * The body of `slack/apigateway-command.json` is a placeholder: a form, signed now. Each run's
 * command has a trigger of its own: runs share one table, and a repeated one within its second
 * would be answered as a replay, without the work a cold command does.
 */
function slackEvent(): Record<string, unknown> {
  const form = loadRawEvent("slack/command.form.txt").replace(
    /trigger_id=[^&]*/,
    `trigger_id=${randomUUID()}`,
  );
  const timestamp = String(Math.floor(Date.now() / 1000));
  return httpApiEvent({
    method: "POST",
    path: "/slack/commands",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": signSlackRequest(SLACK_SECRET, timestamp, form),
    },
    body: form,
    base64: true,
  });
}

const SentryHeadersSchema = z.record(
  z.string(),
  z.object({ "Sentry-Hook-Resource": z.string(), "Request-ID": z.string() }),
);

/** A Sentry webhook signed over the fixture's exact bytes, as Sentry signs it. */
function sentryEvent(file: string): Record<string, unknown> {
  const body = loadRawEvent(`sentry/${file}`);
  const headers = SentryHeadersSchema.parse(loadEvent("sentry/headers.json"))[file];
  if (!headers) throw new Error(`sentry/headers.json has no headers for ${file}`);
  return httpApiEvent({
    method: "POST",
    path: "/webhooks/sentry",
    headers: {
      "content-type": "application/json",
      "user-agent": "sentry",
      "sentry-hook-resource": headers["Sentry-Hook-Resource"],
      "request-id": headers["Request-ID"],
      "sentry-hook-timestamp": String(Math.floor(Date.now() / 1000)),
      "sentry-hook-signature": hmacSha256Hex(SENTRY_SECRET, body),
    },
    body,
  });
}

const AlarmSchema = z.looseObject({
  detail: z.looseObject({ alarmName: z.string(), state: z.looseObject({}) }),
});

/**
 * The EventBridge rule delivers alarm state changes to the queue raw; the processor decodes
 * them. Each run's alarm is a new one (`*-errors`: critical, pages on-call), so every run opens
 * an incident with a page to send, as a first alarm does, and the dispatcher has work after.
 */
function processEvent(run: number): Record<string, unknown> {
  const alarm = AlarmSchema.parse(loadEvent("cloudwatch/eventbridge-alarm.json"));
  const alarmName = `bench-cold-start-${run}-${randomUUID().slice(0, 8)}-errors`;
  const now = new Date().toISOString();
  const body = JSON.stringify({
    ...alarm,
    id: randomUUID(),
    time: now.replace(/\.\d+Z$/, "Z"),
    resources: [`arn:aws:cloudwatch:${REGION}:123456789012:alarm:${alarmName}`],
    detail: {
      ...alarm.detail,
      alarmName,
      state: { ...alarm.detail.state, timestamp: now.replace("Z", "+0000") },
    },
  });
  const sentAt = String(Date.now());
  const messageId = randomUUID();
  return {
    Records: [
      {
        messageId,
        receiptHandle: `AQEB${createHash("sha256").update(messageId).digest("base64")}`,
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: sentAt,
          SenderId: "AIDAIENQZJOLO23YVJ4VO",
          ApproximateFirstReceiveTimestamp: sentAt,
        },
        messageAttributes: {},
        md5OfBody: md5(body),
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:firebreak-bench-Signals`,
        awsRegion: REGION,
      },
    ],
  };
}

/** The table's stream (NEW_IMAGE, filtered to `pending > 0`) naming one incident. */
function streamEvent(incidentId: string): Record<string, unknown> {
  const now = Date.now();
  return {
    Records: [
      {
        eventID: randomUUID().replaceAll("-", ""),
        eventName: "MODIFY",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: REGION,
        eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/${TABLE_NAME}/stream/2024-11-05T14:03:40.536`,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(now / 1000),
          Keys: { pk: { S: `INC#${incidentId}` }, sk: { S: "INC" } },
          NewImage: {
            pk: { S: `INC#${incidentId}` },
            sk: { S: "INC" },
            status: { S: "triggered" },
            pending: { N: "1" },
          },
          SequenceNumber: String(now * 1000),
          SizeBytes: 120,
          StreamViewType: "NEW_IMAGE",
        },
      },
    ],
  };
}

const HttpResultSchema = z.object({ statusCode: z.number(), body: z.string().optional() });
const BatchResultSchema = z.object({ batchItemFailures: z.array(z.unknown()) });

/** An HTTP answer with the status a working request gets; anything else is a failed run. */
const httpOutcome = (expected: number) => (result: unknown) => {
  const { statusCode, body } = HttpResultSchema.parse(result);
  if (statusCode !== expected) {
    throw new Error(`answered ${statusCode} (expected ${expected}): ${body?.slice(0, 300)}`);
  }
  return String(statusCode);
};

const batchOutcome = (result: unknown) => {
  const { batchItemFailures } = BatchResultSchema.parse(result);
  if (batchItemFailures.length > 0) {
    throw new Error(`batchItemFailures: ${JSON.stringify(batchItemFailures)}`);
  }
  return "no failures";
};

// ---------------------------------------------------------------------------------------------

const kb = (bytes: number) => round(bytes / 1024, 1);
const summary = (values: number[]) => ({
  min: round(Math.min(...values), 1),
  median: round(percentile(values, 50), 1),
  max: round(Math.max(...values), 1),
});

/** Spawns a `node` and waits for it: its output, exit code and wall time from spawn to exit. */
async function runChild(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  const started = performance.now();
  const child = spawn(CHILD_NODE, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  let wallMs = 0;
  child.once("exit", () => {
    wallMs = performance.now() - started;
  });
  // `close` comes after `exit`, once the pipes are drained: the report is complete.
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  return { code, stdout, stderr, wallMs };
}

/** The JSON a driver printed after the marker; throws with the child's stderr when there is none. */
function reportOf(
  child: { code: number | null; stdout: string; stderr: string },
  what: string,
): unknown {
  const line = child.stdout.split("\n").find((text) => text.startsWith(MARKER));
  if (!line) {
    throw new Error(
      `${what} exited with ${child.code} and no report: ${child.stderr.trim().slice(-1500)}`,
    );
  }
  return JSON.parse(line.slice(MARKER.length));
}

interface Bundle {
  sdk: SdkSource;
  /** The function's floor (FLOOR_CLIENTS, bundled SDK), not the function. */
  floor: boolean;
  /** The entry file. */
  file: string;
  /** Minified, as deployed: the entry and the chunks it imports statically. */
  loadedBytes: number;
  /** Every file written, the chunks loaded on demand included. */
  totalBytes: number;
  /** Packages it imports from the runtime: the AWS SDK. */
  externals: string[];
}

const profileDir = process.env.COLD_START_PROFILE;
if (profileDir) mkdirSync(profileDir, { recursive: true });
// Inside the repository so the bundles' external `@aws-sdk/*` imports resolve from its
// node_modules, as they resolve from the runtime's in Lambda.
const work = mkdtempSync(path.join(ROOT, ".bench-cold-"));
const removeWork = () => rmSync(work, { recursive: true, force: true });
// `exit` also follows an uncaught error (a closed stdout pipe, say) that skips `finally`.
process.once("exit", removeWork);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

let failed = false;
try {
  const started = performance.now();
  const driver = path.join(work, "driver.mjs");
  writeFileSync(driver, DRIVER);
  const externalsDriver = path.join(work, "externals.mjs");
  writeFileSync(externalsDriver, EXTERNALS_DRIVER);
  const policy = policyForDeploy(monitoringConfig, "monitoring.config.ts");

  // Every bundle first: a build is no part of a cold start. Smoke runs build what deploys.
  const bundles = new Map<FunctionKey, Bundle[]>();
  for (const [name, fn] of Object.entries(FUNCTIONS) as Array<
    [FunctionKey, (typeof FUNCTIONS)[FunctionKey]]
  >) {
    const entry = path.join(ROOT, `${fn.handler.slice(0, fn.handler.lastIndexOf("."))}.ts`);
    if (ONLY && !ONLY.has(name)) continue;
    const variants: SdkSource[] = SMOKE
      ? [SDK_SOURCE[name]]
      : SDK_ONLY
        ? [SDK_ONLY]
        : ["runtime", "bundled"];
    // Smoke runs check what deploys; the floor is measured beside the bundled SDK.
    const withFloor = !SMOKE && SDK_ONLY !== "runtime";
    if (withFloor) writeFileSync(path.join(work, `${name}-floor.mjs`), floorSource(name));
    const builds = [
      ...variants.map((sdk) => ({ sdk, floor: false, entry })),
      ...(withFloor
        ? [{ sdk: "bundled" as const, floor: true, entry: path.join(work, `${name}-floor.mjs`) }]
        : []),
    ];
    const built: Bundle[] = [];
    for (const { sdk, floor, entry } of builds) {
      const dir = path.join(work, `${name}-${floor ? "floor" : sdk}`);
      const file = path.join(dir, `${path.basename(entry).replace(/\.(ts|mjs)$/, "")}.mjs`);
      const options = sstEsbuildOptions(entry, file, nodejsOptions(sdk));
      // Profiles name the functions they time: identifiers kept, the rest minified as deployed.
      const result = await build(
        profileDir
          ? { ...options, minify: false, minifySyntax: true, minifyWhitespace: true }
          : options,
      );
      const metafile = result.metafile as Metafile;
      // Beside the profiles: which sources each chunk a profile names was built from.
      if (profileDir) {
        const label = floor ? "floor" : sdk;
        writeFileSync(
          path.join(profileDir, `${name}-${label}.meta.json`),
          JSON.stringify(metafile),
        );
      }
      if (fn.policy) writeFileSync(path.join(dir, POLICY_FILE), policy.json);
      const externals = Object.values(metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((imported) => imported.external && !isBuiltin(imported.path))
        .map((imported) => imported.path);
      const { loadedBytes, totalBytes } = bundleSizes(metafile, file);
      built.push({
        sdk,
        floor,
        file,
        loadedBytes,
        totalBytes,
        externals: [...new Set(externals)],
      });
    }
    bundles.set(name, built);
  }

  const dynamo = await startEmbeddedDynamoDb();
  const standIn = await startStandIn();
  const client = localDynamoDbClient(dynamo.endpoint);
  try {
    await ensureTable(client, TABLE_NAME);
    const store = new DynamoDbIncidentStore({ client, tableName: TABLE_NAME });
    const queueUrl = `${standIn.url}/123456789012/firebreak-bench-Signals`;

    /** A Lambda's environment: only what the runtime and the stacks set, nothing of ours. */
    const lambdaEnv = (name: FunctionKey): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      // No ~/.aws here, as in Lambda: the SDK finds nothing to read there.
      HOME: work,
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_LAMBDA_FUNCTION_NAME: `firebreak-bench-${name}`,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
      // As Lambda sets it: Powertools logs `cold_start: true` on the first invocation only then.
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      // The SDK warns once a process on Node 20 (this machine's), never on Lambda's Node 22: a
      // warning written to stderr in every cold start here that no cold start there writes.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: standIn.url,
      AWS_ENDPOINT_URL_SNS: standIn.url,
      AWS_ENDPOINT_URL_SSM: standIn.url,
      TABLE_NAME,
      QUEUE_URL: queueUrl,
      // Secrets come from the stand-in's Parameter Store, as in AWS: only the path is here.
      SECRETS_PATH,
      ...(FUNCTIONS[name].policy ? { MONITORING_CONFIG: POLICY_FILE } : {}),
    });

    // Incidents the processor opened with a page waiting, handed to the dispatcher one a run.
    let pending: string[] | null = null;
    const scenarios: Record<FunctionKey, Scenario> = {
      ingest: {
        event: "CloudWatch Logs subscription (logs/lambda-errors-json.json)",
        make: () => loadEvent("logs/lambda-errors-json.json"),
        outcome: (result) => {
          const { accepted } = z.object({ accepted: z.number() }).parse(result);
          if (accepted === 0) throw new Error("the fixture made no signal: not a realistic run");
          return `${accepted} signal(s) queued`;
        },
      },
      process: {
        event: "SQS batch of 1 raw EventBridge alarm (cloudwatch/eventbridge-alarm.json, renamed)",
        make: processEvent,
        outcome: batchOutcome,
      },
      "sentry-webhook": {
        event: "HTTP API POST /webhooks/sentry (sentry/issue-created.json, signed)",
        make: () => sentryEvent("issue-created.json"),
        outcome: httpOutcome(202),
      },
      api: {
        event: "HTTP API GET /incidents with a bearer token",
        make: () =>
          httpApiEvent({
            method: "GET",
            path: "/incidents",
            headers: { authorization: `Bearer ${API_TOKEN}` },
          }),
        outcome: httpOutcome(200),
      },
      slack: {
        event: "HTTP API POST /slack/commands `/incident list` (slack/, signed)",
        make: slackEvent,
        outcome: httpOutcome(200),
      },
      dispatch: {
        event: "DynamoDB stream record of an incident with a pending page",
        make: async (run) => {
          pending ??= await store.listPending();
          const id = pending[run];
          if (!id) throw new Error(`no incident with a pending action for run ${run + 1}`);
          return streamEvent(id);
        },
        outcome: batchOutcome,
      },
      escalations: {
        // SST's CronV2 (EventBridge Scheduler) invokes with its `event`, `{}` when none is set.
        event: "scheduled invocation ({}, as SST's CronV2 sends it)",
        make: () => ({}),
        outcome: (result) => {
          const report = z
            .object({
              escalated: z.array(z.unknown()),
              autoResolved: z.array(z.unknown()),
              nudged: z.array(z.unknown()),
            })
            .parse(result);
          return `swept: ${report.escalated.length} escalated, ${report.nudged.length} nudged`;
        },
      },
    };

    /** A floor handler's run: no event, and its answer names the clients it used. */
    const floorScenario = (name: FunctionKey): Scenario => ({
      event: "none",
      make: () => ({}),
      outcome: (result) => {
        const { floor } = z.object({ floor: z.array(z.string()) }).parse(result);
        if (floor.join() !== FLOOR_CLIENTS[name].join()) throw new Error("the wrong floor ran");
        return `one request each: ${floor.join(", ")}`;
      },
    });

    // Node's own floor: a process that does nothing but report its clock.
    const baseline: number[] = [];
    const baselineWall: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { code, stdout, wallMs } = await runChild(
        ["-e", "process.stdout.write(String(performance.now()))"],
        { cwd: work, env: { PATH: process.env.PATH } },
      );
      if (code !== 0) throw new Error(`node -e exited with ${code}`);
      baseline.push(Number(stdout));
      baselineWall.push(wallMs);
    }

    /**
     * One cold run: the handler in a fresh process, then (when the SDK is the runtime's) the SDK
     * alone in another.
     */
    const coldRun = async (
      name: FunctionKey,
      bundle: Bundle,
      run: number,
    ): Promise<{ sample: Sample; outcome: string }> => {
      const scenario = bundle.floor ? floorScenario(name) : scenarios[name];
      const label = `${name}-${bundle.floor ? "floor" : bundle.sdk}-${run}`;
      const eventFile = path.join(work, `${label}.event.json`);
      writeFileSync(eventFile, JSON.stringify(await scenario.make(run)));
      const profile = profileDir
        ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}.cpuprofile`]
        : [];
      const options = { cwd: path.dirname(bundle.file), env: lambdaEnv(name) };
      const child = await runChild([...profile, driver, bundle.file, eventFile, name], options);
      const report = ChildReportSchema.parse(reportOf(child, "the handler"));
      if (report.error) throw new Error(`threw: ${report.error}`);
      if (report.compiledAtRunTime > 0 && !bundle.floor) {
        throw new Error(
          `compiled ${report.compiledAtRunTime} function(s) at run time: zod's JIT, which the bundle should leave out (functions/lib/zod-jitless.ts)`,
        );
      }
      const outcome = scenario.outcome(report.result);
      const sdk =
        bundle.externals.length > 0
          ? SdkReportSchema.parse(
              reportOf(await runChild([externalsDriver, ...bundle.externals], options), "the SDK"),
            )
          : { importStart: 0, importEnd: 0 };
      return {
        outcome,
        sample: {
          totalMs: report.handlerEnd,
          cpuMs: report.cpuMs,
          nodeMs: report.importStart,
          importMs: report.importEnd - report.importStart,
          handlerMs: report.handlerEnd - report.importEnd,
          wallMs: child.wallMs,
          sdkImportMs: sdk.importEnd - sdk.importStart,
        },
      };
    };

    interface Measured {
      name: FunctionKey;
      sdk: SdkSource;
      floor: boolean;
      bundleKb: number;
      totalKb: number;
      externals: string[];
      outcome: string;
      samples: Sample[];
      error?: string;
    }
    const results: Measured[] = [];
    // Each dispatch run takes an incident of its own, whichever variant runs it.
    const runCounts = new Map<FunctionKey, number>();
    for (const [name, built] of bundles) {
      const measured = built.map(
        (bundle): Measured => ({
          name,
          sdk: bundle.sdk,
          floor: bundle.floor,
          bundleKb: kb(bundle.loadedBytes),
          totalKb: kb(bundle.totalBytes),
          externals: bundle.externals,
          outcome: "",
          samples: [],
        }),
      );
      try {
        for (let run = 0; run < RUNS; run++) {
          // Alternating which variant goes first, so neither always follows the other's run.
          const order = run % 2 === 0 ? built : [...built].reverse();
          for (const bundle of order) {
            const sequence = runCounts.get(name) ?? 0;
            if (!bundle.floor) runCounts.set(name, sequence + 1);
            const into = measured[built.indexOf(bundle)] as Measured;
            const { sample, outcome } = await coldRun(name, bundle, sequence);
            into.samples.push(sample);
            into.outcome = outcome;
          }
        }
      } catch (caught) {
        for (const into of measured) into.error = (caught as Error).message;
        failed = true;
      }
      results.push(...measured);
      const error = measured.find((into) => into.error)?.error;
      process.stderr.write(`${name}: ${error ? `FAILED: ${error}` : `${RUNS} runs per variant`}\n`);
    }

    // The dispatcher's pages went out through SNS: one per run, or the runs measured nothing.
    const dispatchRuns = runCounts.get("dispatch");
    const stillPending = (await store.listPending()).length;

    const figureOf = (result: Measured) => {
      const of = (key: keyof Sample) => summary(result.samples.map((sample) => sample[key]));
      return {
        sdk: result.sdk,
        floor: result.floor,
        bundleKb: result.bundleKb,
        totalKb: result.totalKb,
        externals: result.externals,
        outcome: result.outcome,
        runs: result.samples.length,
        ...(result.samples.length > 0
          ? {
              totalMs: of("totalMs"),
              cpuMs: of("cpuMs"),
              nodeMs: of("nodeMs"),
              importMs: of("importMs"),
              ...(result.sdk === "runtime" ? { sdkImportMs: of("sdkImportMs") } : {}),
              handlerMs: of("handlerMs"),
              wallMs: of("wallMs"),
            }
          : {}),
        ...(result.error ? { error: result.error } : {}),
      };
    };
    const functions = [...bundles.keys()].map((name) => {
      const variants = results.filter((result) => result.name === name).map(figureOf);
      const medianOf = (sdk: SdkSource, key: "totalMs" | "cpuMs") =>
        variants.find((variant) => !variant.floor && variant.sdk === sdk)?.[key]?.median;
      const floor = variants.find((variant) => variant.floor)?.totalMs?.median;
      // Chosen by CPU time, which the machine's other load stretches least (see Sample.cpuMs).
      const runtime = medianOf("runtime", "cpuMs");
      const bundled = medianOf("bundled", "cpuMs");
      const deployed = medianOf(SDK_SOURCE[name], "totalMs");
      return {
        name,
        event: scenarios[name].event,
        targetMs: TARGET_MS[name],
        deployed: SDK_SOURCE[name],
        deployedMedianMs: deployed ?? null,
        withinTarget: deployed !== undefined && deployed <= TARGET_MS[name],
        floorClients: FLOOR_CLIENTS[name],
        floorMedianMs: floor ?? null,
        /** Firebreak's own: the deployed median above the SDK floor's. */
        overFloorMs:
          deployed === undefined || floor === undefined ? null : round(deployed - floor, 1),
        faster:
          runtime === undefined || bundled === undefined
            ? null
            : ((bundled <= runtime ? "bundled" : "runtime") as SdkSource),
        cpuMsMedian: { runtime: runtime ?? null, bundled: bundled ?? null },
        variants,
      };
    });

    const row = (cells: Array<string | number>) =>
      cells
        .map((cell, index) => (index === 0 ? String(cell).padEnd(24) : String(cell).padStart(9)))
        .join("")
        .replace(/ +$/, "");
    const range = (figure: { min: number; median: number; max: number }) =>
      `${figure.min} / ${figure.median} / ${figure.max}`;
    const b = summary(baseline);
    const bw = summary(baselineWall);
    console.log(
      `\nCold starts: ${RUNS} fresh processes per function and SDK source, ${MACHINE.cpu}, ${MACHINE.cores} cores, node ${CHILD_NODE_VERSION}`,
    );
    console.log(
      "total: performance.now() in the child when the handler returned, Node's bootstrap included\n",
    );
    console.log(
      `${row(["function (sdk)", "KB", "node", "import", "(sdk)", "handler", "wall", "cpu", "target"])}  ${"total ms min / med / max".padStart(26)}  outcome`,
    );
    console.log(
      `${row(["node -e (floor)", "", b.median, "", "", "", bw.median])}  ${range(b).padStart(26)}`,
    );
    for (const fn of functions) {
      for (const figure of fn.variants) {
        const label = figure.floor
          ? `${fn.name} (sdk floor)`
          : `${fn.name} (${figure.sdk})${figure.sdk === fn.deployed ? " *" : ""}`;
        if (!figure.totalMs) {
          console.log(`${row([label, figure.bundleKb])}  FAILED: ${figure.error}`);
          continue;
        }
        const flag = figure.totalMs.median > fn.targetMs ? "!" : " ";
        console.log(
          `${row([
            label,
            figure.bundleKb,
            figure.nodeMs?.median ?? "",
            figure.importMs?.median ?? "",
            figure.sdkImportMs?.median ?? "",
            figure.handlerMs?.median ?? "",
            figure.wallMs?.median ?? "",
            figure.cpuMs?.median ?? "",
            fn.targetMs,
          ])}  ${`${range(figure.totalMs)}${flag}`.padStart(26)}  ${figure.outcome}`,
        );
      }
    }
    console.log(
      "\n* deployed (stacks/bundle.ts SDK_SOURCE); ! median over the function's target. node, " +
        "import, handler, wall, cpu: medians in ms. node: before the import began; (sdk): the " +
        "runtime's SDK alone, in another fresh process; wall: spawn to exit, seen outside; cpu: " +
        "the child's CPU time (user + system) when the handler returned, which decides `faster`. " +
        "sdk floor: a bare handler making one request with each client the function's run uses, " +
        "bundled as deployed (a ! there: the target is under what Node and the SDK alone take)",
    );
    const withFloors = functions.filter((fn) => fn.overFloorMs !== null);
    if (withFloors.length > 0) {
      console.log("\nabove the sdk floor (deployed median minus floor median, ms):");
    }
    for (const fn of withFloors) {
      console.log(
        `  ${fn.name.padEnd(15)} ${String(fn.overFloorMs).padStart(6)}  (floor ${fn.floorMedianMs}, target ${fn.targetMs})`,
      );
    }
    for (const fn of functions) {
      if (fn.faster && fn.faster !== fn.deployed) {
        console.log(
          `${fn.name}: deployed with the ${fn.deployed} SDK, but the ${fn.faster} one took less CPU in this run`,
        );
      }
    }
    console.log(
      `stand-ins: ${standIn.counts.sqsMessages} SQS messages, ${standIn.counts.snsPublishes} pages and ${standIn.counts.floorPublishes} floor publishes to SNS, ${standIn.counts.ssmReads} SSM reads, ` +
        `${standIn.counts.unexpected.length} unexpected requests; incidents still pending: ${stillPending}`,
    );
    for (const fn of functions) console.log(`  ${fn.name.padEnd(15)} ${fn.event}`);
    if (dispatchRuns && standIn.counts.snsPublishes !== dispatchRuns) {
      console.error(
        `dispatch: ${dispatchRuns} runs but ${standIn.counts.snsPublishes} pages published`,
      );
      failed = true;
    }
    if (standIn.counts.unexpected.length > 0) {
      console.error(`unexpected requests: ${standIn.counts.unexpected.join("; ")}`);
      failed = true;
    }
    for (const result of results) {
      if (result.error) console.error(`${result.name} (${result.sdk}) FAILED: ${result.error}`);
    }

    // A partial run (some functions, one SDK source) is for iterating: bench/results keeps full runs.
    if (!failed && !SMOKE && !ONLY && !SDK_ONLY) {
      const file =
        CHILD_NODE === process.execPath
          ? "cold-start.json"
          : `cold-start-node${CHILD_NODE_VERSION.slice(1).split(".")[0]}.json`;
      writeResult(file, {
        childNode: CHILD_NODE_VERSION,
        runsPerFunctionAndSdk: RUNS,
        targetsMs: TARGET_MS,
        baseline: { nodeEvalMs: b, wallMs: bw },
        functions,
      });
      console.log(
        `\nwrote bench/results/${file} in ${round((performance.now() - started) / 1000, 1)} s`,
      );
    }
  } finally {
    client.destroy();
    await standIn.close();
    await dynamo.stop();
  }
} finally {
  removeWork();
}
if (failed) process.exitCode = 1;
