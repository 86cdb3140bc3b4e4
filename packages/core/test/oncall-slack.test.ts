import { loadRawEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import {
  answerSlashCommand,
  type ConfigInput,
  parseSlashCommand,
  type SlashCommandForm,
  SlashCommandFormSchema,
  silentLogger,
} from "../src";
import {
  aConfig,
  MemoryIncidentStore,
  MemoryOverrideStore,
  MemorySilenceStore,
} from "../src/testing";

const NOW = Date.parse("2026-01-13T12:00:00.000Z"); // bob's week in primary
const USER = "U2147483697"; // the fixture's user

const ONCALL: ConfigInput = {
  people: {
    alice: { slack: "U0ALICE01" },
    bob: { slack: "U0BOB0001" },
    carol: {},
  },
  schedules: {
    primary: {
      timeZone: "Europe/Berlin",
      rotation: {
        people: ["alice", "bob", "carol"],
        shift: "1w",
        handoff: "Mon 09:00",
        start: "2026-01-05",
      },
    },
    weekend: {
      timeZone: "Europe/Berlin",
      rotation: { people: ["carol"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
      restrict: { days: ["Sat", "Sun"], from: "00:00", to: "00:00" },
    },
  },
};

const template = Object.fromEntries(new URLSearchParams(loadRawEvent("slack/command.form.txt")));
const form = (text: string): SlashCommandForm =>
  SlashCommandFormSchema.parse({ ...template, text });

function setup(extra: ConfigInput = {}) {
  const overrides = new MemoryOverrideStore();
  const deps = {
    store: new MemoryIncidentStore(),
    silences: new MemorySilenceStore(),
    overrides,
    config: aConfig({ ...ONCALL, ...extra }),
    clock: { now: () => NOW },
    region: "us-east-1",
    logger: silentLogger,
  };
  return { deps, overrides };
}

const textOf = (message: { blocks: Array<{ type: string; text?: { text: string } }> }) =>
  message.blocks.map((block) => block.text?.text ?? "").join("\n");

describe("/incident oncall", () => {
  it("says who is on call in every schedule, by Slack mention, or in one", async () => {
    const { deps } = setup();
    const all = await answerSlashCommand(form("oncall"), deps);
    expect(all.response_type).toBe("ephemeral");
    expect(textOf(all)).toContain("*primary*: <@U0BOB0001> until <!date^1768809600^");
    expect(textOf(all)).toContain("*weekend*: nobody on call");
    const one = await answerSlashCommand(form("oncall weekend"), deps);
    expect(textOf(one)).not.toContain("primary");
    const unknown = await answerSlashCommand(form("oncall nope"), deps);
    expect(unknown.text).toContain("no schedule nope (schedules: primary, weekend)");
  });
});

describe("/incident override", () => {
  it("reads a schedule, a mention in either form Slack sends, and a duration", () => {
    expect(parseSlashCommand("override primary <@U0ALICE01> 4h")).toEqual({
      kind: "override",
      schedule: "primary",
      slackUser: "U0ALICE01",
      duration: 4 * 3_600_000,
    });
    expect(parseSlashCommand("override primary &lt;@U0ALICE01|alice&gt; 30m")).toMatchObject({
      slackUser: "U0ALICE01",
      duration: 1_800_000,
    });
    for (const text of [
      "override primary alice 4h",
      "override primary <@U0ALICE01>",
      "override primary <@U0ALICE01> 91d",
      "override primary <@U0ALICE01> 4h now",
      "oncall primary secondary",
    ]) {
      expect(parseSlashCommand(text).kind).toBe("help");
    }
  });

  it("puts the mentioned person on call from now for the duration", async () => {
    const { deps, overrides } = setup();
    const answer = await answerSlashCommand(form("override primary <@U0ALICE01> 4h"), deps);
    expect(answer.response_type).toBe("in_channel");
    expect(textOf(answer)).toContain("<@U0ALICE01> is on call for *primary*");
    expect(await overrides.list("primary", NOW, NOW + 1)).toEqual([
      expect.objectContaining({
        person: "alice",
        from: "2026-01-13T12:00:00.000Z",
        to: "2026-01-13T16:00:00.000Z",
        createdBy: `slack:${USER}`,
      }),
    ]);
    expect(textOf(await answerSlashCommand(form("oncall primary"), deps))).toContain(
      "<@U0ALICE01> until <!date^1768320000^",
    );
  });

  it("answers an unknown person or schedule, changing nothing", async () => {
    const { deps, overrides } = setup();
    const stranger = await answerSlashCommand(form("override primary <@U0ZED0001> 4h"), deps);
    expect(stranger.text).toContain("U0ZED0001 is not among the configured people");
    const nowhere = await answerSlashCommand(form("override nope <@U0ALICE01> 4h"), deps);
    expect(nowhere.text).toContain("no schedule nope");
    expect(overrides.overrides.size).toBe(0);
  });

  it("is for responders only when responders are listed; anyone may look", async () => {
    const { deps, overrides } = setup({ responders: ["U0ALICE01"] });
    const refused = await answerSlashCommand(form("override primary <@U0ALICE01> 4h"), deps);
    expect(refused.text).toMatch(/override primary/);
    expect(overrides.overrides.size).toBe(0);
    expect(textOf(await answerSlashCommand(form("oncall"), deps))).toContain("<@U0BOB0001>");
  });

  it("is listed in the help", async () => {
    const { deps } = setup();
    const help = await answerSlashCommand(form("help"), deps);
    expect(textOf(help)).toContain("/incident override &lt;schedule&gt;");
    expect(textOf(help)).toContain("/incident oncall [schedule]");
  });
});
