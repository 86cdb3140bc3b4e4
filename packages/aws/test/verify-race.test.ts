import {
  type AlarmState,
  type CloudWatchReader,
  type IncidentRecord,
  nextDueAt,
  planResponses,
  startVerification,
  sweep,
} from "@firebreak/core";
import { aConfig, aRecord, manualClock } from "@firebreak/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDynamoDb,
  ensureTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from "../../local/src/embedded-dynamodb";
import { DynamoDbIncidentStore } from "../src";

const T = Date.parse("2026-11-26T10:00:00.000Z");
const MINUTE = 60_000;
const iso = (time: number) => new Date(time).toISOString();

const config = aConfig({
  rules: [
    {
      name: "api",
      match: { alarmName: "api-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "api" },
          by: 2,
          max: 8,
          verifyAfter: "2m",
          ifIneffective: [
            {
              type: "rollback",
              target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
            },
          ],
        },
      ],
    },
  ],
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
});

/**
 * Answers only once `parties` sweeps have asked: every sweep has read the record before any
 * of them writes, which is the race to decide.
 */
class BarrierCloudWatch implements CloudWatchReader {
  asked = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly parties: number) {}

  async alarmStates(names: ReadonlyArray<string>): Promise<AlarmState[]> {
    this.asked += 1;
    if (this.asked % this.parties !== 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      for (const resolve of this.waiting.splice(0)) resolve();
    }
    return names.map((alarmName) => ({
      alarmName,
      state: "ALARM",
      since: iso(T),
      reason: "Threshold Crossed",
    }));
  }

  async metricSeries(): Promise<null> {
    return null;
  }
}

let dynamo: EmbeddedDynamoDb;
const clock = manualClock(T);

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(() => dynamo.stop());

/** An incident whose scale-out ran at T and is due for its check at T + 2m. */
function ranScaleOut(index: number): IncidentRecord {
  const opened = aRecord({
    fingerprint: `cloudwatch:123456789012:us-east-1:api-${index}`,
    title: `api-${index}`,
    at: iso(T),
    rule: "api",
    severity: "critical",
    attributes: { alarmName: `api-${index}`, account: "123456789012" },
  });
  const planned = planResponses(opened, [{ type: "opened", at: iso(T) }], {
    config,
    now: T,
    region: "us-east-1",
  });
  const ran = structuredClone(planned);
  const scale = ran.actions[0];
  if (!scale) throw new Error("the rule's scale-out was not planned");
  Object.assign(scale, { status: "succeeded", at: iso(T), reason: "desiredCount 2 → 4" });
  startVerification(scale, T);
  return ran;
}

describe("two sweeps checking one verification at once (DynamoDB)", () => {
  it("decide the verdict and plan the ladder's next step exactly once", async () => {
    const tableName = "verify-race";
    await ensureTable(localDynamoDbClient(dynamo.endpoint), tableName);
    // Two sweeps are two Lambda instances: each with its own client and store.
    const stores = [0, 1].map(
      () =>
        new DynamoDbIncidentStore({
          client: localDynamoDbClient(dynamo.endpoint),
          tableName,
          config,
          clock,
        }),
    );
    const [first, second] = stores as [DynamoDbIncidentStore, DynamoDbIncidentStore];
    const ids: string[] = [];
    for (let index = 0; index < 12; index++) {
      const record = ranScaleOut(index);
      await first.save(record, null);
      ids.push(record.incident.id);
    }
    const dueAt = T + 2 * MINUTE;
    expect(nextDueAt((await first.get(ids[0] as string)) as IncidentRecord, config)).toBe(dueAt);
    expect(await first.listDue(dueAt - 1)).toEqual([]);
    expect((await first.listDue(dueAt)).sort()).toEqual([...ids].sort());

    clock.time = dueAt;
    const cloudwatch = new BarrierCloudWatch(2);
    const reports = await Promise.all(
      stores.map((store) => sweep({ store, config, clock, region: "us-east-1", cloudwatch })),
    );
    expect(cloudwatch.asked).toBe(2 * ids.length);
    // Each incident's verdict was written by exactly one of the two.
    const verified = reports.flatMap((report) => report.verified).sort();
    expect(verified).toEqual([...ids].sort());

    for (const id of ids) {
      const record = (await second.get(id)) as IncidentRecord;
      expect(
        record.actions.map((action) => `${action.id}:${action.type}:${action.status}`),
      ).toEqual(["a1:scale:succeeded", "a2:rollback:planned"]);
      expect(record.actions[0]?.verification).toMatchObject({
        status: "ineffective",
        checkedAt: iso(dueAt),
        evidence: `${record.incident.title} is still ALARM since 10:00:00: Threshold Crossed`,
      });
      expect(record.actions[1]?.follows).toEqual({ action: "a1", root: "a1", step: 0 });
      const verdicts = record.timeline.filter(
        (entry) => entry.type === "action" && entry.reason?.startsWith("verified "),
      );
      expect(verdicts).toHaveLength(1);
    }

    // A rerun of the sweep (Lambda retries a scheduled invocation) finds nothing to check.
    const rerun = await sweep({ store: second, config, clock, region: "us-east-1", cloudwatch });
    expect(rerun.verified).toEqual([]);
    expect(cloudwatch.asked).toBe(2 * ids.length);
  });
});
