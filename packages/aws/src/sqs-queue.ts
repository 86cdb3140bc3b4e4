import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { MessageQueue } from "@firebreak/core";

/** SQS takes at most 10 entries and 256 KiB per SendMessageBatch. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ATTEMPTS = 4;

export interface SqsMessageQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Waits between retries of entries SQS refused; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The queue port on SQS: batches of up to 10, entries SQS refuses in a batch (throttling,
 * internal errors) retried with backoff; the call fails only if some still fail, so the
 * caller's own retry (Lambda's, the webhook sender's) takes over and nothing is lost silently.
 */
export class SqsMessageQueue implements MessageQueue {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: SqsMessageQueueOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async send(bodies: ReadonlyArray<string>): Promise<void> {
    for (const chunk of chunks(bodies)) await this.sendChunk(chunk);
  }

  private async sendChunk(bodies: string[]): Promise<void> {
    let entries = bodies.map((body, index) => ({ Id: String(index), MessageBody: body }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const result = await this.options.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }),
      );
      const failed = new Set((result.Failed ?? []).map((failure) => failure.Id));
      const permanent = (result.Failed ?? []).filter((failure) => failure.SenderFault);
      if (permanent.length > 0) {
        throw new Error(
          `SQS refused ${permanent.length} message(s): ${permanent[0]?.Code} ${permanent[0]?.Message ?? ""}`.trim(),
        );
      }
      entries = entries.filter((entry) => failed.has(entry.Id));
      if (entries.length > 0) {
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`SQS failed ${entries.length} message(s) after ${attempt} attempts`);
        }
        await this.sleep(100 * 2 ** attempt);
      }
    }
  }
}

/** Splits bodies into SendMessageBatch-sized groups, by count and by total size. */
function* chunks(bodies: ReadonlyArray<string>): Generator<string[]> {
  let chunk: string[] = [];
  let size = 0;
  for (const body of bodies) {
    const bytes = Buffer.byteLength(body);
    if (chunk.length === MAX_ENTRIES || (chunk.length > 0 && size + bytes > MAX_BATCH_BYTES)) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(body);
    size += bytes;
  }
  if (chunk.length > 0) yield chunk;
}
