import { createHmac } from "node:crypto";
import type { ConfigInput, SlackActionsBlock, SlackMessage } from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../src/stack";
import { type Client, client, SLACK_SECRET, startTestStack } from "./helpers";

const RESPONDER = "U012AB3CD";
const STRANGER = "U999ZZZZZ";
const CONFIG: ConfigInput = {
  rules: [
    {
      name: "database-writer-down",
      match: { source: "cloudwatch", alarmName: "*-writer-down" },
      severity: "critical",
      actions: [
        { type: "failover", target: { kind: "rds-cluster", clusterId: "orders-db" } },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "metric-alarms",
      match: { source: "cloudwatch" },
      severity: "warning",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:firebreak-oncall" } },
  safety: { cooldown: "1s", maxActionsPerHour: 1000 },
  responders: [RESPONDER],
};

/** The slash command's fixture, for the `show` that gives a card with buttons. */
const COMMAND_FORM = loadRawEvent("slack/command.form.txt");

let sent = 0;

interface Press {
  actionId: string;
  value: unknown;
  user?: string;
}

/** A press as Slack posts it (FORMATS.md §11): its own trigger_id and response_url each time. */
function pressBody({ actionId, value, user = RESPONDER }: Press) {
  sent += 1;
  const responseUrl = `https://hooks.slack.com/actions/T0001/${sent}/b${sent}`;
  const payload = {
    type: "block_actions",
    user: { id: user, username: "someone", name: "someone", team_id: "T0001" },
    api_app_id: "A0001",
    token: "legacy-verification-token",
    team: { id: "T0001", domain: "example" },
    channel: { id: "C0001", name: "incidents" },
    container: { type: "message", message_ts: "1764680000.000100", channel_id: "C0001" },
    trigger_id: `13345224609.738474920.${sent}`,
    response_url: responseUrl,
    message: { type: "message", text: "original", ts: "1764680000.000100" },
    actions: [
      {
        action_id: actionId,
        block_id: "firebreak.block",
        value: JSON.stringify(value),
        type: "button",
        action_ts: "1764680001.000200",
        text: { type: "plain_text", text: "Button" },
      },
    ],
  };
  return {
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    responseUrl,
  };
}

/** Slack's signature, computed here independently of the code under test. */
const sign = (secret: string, timestamp: string, body: string) =>
  `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;

interface Signing {
  secret?: string;
  /** Seconds; default now. */
  timestamp?: number;
  /** null: no signature header at all. */
  signature?: string | null;
}

function send(stack: LocalStack, path: string, body: string, signing: Signing = {}) {
  const timestamp = String(signing.timestamp ?? Math.floor(Date.now() / 1000));
  const signature =
    signing.signature === undefined
      ? sign(signing.secret ?? SLACK_SECRET, timestamp, body)
      : signing.signature;
  return fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      ...(signature === null ? {} : { "x-slack-signature": signature }),
    },
    body,
  });
}

interface OutboxReply {
  responseUrl: string;
  text: string;
  replaceOriginal?: boolean;
  responseType?: string;
  blocks?: SlackMessage["blocks"];
}

async function repliesTo(api: Client, responseUrl: string): Promise<OutboxReply[]> {
  const outbox = (await (await api.get("/local/outbox")).json()) as {
    slackResponses: OutboxReply[];
  };
  return outbox.slackResponses.filter((entry) => entry.responseUrl === responseUrl);
}

/** Presses a button as the user; answers the HTTP status and what went to its response_url. */
async function press(stack: LocalStack, api: Client, what: Press) {
  const { body, responseUrl } = pressBody(what);
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await send(stack, "/slack/interactions", body, { timestamp });
  const replies = await repliesTo(api, responseUrl);
  return { status: response.status, body, timestamp, responseUrl, replies };
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string };
}

async function open(api: Client, alarmName: string): Promise<string> {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as AlarmEvent;
  event.id = `${alarmName}-${Date.now()}-${Math.random()}`;
  event.detail.alarmName = alarmName;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  const { incidents } = await api.deliver(event);
  expect(incidents).toHaveLength(1);
  return incidents[0] as string;
}

const buttonsOf = (blocks: ReadonlyArray<{ type: string }> = []) =>
  blocks
    .filter((block): block is SlackActionsBlock => block.type === "actions")
    .flatMap((block) => block.elements);

describe("Slack buttons on the local stack", () => {
  let stack: LocalStack;
  let api: Client;
  beforeAll(async () => {
    stack = await startTestStack({ configInput: CONFIG });
    api = client(stack);
  });
  afterAll(() => stack.stop());

  it("puts the buttons on the card, asking first before changing AWS and naming the target", async () => {
    const id = await open(api, "buttons-card-writer-down");
    const form = new URLSearchParams(COMMAND_FORM);
    form.set("text", `show ${id}`);
    form.set("trigger_id", `card.${++sent}`);
    const response = await send(stack, "/slack/commands", form.toString());
    expect(response.status).toBe(200);
    const card = (await response.json()) as SlackMessage;
    const buttons = buttonsOf(card.blocks);
    expect(buttons.map((button) => [button.action_id, JSON.parse(button.value)])).toEqual([
      ["firebreak.acknowledge", { incident: id }],
      ["firebreak.resolve", { incident: id }],
      ["firebreak.approve", { incident: id, action: "a1" }],
    ]);
    const approve = buttons[2];
    const targetKey = (await stack.store.get(id))?.actions[0]?.targetKey as string;
    expect(targetKey).toContain("orders-db");
    expect(approve?.confirm?.text.text).toContain(targetKey);
    expect(approve?.confirm?.confirm.text).toBeTruthy();
    expect(approve?.confirm?.deny.text).toBeTruthy();
  });

  it("refuses unsigned, wrongly signed and stale presses with 401, changing nothing", async () => {
    const id = await open(api, "buttons-unsigned-latency");
    const attempts: Array<[string, Signing]> = [
      ["missing", { signature: null }],
      ["wrong", { secret: "another-secret-of-the-same-size!!" }],
      ["stale", { timestamp: Math.floor(Date.now() / 1000) - 301 }],
    ];
    for (const [, signing] of attempts) {
      const { body, responseUrl } = pressBody({
        actionId: "firebreak.acknowledge",
        value: { incident: id },
      });
      const response = await send(stack, "/slack/interactions", body, signing);
      expect(response.status).toBe(401);
      expect(await repliesTo(api, responseUrl)).toEqual([]);
    }
    const incident = await api.incident(id);
    expect(incident.status).toBe("triggered");
    expect(incident.timeline.filter((entry) => entry.type === "acknowledged")).toEqual([]);
  });

  it("acknowledges once, replacing the message with who did it; a replay is already handled", async () => {
    const id = await open(api, "buttons-ack-latency");
    const first = await press(stack, api, {
      actionId: "firebreak.acknowledge",
      value: { incident: id },
    });
    expect(first.status).toBe(200);
    expect(first.replies).toHaveLength(1);
    const [update] = first.replies;
    expect(update).toMatchObject({ replaceOriginal: true, responseType: "in_channel" });
    expect(update?.text).toBe(`:eyes: \`${id}\` acknowledged by <@${RESPONDER}>`);
    expect(buttonsOf(update?.blocks).map((button) => button.action_id)).toEqual([
      "firebreak.resolve",
    ]);
    expect(await api.incident(id)).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: `slack:${RESPONDER}`,
    });

    // The very request again, signature and all, as someone who captured it would send it.
    const replay = await send(stack, "/slack/interactions", first.body, {
      timestamp: first.timestamp,
    });
    expect(replay.status).toBe(200);
    const replies = await repliesTo(api, first.responseUrl);
    expect(replies.map((reply) => reply.replaceOriginal)).toEqual([true, false]);
    expect(replies[1]).toMatchObject({ responseType: "ephemeral" });
    expect(replies[1]?.text).toContain("already handled");
    const incident = await api.incident(id);
    expect(incident.timeline.filter((entry) => entry.type === "acknowledged")).toHaveLength(1);
  });

  it("resolves once; a second press says it is already resolved", async () => {
    const id = await open(api, "buttons-resolve-latency");
    const first = await press(stack, api, {
      actionId: "firebreak.resolve",
      value: { incident: id },
    });
    expect(first.replies[0]).toMatchObject({ replaceOriginal: true });
    expect(first.replies[0]?.text).toContain(`resolved by <@${RESPONDER}>`);
    expect(buttonsOf(first.replies[0]?.blocks)).toEqual([]);
    const second = await press(stack, api, {
      actionId: "firebreak.resolve",
      value: { incident: id },
    });
    expect(second.replies[0]).toMatchObject({ replaceOriginal: false, responseType: "ephemeral" });
    expect(second.replies[0]?.text).toContain("already resolved");
    const incident = await api.incident(id);
    expect(incident).toMatchObject({ status: "resolved", resolvedBy: `slack:${RESPONDER}` });
    expect(incident.timeline.filter((entry) => entry.type === "resolved")).toHaveLength(1);
  });

  it("approves once; the action runs and its outcome follows on the same response_url", async () => {
    const id = await open(api, "buttons-approve-writer-down");
    const value = { incident: id, action: "a1" };
    const first = await press(stack, api, { actionId: "firebreak.approve", value });
    expect(first.replies[0]).toMatchObject({ replaceOriginal: true, responseType: "in_channel" });
    expect(first.replies[0]?.text).toContain(`approved by <@${RESPONDER}>`);
    const outcome = await eventually(async () =>
      (await repliesTo(api, first.responseUrl)).find((reply) => reply.text.startsWith(`${id}/a1`)),
    );
    // The local stack simulates remediation: "simulated" is its success.
    expect(outcome.text).toContain(": simulated");
    const second = await press(stack, api, { actionId: "firebreak.approve", value });
    expect(second.replies[0]?.text).toContain("not waiting for approval");
    const record = await stack.store.get(id);
    expect(record?.actions.filter((action) => action.approvedBy !== null)).toEqual([
      expect.objectContaining({ id: "a1", approvedBy: `slack:${RESPONDER}` }),
    ]);
  });

  it("refuses a stranger's press with a note for them alone, changing nothing", async () => {
    const id = await open(api, "buttons-stranger-writer-down");
    for (const [actionId, value] of [
      ["firebreak.acknowledge", { incident: id }],
      ["firebreak.resolve", { incident: id }],
      ["firebreak.approve", { incident: id, action: "a1" }],
    ] as const) {
      const refused = await press(stack, api, { actionId, value, user: STRANGER });
      expect(refused.status).toBe(200);
      expect(refused.replies).toHaveLength(1);
      expect(refused.replies[0]).toMatchObject({
        replaceOriginal: false,
        responseType: "ephemeral",
      });
      expect(refused.replies[0]?.text).toContain(`Sorry <@${STRANGER}>, only responders may`);
    }
    const incident = await api.incident(id);
    expect(incident.status).toBe("triggered");
    const record = await stack.store.get(id);
    expect(record?.actions.find((action) => action.id === "a1")?.status).toBe("awaiting-approval");
    expect(incident.timeline.filter((entry) => entry.type === "refused")).toHaveLength(3);
  });

  it("answers 400 to a press without a payload, once signed", async () => {
    const response = await send(stack, "/slack/interactions", "token=x&team_id=T0001");
    expect(response.status).toBe(400);
  });
});
