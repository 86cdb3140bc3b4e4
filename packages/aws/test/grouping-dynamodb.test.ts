import { Correlator, incidentId, Policy } from "@firebreak/core";
import { aConfig, aSignal } from "@firebreak/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbIncidentStore } from "../src";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const clock = { now: () => NOW };
const policy = new Policy(
  aConfig({
    services: { checkout: { match: [{ alarmName: "checkout-*" }] } },
    rules: [{ name: "checkout", match: { alarmName: "checkout-*" }, severity: "critical" }],
  }),
);

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  // In its own process, as the local stack runs it: 64 processors here would starve it.
  dynamo = await startEmbeddedDynamoDb({ process: "child" });
});
afterAll(() => dynamo.stop());

describe("grouping on DynamoDB", () => {
  it("makes one incident of 64 concurrent alerts of one service, each a processor of its own", {
    timeout: 180_000,
  }, async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    await ensureTable(client, "grouping-race");
    const store = new DynamoDbIncidentStore({ client, tableName: "grouping-race", clock });
    const signals = Array.from({ length: 64 }, (_, index) =>
      aSignal({
        fingerprint: `cloudwatch:123456789012:us-east-1:checkout-${index}`,
        title: `checkout-${index}`,
        attributes: { alarmName: `checkout-${index}` },
        at: new Date(NOW + index * 1000).toISOString(),
      }),
    );
    // Every processor races to create the service's incident under one derived id: the
    // conditional create lets exactly one win, and the others join it.
    const outcomes = await Promise.all(
      signals.map((signal) => new Correlator({ store, policy, clock }).process([signal])),
    );
    const id = incidentId("service:checkout", 1);
    expect(new Set(outcomes.map(({ results }) => results[0]?.incidentId))).toEqual(new Set([id]));
    expect(outcomes.every(({ results }) => results[0]?.outcome === "applied")).toBe(true);
    const { items } = await store.list({ limit: 100 });
    expect(items.map((item) => item.id)).toEqual([id]);
    const record = await store.get(id);
    expect(record?.incident).toMatchObject({ count: 64, service: "checkout" });
    expect(new Set(record?.alerts.map((alert) => alert.fingerprint))).toEqual(
      new Set(signals.map((signal) => signal.fingerprint)),
    );
    expect(record?.alerts.map((alert) => alert.id).sort()).toEqual(
      Array.from({ length: 64 }, (_, index) => `al${index + 1}`).sort(),
    );
    expect(
      (await store.list({ limit: 10, service: "checkout", status: "open" })).items,
    ).toHaveLength(1);
  });
});
