import type { Server } from "node:http";
import type { DynaliteOptions } from "dynalite";

export interface DynaliteWithStreamsOptions extends DynaliteOptions {
  /** Records kept per stream, oldest trimmed first (100,000 unless set). */
  maxStreamRecords?: number;
}

/**
 * dynalite with DynamoDB Streams (ListStreams, DescribeStream, GetShardIterator, GetRecords) on
 * the same endpoint, for tables created with a StreamSpecification.
 */
export function dynaliteWithStreams(options?: DynaliteWithStreamsOptions): Server;
