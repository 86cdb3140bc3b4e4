import { describe, expect, it } from "vitest";
import {
  type ActionRecord,
  answerInteraction,
  type BlockActionsPayload,
  BUTTON_ACTIONS,
  buttonPress,
  InvalidInputError,
  incidentButtons,
  incidentCard,
  parseInteractionForm,
  type SlackActionsBlock,
  type SlackMessage,
  type SlashCommandDeps,
  silentLogger,
  slackDirectMessage,
  slackWebhookPost,
} from "../src";
import {
  aConfig,
  anAction,
  aRecord,
  MemoryIncidentStore,
  MemorySilenceStore,
} from "../src/testing";

const RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1234/abcdef";

/** A press as Slack posts it (FORMATS.md §11), for one button. */
function payload(
  actionId: string,
  value: unknown,
  overrides: Partial<BlockActionsPayload> = {},
): BlockActionsPayload {
  return {
    type: "block_actions",
    user: { id: "U012AB3CD", username: "alice" },
    team: { id: "T0001" },
    channel: { id: "C0001" },
    actions: [
      {
        action_id: actionId,
        block_id: "firebreak.K7Q2XPD",
        value: typeof value === "string" ? value : JSON.stringify(value),
        type: "button",
      },
    ],
    response_url: RESPONSE_URL,
    trigger_id: "13345224609.738474920.8088930838d88f008e0",
    ...overrides,
  };
}

const form = (json: unknown) => new URLSearchParams({ payload: JSON.stringify(json) }).toString();

const buttons = (blocks: ReadonlyArray<{ type: string }>) =>
  blocks
    .filter((block): block is SlackActionsBlock => block.type === "actions")
    .flatMap((block) => block.elements);

describe("incidentButtons", () => {
  it("offers Acknowledge and Resolve on a triggered incident, as the contract names them", () => {
    const record = aRecord();
    const [block, ...more] = incidentButtons(record.incident, []);
    expect(more).toEqual([]);
    expect(block?.elements.map((button) => [button.action_id, button.value])).toEqual([
      ["firebreak.acknowledge", JSON.stringify({ incident: record.incident.id })],
      ["firebreak.resolve", JSON.stringify({ incident: record.incident.id })],
    ]);
    // Neither changes AWS here: no dialog in the way.
    expect(block?.elements.every((button) => button.confirm === undefined)).toBe(true);
  });

  it("asks before an approval, naming the AWS target, one block per action", () => {
    const record = aRecord();
    const actions = [anAction(), anAction({ id: "a2", targetKey: "rds-cluster:eu-west-1/other" })];
    const blocks = incidentButtons(record.incident, actions);
    const approvals = blocks.slice(1);
    expect(approvals).toHaveLength(2);
    expect(new Set(blocks.map((block) => block.block_id)).size).toBe(3);
    for (const [index, block] of approvals.entries()) {
      const [button] = block.elements;
      const action = actions[index] as ActionRecord;
      expect(button?.action_id).toBe(BUTTON_ACTIONS.approve);
      expect(JSON.parse(button?.value ?? "")).toEqual({
        incident: record.incident.id,
        action: action.id,
      });
      expect(button?.confirm).toMatchObject({
        title: { type: "plain_text" },
        text: { type: "plain_text" },
        confirm: { type: "plain_text" },
        deny: { type: "plain_text", text: "Cancel" },
      });
      expect(button?.confirm?.text.text).toContain(action.targetKey);
      expect(button?.confirm?.title.text.length).toBeLessThanOrEqual(100);
      expect(button?.confirm?.text.text.length).toBeLessThanOrEqual(300);
    }
  });

  it("asks before a resolve that restores a scale-out, naming the service", () => {
    const record = aRecord();
    const scaled = anAction({
      id: "a1",
      type: "scale",
      status: "succeeded",
      targetKey: "ecs-service:us-east-1/prod/api",
      spec: { type: "scale", target: { kind: "ecs-service", cluster: "prod", service: "api" } },
      before: "MinCapacity 2",
      requests: [
        {
          service: "application-autoscaling",
          operation: "RegisterScalableTarget",
          region: "us-east-1",
          input: { MinCapacity: 6 },
        },
      ] as ActionRecord["requests"],
    });
    const resolve = buttons(incidentButtons(record.incident, [scaled])).find(
      (button) => button.action_id === BUTTON_ACTIONS.resolve,
    );
    expect(resolve?.confirm?.text.text).toContain("ecs-service:us-east-1/prod/api");
  });

  it("offers only Resolve once acknowledged, and nothing once resolved", () => {
    const record = aRecord();
    const acknowledged = { ...record.incident, status: "acknowledged" as const };
    expect(buttons(incidentButtons(acknowledged, [])).map((b) => b.action_id)).toEqual([
      "firebreak.resolve",
    ]);
    const resolved = { ...record.incident, status: "resolved" as const };
    expect(incidentButtons(resolved, [anAction()])).toEqual([]);
  });

  it("puts the buttons on cards, Slack pages and direct messages, and none on a digest", () => {
    const record = aRecord();
    record.actions = [anAction()];
    const card = incidentCard({ record, silence: null, command: "/incident" });
    expect(buttons(card.blocks).map((button) => button.action_id)).toEqual([
      "firebreak.acknowledge",
      "firebreak.resolve",
      "firebreak.approve",
    ]);
    const content = {
      incident: record.incident,
      kind: "page" as const,
      note: null,
      consoleUrl: null,
      actions: record.actions,
    };
    const page = slackWebhookPost("https://hooks.slack.com/services/T/B/X", content).body as {
      blocks: Array<{ type: string }>;
    };
    expect(buttons(page.blocks).map((button) => button.action_id)).toEqual([
      "firebreak.acknowledge",
      "firebreak.resolve",
      "firebreak.approve",
    ]);
    const direct = slackDirectMessage("xoxb-test", "U012AB3CD", content).body as {
      blocks: Array<{ type: string }>;
    };
    expect(buttons(direct.blocks).map((button) => button.action_id)).toEqual([
      "firebreak.acknowledge",
      "firebreak.resolve",
      "firebreak.approve",
    ]);
    const digest = slackWebhookPost("https://hooks.slack.com/services/T/B/X", {
      ...content,
      digest: { channel: "oncall", window: "2026-11-26T10:01:00.000Z", incidents: [], unlisted: 3 },
    }).body as { blocks: Array<{ type: string }> };
    expect(buttons(digest.blocks)).toEqual([]);
  });
});

describe("parseInteractionForm and buttonPress", () => {
  it("reads a press from the form Slack posts", () => {
    const press = payload(BUTTON_ACTIONS.approve, { incident: "k7q2xpd", action: "A1" });
    const parsed = parseInteractionForm(form({ ...press, message: {}, container: {}, extra: 1 }));
    expect(parsed.user.id).toBe("U012AB3CD");
    expect(buttonPress(parsed)).toEqual({ kind: "approve", id: "K7Q2XPD", actionId: "a1" });
    expect(buttonPress(payload(BUTTON_ACTIONS.acknowledge, { incident: "K7Q2XPD" }))).toEqual({
      kind: "ack",
      id: "K7Q2XPD",
    });
  });

  it("refuses forms without a payload, with bad JSON or another kind of interaction", () => {
    expect(() => parseInteractionForm("token=x")).toThrow(InvalidInputError);
    expect(() => parseInteractionForm("payload=%7Bnot-json")).toThrow(/not JSON/);
    const submission = { ...payload(BUTTON_ACTIONS.resolve, {}), type: "view_submission" };
    expect(() => parseInteractionForm(form(submission))).toThrow(/invalid interaction/);
    const noUser = { ...payload(BUTTON_ACTIONS.resolve, {}), user: { id: "<!channel>" } };
    expect(() => parseInteractionForm(form(noUser))).toThrow(/user\.id/);
  });

  it("reads no press from foreign buttons and crafted values", () => {
    const none = [
      payload("someone.else", { incident: "K7Q2XPD" }),
      payload(BUTTON_ACTIONS.acknowledge, "not json"),
      payload(BUTTON_ACTIONS.acknowledge, { incident: "../../etc" }),
      payload(BUTTON_ACTIONS.approve, { incident: "K7Q2XPD" }),
      payload(BUTTON_ACTIONS.approve, { incident: "K7Q2XPD", action: "a1; rm" }),
    ];
    for (const press of none) expect(buttonPress(press)).toBeNull();
  });
});

describe("answerInteraction", () => {
  async function setup(responders?: string[]) {
    const store = new MemoryIncidentStore();
    const record = aRecord({ severity: "critical" });
    record.actions = [anAction()];
    await store.save(record, null);
    const deps: SlashCommandDeps = {
      store,
      silences: new MemorySilenceStore(),
      config: aConfig(responders ? { responders } : {}),
      clock: { now: () => Date.parse("2026-11-26T10:10:00.000Z") },
      region: "us-east-1",
      logger: silentLogger,
    };
    return { deps, store, id: record.incident.id };
  }
  const textOf = (message: SlackMessage) =>
    [
      message.text,
      ...message.blocks.flatMap((block) => (block.type === "section" ? [block.text.text] : [])),
    ].join("\n");

  it("acknowledges once, replacing the message with who did it", async () => {
    const { deps, store, id } = await setup();
    const { post } = await answerInteraction(
      payload(BUTTON_ACTIONS.acknowledge, { incident: id }),
      deps,
    );
    expect(post?.responseUrl).toBe(RESPONSE_URL);
    expect(post?.body).toMatchObject({ replace_original: true, response_type: "in_channel" });
    expect(post?.body.text).toBe(`:eyes: \`${id}\` acknowledged by <@U012AB3CD>`);
    // The replacement keeps what is still possible: Resolve and Approve, no Acknowledge.
    expect(buttons(post?.body.blocks ?? []).map((button) => button.action_id)).toEqual([
      "firebreak.resolve",
      "firebreak.approve",
    ]);
    expect((await store.get(id))?.incident.acknowledgedBy).toBe("slack:U012AB3CD");
    const again = await answerInteraction(
      payload(BUTTON_ACTIONS.acknowledge, { incident: id }),
      deps,
    );
    expect(again.post?.body).toMatchObject({ replace_original: false, response_type: "ephemeral" });
    expect(again.post?.body.text).toContain("Nothing changed");
  });

  it("approves with the response_url as the outcome's follow-up", async () => {
    const { deps, store, id } = await setup();
    const press = payload(BUTTON_ACTIONS.approve, { incident: id, action: "a1" });
    const { post } = await answerInteraction(press, deps);
    expect(post?.body.replace_original).toBe(true);
    expect(textOf(post?.body as SlackMessage)).toContain("approved by <@U012AB3CD>");
    const action = (await store.get(id))?.actions.find((candidate) => candidate.id === "a1");
    expect(action).toMatchObject({
      status: "planned",
      approvedBy: "slack:U012AB3CD",
      followUp: { responseUrl: RESPONSE_URL },
    });
  });

  it("refuses a stranger with a note for them alone, recording the attempt", async () => {
    const { deps, store, id } = await setup(["U999ZZZZZ"]);
    const before = await store.get(id);
    const { post } = await answerInteraction(
      payload(BUTTON_ACTIONS.resolve, { incident: id }),
      deps,
    );
    expect(post?.body).toMatchObject({ replace_original: false, response_type: "ephemeral" });
    expect(post?.body.text).toContain("only responders may resolve");
    const after = await store.get(id);
    expect(after?.incident).toEqual(before?.incident);
    expect(after?.timeline.at(-1)).toMatchObject({ type: "refused", by: "slack:U012AB3CD" });
  });

  it("posts nowhere but Slack's hooks, and says so when the incident is unknown", async () => {
    const { deps } = await setup();
    const elsewhere = payload(
      BUTTON_ACTIONS.acknowledge,
      { incident: "ZZZZZZZ" },
      {
        response_url: "https://evil.example/hooks.slack.com/",
      },
    );
    expect((await answerInteraction(elsewhere, deps)).post).toBeNull();
    const unknown = await answerInteraction(
      payload(BUTTON_ACTIONS.acknowledge, { incident: "ZZZZZZZ" }),
      deps,
    );
    expect(unknown.post?.body.text).toContain("No incident `ZZZZZZZ`");
  });
});
