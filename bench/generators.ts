import { createHmac } from "node:crypto";
import { encodeLogsBatch, type LogsBatch, loadEvent, loadRawEvent } from "@firebreak/events";
import type { Job } from "./load";
import { BENCH_SENTRY_SECRET } from "./local-stack";
import { benchProject } from "./teams";

const START = Date.parse("2026-11-26T10:00:00.000Z");

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string; state: { timestamp: string } };
}

/** An alarm storm: `count` state-change events over `alarms` alarms, as EventBridge sends them. */
export function stormEvents(count: number, alarms: number): AlarmEvent[] {
  const template = loadEvent("cloudwatch/eventbridge-alarm.json") as AlarmEvent;
  return Array.from({ length: count }, (_, index) => {
    const event = structuredClone(template);
    const name = `storm-alarm-${String(index % alarms).padStart(2, "0")}`;
    event.id = `storm-${index}-${Math.random().toString(36).slice(2, 10)}`;
    event.detail.alarmName = name;
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
    event.detail.state.timestamp = new Date(START + index).toISOString().replace("Z", "+0000");
    return event;
  });
}

/**
 * Requests of `perRequest` events each to /local/events (one event: the bare event).
 * @param weight what one event counts as (a logs batch counts its lines)
 */
export function localEventJobs(
  events: ReadonlyArray<unknown>,
  perRequest: number,
  weight = 1,
): Job[] {
  const jobs: Job[] = [];
  for (let start = 0; start < events.length; start += perRequest) {
    const slice = events.slice(start, start + perRequest);
    jobs.push({
      path: "/local/events",
      body: JSON.stringify(perRequest === 1 ? slice[0] : slice),
      events: slice.length * weight,
    });
  }
  return jobs;
}

/** Signed Sentry `error` webhooks, each for a different issue (issues `first`, `first + 1`...). */
export function sentryJobs(count: number, first = 0): Job[] {
  const template = JSON.parse(loadRawEvent("sentry/error-created.json")) as {
    data: {
      error: {
        issue_id: string;
        event_id: string;
        url: string;
        title: string;
        datetime: string;
        timestamp: number;
        received: number;
      };
    };
  };
  // Errors happening now: the fixture's 2024 date would make every incident "quiet for 24h" and
  // auto-resolve at the first sweep.
  const now = Date.now();
  return Array.from({ length: count }, (_, offset) => {
    const index = first + offset;
    const body = structuredClone(template);
    body.data.error.datetime = new Date(now).toISOString();
    body.data.error.timestamp = now / 1000;
    body.data.error.received = now / 1000;
    body.data.error.issue_id = String(7_000_000_000 + index);
    body.data.error.event_id = (index.toString(16).padStart(8, "0") + "0".repeat(24)).slice(0, 32);
    body.data.error.title = `PaymentError: card declined for order ${index}`;
    // Spread over the projects whose teams page their own channels (bench.config.ts).
    body.data.error.url = body.data.error.url.replace(
      "/projects/acme/checkout/",
      `/projects/acme/${benchProject(index)}/`,
    );
    const raw = JSON.stringify(body);
    return {
      path: "/webhooks/sentry",
      body: raw,
      events: 1,
      headers: {
        "sentry-hook-resource": "error",
        "request-id": `${index.toString(16).padStart(12, "0")}${"a".repeat(20)}`,
        "sentry-hook-timestamp": String(Math.floor(Date.now() / 1000)),
        "sentry-hook-signature": createHmac("sha256", BENCH_SENTRY_SECRET)
          .update(raw)
          .digest("hex"),
      },
    };
  });
}

// Twenty errors that differ in words, not only in numbers (numbers are normalised away).
const DEPENDENCIES = [
  "payments",
  "inventory",
  "shipping",
  "pricing",
  "search",
  "accounts",
  "billing",
  "tax",
  "catalog",
  "reviews",
  "loyalty",
  "fraud",
  "ledger",
  "notifications",
  "recommendations",
  "warehouse",
  "returns",
  "coupons",
  "identity",
  "audit",
];
const SIGNATURES = DEPENDENCIES.map(
  (name) => `Error: ${name} dependency failed: upstream answered 503 after {ms} ms for order {id}`,
);

/**
 * CloudWatch Logs subscription batches of `lines` lines: one in five an ERROR of one of 20
 * signatures (with ids and timings that differ each time), the rest INFO noise.
 */
export function logsEvents(batches: number, lines: number): unknown[] {
  let sequence = 0;
  let errors = 0;
  return Array.from({ length: batches }, (_, batch) => {
    const logEvents = Array.from({ length: lines }, (_, line) => {
      sequence += 1;
      const timestamp = START + sequence;
      const isError = line % 5 === 0;
      const message = isError
        ? `${new Date(timestamp).toISOString()}\t${crypto.randomUUID()}\tERROR\t${(
            SIGNATURES[errors++ % 20] as string
          )
            .replace("{ms}", String(1000 + (sequence % 997)))
            .replace("{id}", `ord_${sequence.toString(36)}x9`)}\n`
        : `${new Date(timestamp).toISOString()}\t${crypto.randomUUID()}\tINFO\tGET /orders/${sequence} 200 ${sequence % 90} ms\n`;
      return { id: `${(BigInt(timestamp) << 144n) | BigInt(sequence)}`, timestamp, message };
    });
    const decoded: LogsBatch = {
      messageType: "DATA_MESSAGE",
      owner: "123456789012",
      logGroup: "/aws/lambda/bench-service",
      logStream: `2026/11/26/[$LATEST]${batch.toString(16).padStart(32, "0")}`,
      subscriptionFilters: ["firebreak"],
      logEvents,
    };
    return encodeLogsBatch(decoded);
  });
}
