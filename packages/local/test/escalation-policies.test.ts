import type { ConfigInput, OutboxEntry } from "@firebreak/core";
import { loadEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

/** Levels of two seconds, so the policy runs through in seconds; the sweep runs every second. */
const CONFIG: ConfigInput = {
  channels: { managers: { sns: "arn:aws:sns:us-east-1:123456789012:managers" } },
  people: {
    alice: { slack: "U0ALICE01", phone: "+14155550101" },
    dave: { slack: "U0DAVE001" },
    // The API acknowledges as api:<token name>: the test token's name is a person here.
    tests: { slack: "U0TESTS01" },
  },
  schedules: {
    nights: {
      timeZone: "UTC",
      // Nobody is on call before a rotation starts.
      rotation: { people: ["alice"], shift: "1w", handoff: "Mon 09:00", start: "2099-01-05" },
    },
  },
  escalationPolicies: {
    default: {
      levels: [
        { notify: [{ person: "alice" }], after: "2s" },
        {
          notify: [{ schedule: "nights" }, { person: "dave" }, { channel: "managers" }],
          after: "2s",
        },
      ],
      repeat: 1,
      reacknowledgeAfter: "3s",
    },
  },
  rules: [
    { name: "api", match: { alarmName: "api-*" }, severity: "critical", escalation: "default" },
  ],
  paging: { budget: { perMinute: 1000, perHour: 10_000 } },
};

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string };
}

function alarm(name: string): AlarmEvent {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as AlarmEvent;
  event.id = `event-${name}`;
  event.detail.alarmName = name;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
  return event;
}

let stack: LocalStack;
let api: Client;

beforeAll(async () => {
  stack = await startTestStack({ configInput: CONFIG });
  api = client(stack);
});
afterAll(() => stack.stop());

const entriesOf = (id: string) => stack.outbox.entries.filter((entry) => entry.incidentId === id);
const line = (entry: OutboxEntry) => `${entry.kind} ${entry.recipient} ${entry.transport}`;

/** Waits (settling the stack between looks) until `done` holds. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) {
    await stack.settle();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function open(name: string): Promise<string> {
  const { incidents } = await api.deliver(alarm(name));
  const id = incidents[0];
  if (!id) throw new Error(`no incident for ${name}`);
  return id;
}

describe("escalation policies on the local stack", () => {
  it("notifies each level once per round, recipients in the outbox, the nobody-on-call schedule in the timeline", async () => {
    const id = await open("api-policy");
    await until(async () => (await stack.store.get(id))?.escalation.nextAt === null);
    await until(() => entriesOf(id).filter((entry) => entry.kind === "escalation").length === 6);
    const lines = entriesOf(id).map(line);
    expect(lines.filter((entry) => entry.startsWith("page "))).toEqual(
      expect.arrayContaining(["page person:alice sns", "page person:alice slack"]),
    );
    expect(lines.slice().sort()).toEqual(
      [
        "page person:alice sns",
        "page person:alice slack",
        "escalation person:dave slack",
        "escalation channel:managers sns",
        "escalation person:alice sns",
        "escalation person:alice slack",
        "escalation person:dave slack",
        "escalation channel:managers sns",
      ].sort(),
    );
    const incident = await api.incident(id);
    expect((incident as unknown as { escalation: unknown }).escalation).toEqual({
      policy: "default",
      level: 2,
      round: 2,
      levels: 2,
      rounds: 2,
      nextAt: null,
    });
    const skipped = incident.timeline.filter(
      (entry) => entry.type === "action" && entry.status === "skipped",
    );
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatchObject({
      target: "page:schedule:nights",
      reason: "level 2 of 2, round 1 of 2: nobody on call for schedule nights, skipped",
    });
    // Each level after the previous one's planned time plus its `after`, never before it.
    const record = await stack.store.get(id);
    const planned = (record?.actions ?? [])
      .filter((action) => action.page && action.status !== "skipped")
      .map((action) => Date.parse(action.plannedAt));
    const levels = [...new Set(planned)];
    expect(levels).toHaveLength(4);
    levels.forEach((at, index) => {
      expect(at).toBeGreaterThanOrEqual((levels[0] as number) + index * 2000);
    });
  });

  it("stops when acknowledged, then reminds the acknowledger after reacknowledgeAfter; resolving stops that", async () => {
    const id = await open("api-acked");
    await until(() => entriesOf(id).length === 2);
    const ack = await api.post(
      `/incidents/${id}/acknowledge`,
      {},
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(ack.status).toBe(200);
    const acknowledgedAt = (await stack.store.get(id))?.incident.acknowledgedAt as string;
    await until(() => entriesOf(id).some((entry) => entry.recipient === "person:tests"));
    // After the acknowledgement only the reminder went out (a level may have been due before).
    const after = entriesOf(id).filter((entry) => entry.at > acknowledgedAt);
    expect(after.map(line)).toEqual(["escalation person:tests slack"]);
    const reminder = after[0] as OutboxEntry;
    expect(Date.parse(reminder.at)).toBeGreaterThanOrEqual(Date.parse(acknowledgedAt) + 3000);

    const resolved = await api.post(
      `/incidents/${id}/resolve`,
      {},
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(resolved.status).toBe(200);
    await stack.settle();
    const record = await stack.store.get(id);
    expect(record?.escalation.nextAt).toBeNull();
    expect(record?.actions.filter((action) => action.status === "planned")).toEqual([]);
  });
});
