import type { ActionRecord, ConfigInput, OutboxEntry } from "@firebreak/core";
import { manualClock } from "@firebreak/core/testing";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack } from "./helpers";

const ALARMS = 1000;
const PER_MINUTE = 20;
const DIGEST = /^(\d+) more incidents? in the last minute on oncall \(from (\d\d:\d\d) UTC/;

/** Every critical alarm pages oncall; nothing escalates, so each incident pages once. */
const CONFIG: ConfigInput = {
  rules: [
    {
      name: "alarms",
      match: { source: "cloudwatch" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:firebreak-oncall" } },
};

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string };
}

/** The EventBridge alarm fixture for another alarm. */
function alarm(index: number): AlarmEvent {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as AlarmEvent;
  const alarmName = `flood-${String(index).padStart(4, "0")}`;
  event.id = `flood-event-${index}`;
  event.detail.alarmName = alarmName;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  return event;
}

let stack: LocalStack;
let api: Client;
/**
 * The functions' time, held at one point of a minute while the flood is decided: the budget's
 * minute is the dispatchers' clock, and a machine slow enough to cross a minute boundary mid-flood
 * would otherwise make two windows of it (20 pages in each, correctly, but not "in a minute").
 */
const clock = manualClock(Math.floor(Date.now() / 60_000) * 60_000 + 5_000);

beforeAll(async () => {
  stack = await startTestStack({ configInput: CONFIG, clock });
  api = client(stack);
});
afterAll(() => stack.stop());

const isDigest = (entry: OutboxEntry) => DIGEST.test(entry.text);

describe("page budget on the local stack", () => {
  it("turns 1,000 distinct critical alarms into at most 20 pages a minute and digests naming the rest", async () => {
    for (let from = 0; from < ALARMS; from += 100) {
      await api.deliver(Array.from({ length: 100 }, (_, offset) => alarm(from + offset)));
    }
    // Delivered under load, the last batches may still be in the queue: wait for all of them.
    const incidents = new Set<string>();
    while (incidents.size < ALARMS) {
      await stack.settle();
      let cursor: string | undefined;
      do {
        const page = await stack.store.list({ status: "open", limit: 100, cursor });
        for (const incident of page.items) incidents.add(incident.id);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (incidents.size < ALARMS) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(incidents.size).toBe(ALARMS);

    // Every page is decided (sent or folded) within the one minute the clock holds.
    const pages = new Map<string, ActionRecord>();
    while (pages.size < ALARMS) {
      await stack.settle();
      for (const id of incidents) {
        if (pages.has(id)) continue;
        const page = (await stack.store.get(id))?.actions.find((action) => action.type === "page");
        if (page && page.status !== "planned") pages.set(id, page);
      }
      if (pages.size < ALARMS) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const sent = stack.outbox.entries.filter((entry) => !isDigest(entry));
    expect(sent).toHaveLength(PER_MINUTE);

    // The minute turns: every folded page is named in a digest.
    clock.time += 60_000;
    const named = new Set<string>();
    for (;;) {
      await stack.settle();
      for (const entry of stack.outbox.entries.filter(isDigest)) {
        for (const id of incidents) if (entry.text.includes(`${id} flood-`)) named.add(id);
      }
      const folded = [...pages.values()].filter((page) => page.status === "skipped").length;
      if (pages.size === ALARMS && named.size === folded) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // Nothing more was paged when the minute turned: the rest went into the digest.
    expect(stack.outbox.entries.filter((entry) => !isDigest(entry))).toHaveLength(PER_MINUTE);

    const paged = new Set(sent.map((entry) => entry.incidentId));
    const foldedIds = [...pages].filter(([, page]) => page.status === "skipped").map(([id]) => id);
    expect(paged.size + foldedIds.length).toBe(ALARMS);
    expect(new Set(foldedIds)).toEqual(named);
    for (const id of foldedIds) expect(paged.has(id)).toBe(false);

    // One digest per minute that folded anything, counting what it names.
    const digests = stack.outbox.entries.filter(isDigest);
    const windows = digests.map((entry) => DIGEST.exec(entry.text)?.[2]);
    expect(new Set(windows).size).toBe(digests.length);
    const counted = digests.reduce((sum, entry) => sum + Number(DIGEST.exec(entry.text)?.[1]), 0);
    expect(counted).toBe(foldedIds.length);

    // Each incident's timeline says whether it paged or was folded into a digest.
    for (const id of incidents) {
      const record = await stack.store.get(id);
      const outcome = record?.timeline.findLast(
        (entry) => entry.type === "action" && entry.action === "page" && entry.status !== "planned",
      );
      if (paged.has(id)) expect(outcome).toMatchObject({ status: "succeeded" });
      else
        expect(outcome).toMatchObject({
          status: "skipped",
          reason: expect.stringMatching(
            /^folded into the digest sent after .*page budget for oncall spent/,
          ),
        });
    }
  }, 600_000);
});
