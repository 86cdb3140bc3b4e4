import { createHmac } from "node:crypto";
import type { ConfigInput, SlackMessage } from "@firebreak/core";
import { loadEvent, loadRawEvent } from "@firebreak/events";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../src/lambda";
import type { LocalStack } from "../src/stack";
import { type Client, client, SLACK_SECRET, startTestStack } from "./helpers";

const RESPONDER = "U012AB3CD";
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
  // Many incidents open in these tests; the breaker must not be what is being tested.
  safety: { cooldown: "1s", maxActionsPerHour: 1000 },
  // Every member may act; the suite "with responders" below narrows it.
  responders: "anyone",
};

/** The form Slack posts for `/incident`, from the fixture, with another text or fields. */
const TEMPLATE = loadRawEvent("slack/command.form.txt");
const FORM = Object.fromEntries(new URLSearchParams(TEMPLATE)) as Record<string, string>;

let commandsSent = 0;

function formBody(text: string, fields: Record<string, string | null> = {}): string {
  const form = new URLSearchParams(TEMPLATE);
  form.set("text", text);
  // Slack gives every invocation its own trigger_id: the same command typed twice within a
  // second is two requests, not a replay of one.
  form.set("trigger_id", `13345224609.738474920.${++commandsSent}`);
  for (const [name, value] of Object.entries(fields)) {
    if (value === null) form.delete(name);
    else form.set(name, value);
  }
  return form.toString();
}

/** Slack's signature, computed here independently of the code under test. */
const sign = (secret: string, timestamp: string, body: string) =>
  `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;

interface SendOptions {
  fields?: Record<string, string | null>;
  secret?: string;
  /** Seconds; default now. */
  timestamp?: number;
  signature?: string;
  body?: string;
}

async function post(stack: LocalStack, text: string, options: SendOptions = {}) {
  const body = options.body ?? formBody(text, options.fields);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return fetch(`${stack.url}/slack/commands`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature":
        options.signature ?? sign(options.secret ?? SLACK_SECRET, timestamp, body),
    },
    body,
  });
}

/** All the mrkdwn of a reply, to search in. */
function allText(message: SlackMessage): string {
  const parts = [message.text];
  for (const block of message.blocks) {
    if (block.type === "section") {
      parts.push(block.text.text, ...(block.fields ?? []).map((field) => field.text));
    }
    if (block.type === "context") parts.push(...block.elements.map((element) => element.text));
  }
  return parts.join("\n");
}

async function slash(stack: LocalStack, text: string, options: SendOptions = {}) {
  const response = await post(stack, text, options);
  expect(response.status).toBe(200);
  const message = (await response.json()) as SlackMessage;
  return { ...message, all: allText(message) };
}

interface AlarmEvent {
  id: string;
  resources: string[];
  detail: { alarmName: string; state: { timestamp: string } };
}

/** The EventBridge alarm fixture as another alarm's delivery. */
function alarm(alarmName: string, id = `${alarmName}-${Date.now()}-${Math.random()}`) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as AlarmEvent;
  event.id = id;
  event.detail.alarmName = alarmName;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  return event;
}

async function open(api: Client, alarmName: string): Promise<string> {
  const { incidents } = await api.deliver(alarm(alarmName));
  expect(incidents).toHaveLength(1);
  return incidents[0] as string;
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

interface Outbox {
  items: Array<{ incidentId: string; kind: string }>;
  slackResponses: Array<{ responseUrl: string; text: string }>;
}
const outbox = async (api: Client) => (await (await api.get("/local/outbox")).json()) as Outbox;

describe("Slack slash command on the local stack", () => {
  let stack: LocalStack;
  let api: Client;
  beforeAll(async () => {
    stack = await startTestStack({ configInput: CONFIG });
    api = client(stack);
  });
  afterAll(() => stack.stop());

  it("lists open incidents, all or by severity", async () => {
    const warning = await open(api, "slack-list-latency");
    const critical = await open(api, "slack-list-writer-down");
    const all = await slash(stack, "list");
    expect(all.response_type).toBe("ephemeral");
    expect(all.all).toContain(`\`${warning}\``);
    expect(all.all).toContain(`\`${critical}\``);
    const only = await slash(stack, "LIST critical");
    expect(only.all).toContain(`\`${critical}\``);
    expect(only.all).not.toContain(`\`${warning}\``);
    expect(only.all).toMatch(/open critical incidents/);
  });

  it("shows one incident, whatever the case of its id", async () => {
    const id = await open(api, "slack-show-writer-down");
    const card = await slash(stack, `show ${id.toLowerCase()}`);
    expect(card.response_type).toBe("ephemeral");
    expect(card.all).toContain(":red_circle: *Critical*");
    expect(card.all).toContain("slack-show-writer-down");
    expect(card.all).toContain("`database-writer-down`");
    expect(card.all).toMatch(/failover `rds-cluster:[^`]*orders-db` — awaiting-approval/);
    expect(card.all).toContain(`Approve with \`/incident approve ${id} a1\``);
    expect(card.all).toMatch(/<https:\/\/[^|>]+\|/);
  });

  it("acknowledges as slack:<user>, and says so when acked again", async () => {
    const id = await open(api, "slack-ack-latency");
    const ack = await slash(stack, `ack ${id}`);
    expect(ack.response_type).toBe("in_channel");
    expect(ack.text).toBe(`:eyes: \`${id}\` acknowledged by <@${FORM.user_id}>`);
    expect(await api.incident(id)).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: `slack:${FORM.user_id}`,
    });
    const again = await slash(stack, `ack ${id}`);
    expect(again.response_type).toBe("ephemeral");
    expect(again.text).toContain(`\`${id}\` was already acknowledged by <@${FORM.user_id}>`);
    expect(again.text).toContain("Nothing changed.");
    const incident = await api.incident(id);
    expect(incident.timeline.filter((entry) => entry.type === "acknowledged")).toHaveLength(1);
  });

  it("resolves with a note, then refuses to ack what is resolved", async () => {
    const id = await open(api, "slack-resolve-latency");
    const resolved = await slash(stack, `resolve ${id} rolled back to v41 & <!channel> ok`);
    expect(resolved.response_type).toBe("in_channel");
    expect(resolved.all).toContain(`resolved by <@${FORM.user_id}>`);
    expect(resolved.all).toContain(">rolled back to v41 &amp; &lt;!channel&gt; ok");
    const incident = await api.incident(id);
    expect(incident).toMatchObject({ status: "resolved", resolvedBy: `slack:${FORM.user_id}` });
    expect(incident.timeline.find((entry) => entry.type === "resolved")).toMatchObject({
      by: `slack:${FORM.user_id}`,
      reason: "rolled back to v41 & <!channel> ok",
    });
    const ack = await slash(stack, `ack ${id}`);
    expect(ack.text).toContain("is already resolved");
  });

  it("adds a note, as Slack escapes it", async () => {
    const id = await open(api, "slack-note-latency");
    // Slack sends &, < and > in the text as entities; the timeline keeps what was typed.
    const note = await slash(stack, `note ${id} p99 &lt; 200ms again`);
    expect(note.response_type).toBe("in_channel");
    expect(note.all).toContain(">p99 &lt; 200ms again");
    const incident = await api.incident(id);
    expect(incident.timeline.at(-1)).toMatchObject({
      type: "note",
      by: `slack:${FORM.user_id}`,
      text: "p99 < 200ms again",
    });
  });

  it("approves a failover waiting for approval; the outcome goes to response_url", async () => {
    const id = await open(api, "slack-approve-writer-down");
    const approved = await slash(stack, `approve ${id} A1`);
    expect(approved.response_type).toBe("in_channel");
    expect(approved.all).toContain(`\`${id}/a1\` (failover`);
    expect(approved.all).toContain(`approved by <@${FORM.user_id}>`);
    const reply = await eventually(async () =>
      (await outbox(api)).slackResponses.find((entry) => entry.text.startsWith(`${id}/a1`)),
    );
    expect(reply.responseUrl).toBe(FORM.response_url);
    // The local stack simulates remediation: "simulated" is its success.
    expect(reply.text).toContain(": simulated");
    const detail = (await (await api.get(`/incidents/${id}`)).json()) as {
      actions: Array<{ id: string; status: string; approvedBy: string | null }>;
    };
    expect(detail.actions.find((action) => action.id === "a1")).toMatchObject({
      status: "simulated",
      approvedBy: `slack:${FORM.user_id}`,
    });
    const twice = await slash(stack, `approve ${id} a1`);
    expect(twice.response_type).toBe("ephemeral");
    expect(twice.text).toContain("not waiting for approval");
    const unknown = await slash(stack, `approve ${id} a9`);
    expect(unknown.text).toContain(`${id} has no action a9`);
  });

  it("never follows a response_url that is not Slack's", async () => {
    const id = await open(api, "slack-evil-writer-down");
    const fields = { response_url: "https://hooks.slack.com.evil.example/commands/1" };
    const approved = await slash(stack, `approve ${id} a1`, { fields });
    expect(approved.response_type).toBe("in_channel");
    expect(approved.all).toContain(`see \`show ${id}\` for the outcome`);
    const record = await stack.store.get(id);
    expect(record?.actions.find((action) => action.id === "a1")?.followUp).toBeNull();
  });

  it("silences: a matching alarm is recorded, nothing pages; unsilence ends it", async () => {
    const silenced = await slash(stack, "silence alarmName=slack-maint-* 1h db upgrade");
    expect(silenced.response_type).toBe("in_channel");
    const silenceId = /silence `(S[0-9A-Z]{5})`/.exec(silenced.text)?.[1] as string;
    expect(silenceId).toBeDefined();
    expect(silenced.all).toContain("`alarmName=slack-maint-*` for 1h");

    const id = await open(api, "slack-maint-cpu");
    await stack.settle();
    const card = await slash(stack, `show ${id}`);
    expect(card.all).toContain(`Silenced by \`${silenceId}\``);
    expect((await outbox(api)).items.filter((item) => item.incidentId === id)).toEqual([]);
    expect((await api.incident(id)).timeline.map((entry) => entry.type)).toContain("silenced");

    const ended = await slash(stack, `unsilence ${silenceId.toLowerCase()}`);
    expect(ended.response_type).toBe("in_channel");
    expect(ended.all).toContain(`silence \`${silenceId}\` (\`alarmName=slack-maint-*\`) ended`);
    const silences = (await (await api.get("/silences")).json()) as {
      items: Array<{ id: string }>;
    };
    expect(silences.items.map((silence) => silence.id)).not.toContain(silenceId);
    const gone = await slash(stack, `unsilence ${silenceId}`);
    expect(gone.text).toContain(`No silence \`${silenceId}\``);
  });

  it("answers help, and unknown or malformed input with help naming the problem", async () => {
    const help = await slash(stack, "help");
    expect(help.response_type).toBe("ephemeral");
    for (const sub of [
      "list",
      "show",
      "ack",
      "resolve",
      "note",
      "approve",
      "silence",
      "unsilence",
    ]) {
      expect(help.all).toContain(`\`/incident ${sub}`);
    }
    expect((await slash(stack, "")).all).toContain("what `/incident` can do");
    const typo = await slash(stack, "acknowlege K7Q2XPD");
    expect(typo.all).toContain(':warning: unknown subcommand "acknowlege"');
    expect(typo.all).toContain("`/incident ack &lt;id&gt;`");
    expect((await slash(stack, "ack nope")).all).toContain('"nope" is not an incident id');
    expect((await slash(stack, "silence 2h")).all).toContain("starts with key=value matchers");
    expect((await slash(stack, "silence alarmName=x forever")).all).toContain(
      '"forever" is not a duration',
    );
    const other = await slash(stack, "list", { fields: { command: "/weather" } });
    expect(other.all).toContain("this app answers /incident, not /weather");
  });

  it("answers an unknown incident kindly", async () => {
    for (const text of ["show ZZZZZZZ", "ack zzzzzzz", "note ZZZZZZZ hello"]) {
      const reply = await slash(stack, text);
      expect(reply.response_type).toBe("ephemeral");
      expect(reply.text).toContain("No incident `ZZZZZZZ`");
    }
  });

  it("refuses a wrong signature or a replayed request with 401, changing nothing", async () => {
    const id = await open(api, "slack-forged-latency");
    const errorOf = async (response: Response) => ({
      status: response.status,
      ...((await response.json()) as { error: { code: string; message: string } }).error,
    });
    expect(await errorOf(await post(stack, `ack ${id}`, { secret: "not-the-secret" }))).toEqual({
      status: 401,
      code: "unauthorized",
      message: "X-Slack-Signature does not match the body",
    });
    const stale = Math.floor(Date.now() / 1000) - 301;
    expect(await errorOf(await post(stack, `ack ${id}`, { timestamp: stale }))).toMatchObject({
      status: 401,
      message: expect.stringContaining("old"),
    });
    const ahead = Math.floor(Date.now() / 1000) + 600;
    expect((await post(stack, `ack ${id}`, { timestamp: ahead })).status).toBe(401);
    // A body signed for one command and sent with another text.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(SLACK_SECRET, timestamp, formBody(`show ${id}`));
    const swapped = await post(stack, `resolve ${id}`, {
      timestamp: Number(timestamp),
      signature,
    });
    expect(swapped.status).toBe(401);
    const incident = await api.incident(id);
    expect(incident.status).toBe("triggered");
    // Only the alarm's own story: the page it sent, nothing from the forged commands.
    const types = incident.timeline.map((entry) => entry.type);
    expect(types.filter((type) => type !== "action")).toEqual(["opened"]);
  });

  it("answers 400 for a signed form without the fields Slack always sends", async () => {
    const response = await post(stack, "list", { fields: { user_id: null } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain("user_id");
    expect((await fetch(`${stack.url}/slack/commands`)).status).toBe(404);
  });

  it("reads a base64 body as API Gateway may deliver it", async () => {
    const id = await open(api, "slack-base64-latency");
    const body = formBody(`ack ${id}`);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const event = structuredClone(loadEvent("slack/apigateway-command.json")) as {
      headers: Record<string, string>;
      body: string;
      isBase64Encoded: boolean;
    };
    event.body = Buffer.from(body, "utf8").toString("base64");
    event.headers["content-length"] = String(Buffer.byteLength(body));
    event.headers["x-slack-request-timestamp"] = timestamp;
    event.headers["x-slack-signature"] = sign(SLACK_SECRET, timestamp, body);
    const slackFunction = stack.functions.slack as NonNullable<typeof stack.functions.slack>;
    const result = (await slackFunction(
      event,
      lambdaContext("slack"),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    const message = JSON.parse(result.body as string) as SlackMessage;
    expect(message.response_type).toBe("in_channel");
    expect((await api.incident(id)).status).toBe("acknowledged");

    // The same bytes with the signature of the base64 text, not of the body, are refused.
    const wrong = structuredClone(event);
    wrong.headers["x-slack-signature"] = sign(SLACK_SECRET, timestamp, event.body);
    const refused = (await slackFunction(
      wrong,
      lambdaContext("slack"),
    )) as APIGatewayProxyStructuredResultV2;
    expect(refused.statusCode).toBe(401);
  });

  it("measures the response time of list and ack over HTTP (printed, not asserted)", async () => {
    const names = Array.from({ length: 25 }, (_, index) => `slack-timing-${index}-latency`);
    const { incidents } = await api.deliver(names.map((name) => alarm(name)));
    expect(incidents).toHaveLength(25);
    const times: Record<"list" | "ack", number[]> = { list: [], ack: [] };
    // Approximate: the dispatcher's and the escalation sweep's polls are counted too, so the
    // call with the fewest is the closest to what the command itself sends.
    const fewest: Record<"list" | "ack", Record<string, number> | null> = { list: null, ack: null };
    const total = (counts: Record<string, number>) =>
      Object.values(counts).reduce((sum, count) => sum + count, 0);
    for (const id of incidents) {
      for (const kind of ["list", "ack"] as const) {
        const before = { ...stack.dynamodbRequests };
        const started = performance.now();
        const response = await post(stack, kind === "list" ? "list" : `ack ${id}`);
        await response.arrayBuffer();
        times[kind].push(performance.now() - started);
        expect(response.status).toBe(200);
        const sent = Object.fromEntries(
          Object.entries(stack.dynamodbRequests)
            .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
            .filter(([, count]) => count > 0),
        );
        const least = fewest[kind];
        if (!least || total(sent) < total(least)) fewest[kind] = sent;
      }
    }
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const middle = sorted.length / 2;
      const median =
        sorted.length % 2
          ? (sorted[Math.floor(middle)] as number)
          : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
      return `median ${median.toFixed(1)} ms, max ${(sorted.at(-1) as number).toFixed(1)} ms`;
    };
    const all = [...times.list, ...times.ack];
    console.log(
      [
        `slash command over HTTP on the local stack, ${all.length} calls: ${summary(all)}`,
        `  list (25): ${summary(times.list)}; DynamoDB at least ${JSON.stringify(fewest.list)}`,
        `  ack (25): ${summary(times.ack)}; DynamoDB at least ${JSON.stringify(fewest.ack)}`,
      ].join("\n"),
    );
  });
});

describe("Slack slash command with responders", () => {
  let stack: LocalStack;
  let api: Client;
  beforeAll(async () => {
    stack = await startTestStack({ configInput: { ...CONFIG, responders: [RESPONDER] } });
    api = client(stack);
  });
  afterAll(() => stack.stop());

  it("lets others look but not act, says so with HTTP 200, and records the attempt", async () => {
    const id = await open(api, "slack-responders-writer-down");
    const refused = await slash(stack, `ack ${id}`);
    expect(refused.response_type).toBe("ephemeral");
    expect(refused.text).toContain(`Sorry <@${FORM.user_id}>, only responders may acknowledge`);
    expect(refused.text).toContain(`<@${RESPONDER}>`);
    const approve = await slash(stack, `approve ${id} a1`);
    expect(approve.text).toContain("only responders may approve a1");
    const silence = await slash(stack, "silence alarmName=* 1h");
    expect(silence.text).toContain("only responders may silence alarmName=*");

    const incident = await api.incident(id);
    expect(incident.status).toBe("triggered");
    const refusals = incident.timeline.filter((entry) => entry.type === "refused");
    expect(refusals).toEqual([
      expect.objectContaining({ by: `slack:${FORM.user_id}`, attempted: "acknowledge" }),
      expect.objectContaining({ by: `slack:${FORM.user_id}`, attempted: "approve a1" }),
    ]);
    expect((await (await api.get("/silences")).json()) as unknown).toEqual({ items: [] });

    // Looking is for everyone; acting is for responders.
    expect((await slash(stack, `show ${id}`)).all).toContain(id);
    expect((await slash(stack, "list")).all).toContain(id);
    expect((await slash(stack, "help")).all).toContain("Only responders may change incidents");
    const ack = await slash(stack, `ack ${id}`, { fields: { user_id: RESPONDER } });
    expect(ack.response_type).toBe("in_channel");
    expect((await api.incident(id)).acknowledgedBy).toBe(`slack:${RESPONDER}`);
  });
});
