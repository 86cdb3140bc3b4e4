import { SILENCE_CACHE_MS } from "@firebreak/core";
import { describe, expect, it } from "vitest";
import { sentryIssueWebhook, startTestStack, until } from "./helpers";

/** Distinct Sentry issues sent at once: each one a new incident that pages. */
const ISSUES = 40;
/**
 * DynamoDB requests, writes and write units per new paging incident, as measured (2.5-2.6
 * requests, 2.075 writes, 4.075 write units; 2.58-2.7 and 2.1-2.15 in stream batches of 10
 * rather than 100; 4.2 requests and 3.13 writes before the
 * first incident needed no pointer, 5.5 and 4.4 before the page budget's take became the
 * dispatcher's claim): the processor's read of pointers and first incidents (one BatchGetItem a
 * batch) and the incident's create; the dispatcher's outcome write; the page budget's hour item,
 * written once per stream batch. Bounds leave room for a few more stream batches. Issue 15's
 * target is 4 and 3: never raise these without saying why.
 */
const REQUESTS_PER_INCIDENT = 2.85;
const WRITES_PER_INCIDENT = 2.2;
/**
 * Write units (DynamoDB bills a write per started kilobyte): the incident's two writes of about
 * 2 KB each, and its share of the budget's hour item.
 */
const WRITE_UNITS_PER_INCIDENT = 4.3;
const WRITES = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];

describe("DynamoDB requests per new incident", () => {
  it("pins the requests, writes and write units a storm of distinct paging Sentry issues costs", {
    timeout: 120_000,
  }, async () => {
    // The storm starts 20 s into a minute: a page due within clock skew of a minute's edge is
    // claimed on its incident item (one more write), and a second's storm must not straddle one.
    const offset = 20_000 - (Date.now() % 60_000);
    const stack = await startTestStack({
      clock: { now: () => Date.now() + offset },
      // As deployed: silences and windows are read once per SILENCE_CACHE_MS, not per incident.
      silenceCacheMs: SILENCE_CACHE_MS,
      // The sweep's queries (every second locally) are not the pipeline's: keep it out.
      intervals: { escalationsMs: 3_600_000 },
      configInput: {
        rules: [
          {
            name: "errors",
            match: { source: "sentry" },
            severity: "critical",
            actions: [{ type: "page", channel: "oncall" }],
          },
        ],
        channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
        escalation: { maxRepeats: 0 },
        // Every incident pages: none folds into a digest.
        paging: { budget: { perMinute: 1000, perHour: 10_000 } },
      },
    });
    try {
      const before = { ...stack.dynamodbRequests };
      const unitsBefore = stack.dynamodbUnits.write;
      const answers = await Promise.all(
        Array.from({ length: ISSUES }, async (_, index) => {
          const { body, headers } = sentryIssueWebhook(8_000_000_000 + index);
          const response = await fetch(`${stack.url}/webhooks/sentry`, {
            method: "POST",
            headers,
            body,
          });
          return response.status;
        }),
      );
      expect(answers.every((status) => status === 202)).toBe(true);
      const pages = () => stack.outbox.entries.filter((entry) => entry.kind === "page");
      // Waiting reads nothing from DynamoDB: the outbox is in memory, settle reads the stream.
      await until(async () => pages().length >= ISSUES);
      await stack.settle();
      const counted = Object.entries(stack.dynamodbRequests).map(
        ([name, count]) => [name, count - (before[name] ?? 0)] as const,
      );
      const requests = counted.reduce((sum, [, count]) => sum + count, 0);
      const writes = counted
        .filter(([name]) => WRITES.includes(name))
        .reduce((sum, [, count]) => sum + count, 0);

      expect(new Set(pages().map((page) => page.incidentId)).size).toBe(ISSUES);
      expect(pages()).toHaveLength(ISSUES);
      // Every page's outcome is recorded: nothing is left for the dispatcher.
      expect(await stack.store.listPending()).toEqual([]);
      const perIncident = {
        requests: requests / ISSUES,
        writes: writes / ISSUES,
        writeUnits: (stack.dynamodbUnits.write - unitsBefore) / ISSUES,
      };
      expect(perIncident.requests, JSON.stringify(counted)).toBeLessThanOrEqual(
        REQUESTS_PER_INCIDENT,
      );
      expect(perIncident.writes, JSON.stringify(counted)).toBeLessThanOrEqual(WRITES_PER_INCIDENT);
      expect(perIncident.writeUnits).toBeLessThanOrEqual(WRITE_UNITS_PER_INCIDENT);
    } finally {
      await stack.stop();
    }
  });
});
