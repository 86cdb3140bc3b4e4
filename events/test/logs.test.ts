import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { listEvents, loadEvent } from "../fixtures";
import {
  encodeLogsBatch,
  type LogsBatch,
  LogsBatchSchema,
  LogsSubscriptionEventSchema,
  MAX_DECOMPRESSED_LOGS_BYTES,
} from "../schemas/logs";
import { issuePaths, REMOVE, setAt } from "./helpers";

const DECODED = ".decoded.json";
const sources = listEvents("logs").filter((name) => name.endsWith(DECODED));
const encoded = listEvents("logs").filter((name) => !name.endsWith(DECODED));
const encodedOf = (source: string) => `${source.slice(0, -DECODED.length)}.json`;

const batchOf = (name: string): LogsBatch => LogsBatchSchema.parse(loadEvent(name));
const delivery = (data: string) => ({ awslogs: { data } });
const gzipBase64 = (text: string | Buffer) => gzipSync(text).toString("base64");

/** A subscription delivery of a decoded fixture with one field of the batch broken. */
function brokenDelivery(source: string, path: (string | number)[], value: unknown) {
  const batch = loadEvent(source);
  setAt(batch, path, value);
  return delivery(gzipBase64(JSON.stringify(batch)));
}

describe("logs fixtures", () => {
  it("pairs every decoded source with its encoded delivery", () => {
    expect(sources.length).toBeGreaterThanOrEqual(4);
    expect(encoded).toEqual(sources.map(encodedOf).sort());
  });

  it.each(sources)("%s decodes from its committed encoded fixture (no drift)", (source) => {
    const event = LogsSubscriptionEventSchema.parse(loadEvent(encodedOf(source)));
    expect(event.awslogs.data).toEqual(batchOf(source));
  });

  it.each(sources)("encodeLogsBatch round-trips %s", (source) => {
    const batch = batchOf(source);
    const event = LogsSubscriptionEventSchema.parse(encodeLogsBatch(batch));
    expect(event.awslogs.data).toEqual(batch);
  });

  it("keeps CloudWatch's numeric event ids as strings", () => {
    const { logEvents } = batchOf("logs/lambda-timeout.decoded.json");
    for (const event of logEvents) {
      expect(event.id).toMatch(/^\d{56}$/);
      // CloudWatch puts the event's millisecond timestamp above bit 144 of the id.
      expect(BigInt(event.id) >> 144n).toBe(BigInt(event.timestamp));
    }
  });

  it("carries the Lambda platform lines a classifier keys on", () => {
    const messages = (name: string) =>
      batchOf(`logs/${name}.decoded.json`).logEvents.map((event) => event.message);
    expect(messages("lambda-timeout").join("")).toMatch(/Task timed out after 6\.01 seconds/);
    expect(messages("plain-text-errors").join("")).toMatch(/ERROR\tInvoke Error/);
    expect(messages("plain-text-errors").join("")).toMatch(/Runtime\.ExitError/);
    const levels = messages("lambda-errors-json").map((line) => JSON.parse(line).level);
    expect(levels).toEqual(["INFO", "ERROR"]);
  });

  it("accepts the health check with its empty group, stream and ids", () => {
    const event = LogsSubscriptionEventSchema.parse(loadEvent("logs/control-message.json"));
    expect(event.awslogs.data).toMatchObject({
      messageType: "CONTROL_MESSAGE",
      owner: "CloudwatchLogs",
      logGroup: "",
      subscriptionFilters: [],
    });
  });
});

describe("broken logs deliveries name the broken field", () => {
  const DATA = "awslogs.data";

  it("data that is not base64", () => {
    const result = LogsSubscriptionEventSchema.safeParse(delivery("H4sI not base64 ***"));
    expect(issuePaths(result)).toEqual([DATA]);
  });

  it("data that is base64 but not gzip", () => {
    const text = Buffer.from(JSON.stringify(batchOf("logs/lambda-timeout.decoded.json")));
    const result = LogsSubscriptionEventSchema.safeParse(delivery(text.toString("base64")));
    expect(issuePaths(result)).toEqual([DATA]);
    expect(result.error?.issues[0]?.message).toMatch(/gzip/);
  });

  it("gzip data cut short", () => {
    const data = gzipSync(JSON.stringify(batchOf("logs/lambda-timeout.decoded.json")));
    const truncated = data.subarray(0, data.length / 2).toString("base64");
    expect(issuePaths(LogsSubscriptionEventSchema.safeParse(delivery(truncated)))).toEqual([DATA]);
  });

  it("a gzip bomb over the limit is an issue, not a crash", () => {
    const bomb = gzipBase64(Buffer.alloc(MAX_DECOMPRESSED_LOGS_BYTES + 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const result = LogsSubscriptionEventSchema.safeParse(delivery(bomb));
    expect(issuePaths(result)).toEqual([DATA]);
    expect(result.error?.issues[0]?.message).toMatch(/exceeds 8388608 bytes/);
  });

  it("gunzipped data that is not JSON", () => {
    const result = LogsSubscriptionEventSchema.safeParse(delivery(gzipBase64("START RequestId")));
    expect(issuePaths(result)).toEqual([DATA]);
  });

  it.each([
    ["missing logGroup", ["logGroup"], REMOVE, "awslogs.data.logGroup"],
    ["an unknown messageType", ["messageType"], "DEBUG_MESSAGE", "awslogs.data.messageType"],
    ["no log events", ["logEvents"], [], "awslogs.data.logEvents"],
    [
      "an ISO timestamp",
      ["logEvents", 1, "timestamp"],
      "2024-11-05",
      "awslogs.data.logEvents.1.timestamp",
    ],
    ["a numeric id", ["logEvents", 0, "id"], 3.85e55, "awslogs.data.logEvents.0.id"],
    ["a missing message", ["logEvents", 2, "message"], REMOVE, "awslogs.data.logEvents.2.message"],
  ] as const)("a batch with %s", (_case, path, value, expected) => {
    const broken = brokenDelivery("logs/lambda-timeout.decoded.json", [...path], value);
    expect(issuePaths(LogsSubscriptionEventSchema.safeParse(broken))).toEqual([expected]);
  });

  it("a delivery without awslogs", () => {
    expect(issuePaths(LogsSubscriptionEventSchema.safeParse({ data: "H4sI" }))).toEqual([
      "awslogs",
    ]);
  });
});
