import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { SqsMessageQueue } from "../src";

const queueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/firebreak-signals";
const sqs = mockClient(SQSClient);
const queue = () =>
  new SqsMessageQueue({
    client: new SQSClient({ region: "us-east-1" }),
    queueUrl,
    sleep: async () => {},
  });

beforeEach(() => sqs.reset());

describe("SqsMessageQueue", () => {
  it("sends bodies in batches of at most 10 entries", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const bodies = Array.from({ length: 23 }, (_, index) => `{"n":${index}}`);
    await queue().send(bodies);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 1, {
      QueueUrl: queueUrl,
      Entries: bodies.slice(0, 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
    });
    const sizes = sqs
      .commandCalls(SendMessageBatchCommand)
      .map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
  });

  it("keeps each batch under 256 KiB", async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    await queue().send(Array.from({ length: 4 }, () => "x".repeat(100 * 1024)));
    const sizes = sqs
      .commandCalls(SendMessageBatchCommand)
      .map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([2, 2]);
  });

  it("retries only the entries SQS failed", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: "1", Code: "InternalError", SenderFault: false }] })
      .resolves({});
    await queue().send(["a", "b", "c"]);
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 2, {
      QueueUrl: queueUrl,
      Entries: [{ Id: "1", MessageBody: "b" }],
    });
  });

  it("fails loudly on sender faults and on entries that keep failing", async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: "0", Code: "InvalidMessageContents", SenderFault: true, Message: "bad" }],
    });
    await expect(queue().send(["a"])).rejects.toThrowError(
      "SQS refused 1 message(s): InvalidMessageContents bad",
    );
    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: "0", Code: "Throttled", SenderFault: false }] });
    await expect(queue().send(["a"])).rejects.toThrowError("after 4 attempts");
  });
});
