import { gunzipSync, gzipSync } from "node:zlib";
import {
  CloudWatchLogEventSchema,
  CloudWatchLogsDecodeSchema,
} from "@aws-lambda-powertools/parser/schemas";
import * as z from "zod";
import { AccountIdSchema } from "./cloudwatch-alarm";
import { jsonString } from "./json";

/**
 * Ceiling on the gunzipped size of one subscription batch: generous for real batches, low enough
 * that a few-KB gzip bomb cannot expand into the function's memory.
 */
export const MAX_DECOMPRESSED_LOGS_BYTES = 8 * 1024 * 1024;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** One log event of a DATA_MESSAGE: `id` is CloudWatch's long numeric string. */
const DataLogEventSchema = CloudWatchLogEventSchema.extend({
  id: z.string().regex(/^\d+$/, "Expected CloudWatch's numeric log event id"),
  timestamp: z.number().int().nonnegative(),
});

const DataMessageSchema = CloudWatchLogsDecodeSchema.extend({
  messageType: z.literal("DATA_MESSAGE"),
  // The account the logs belong to; only the health check says "CloudwatchLogs" here.
  owner: AccountIdSchema,
  logGroup: z.string().min(1),
  logStream: z.string().min(1),
  logEvents: z.array(DataLogEventSchema).min(1),
});

/** The health check: owner "CloudwatchLogs", empty log group, stream, filters and event ids. */
const ControlMessageSchema = CloudWatchLogsDecodeSchema.extend({
  messageType: z.literal("CONTROL_MESSAGE"),
  logEvents: z.array(CloudWatchLogEventSchema),
});

/**
 * The gunzipped `awslogs.data` of a subscription delivery: a DATA_MESSAGE carrying log events, or
 * a CONTROL_MESSAGE health check that should be acknowledged and otherwise ignored. Powertools'
 * `CloudWatchLogsDecodeSchema` narrowed by `messageType`. Follows the CloudWatch Logs user guide,
 * "Subscription filters", and powertools `packages/parser/src/schemas/cloudwatch.ts`.
 */
export const LogsBatchSchema = z.discriminatedUnion("messageType", [
  DataMessageSchema,
  ControlMessageSchema,
]);
export type LogsBatch = z.infer<typeof LogsBatchSchema>;
export type LogEvent = LogsBatch["logEvents"][number];

/** base64 -> bounded gunzip -> UTF-8 text; every failure is an issue on `awslogs.data`. */
const GzipBase64Schema = z.base64("Expected base64 gzip data").transform((data, ctx): string => {
  const compressed = Buffer.from(data, "base64");
  if (compressed[0] !== GZIP_MAGIC[0] || compressed[1] !== GZIP_MAGIC[1]) {
    ctx.addIssue({ code: "custom", message: "Expected gzip data (no 1f 8b header)" });
    return z.NEVER;
  }
  try {
    return gunzipSync(compressed, { maxOutputLength: MAX_DECOMPRESSED_LOGS_BYTES }).toString(
      "utf8",
    );
  } catch (error) {
    const tooLarge = (error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE";
    ctx.addIssue({
      code: "custom",
      message: tooLarge
        ? `Decompressed data exceeds ${MAX_DECOMPRESSED_LOGS_BYTES} bytes`
        : "Corrupt gzip data",
    });
    return z.NEVER;
  }
});

/**
 * A CloudWatch Logs subscription delivery `{ awslogs: { data } }`, decoded: `data` becomes the
 * validated {@link LogsBatch}. Bad base64, non-gzip data, a batch over
 * {@link MAX_DECOMPRESSED_LOGS_BYTES} and invalid JSON are issues at `awslogs.data`.
 *
 * @example
 * ```ts
 * const event = LogsSubscriptionEventSchema.parse(lambdaEvent);
 * if (event.awslogs.data.messageType === "CONTROL_MESSAGE") return;
 * for (const line of event.awslogs.data.logEvents) classify(line.message);
 * ```
 */
export const LogsSubscriptionEventSchema = z.object({
  awslogs: z.object({
    data: GzipBase64Schema.pipe(jsonString(LogsBatchSchema)),
  }),
});
export type LogsSubscriptionEvent = z.infer<typeof LogsSubscriptionEventSchema>;

/**
 * Encodes a batch the way CloudWatch Logs delivers it (gzip, then base64), for tests,
 * benchmarks and the local stack.
 *
 * @example
 * ```ts
 * const event = encodeLogsBatch(batch);
 * LogsSubscriptionEventSchema.parse(event).awslogs.data; // deep-equals batch
 * ```
 */
export function encodeLogsBatch(batch: LogsBatch): { awslogs: { data: string } } {
  const compressed = gzipSync(Buffer.from(JSON.stringify(batch), "utf8"));
  return { awslogs: { data: compressed.toString("base64") } };
}
