import { loadRawEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import shippedConfig from "../../../monitoring.config";
import {
  answerSlashCommand,
  ConfigError,
  type ConfigInput,
  parseConfig,
  type SlashCommandForm,
  SlashCommandFormSchema,
  silentLogger,
} from "../src";
import { aRecord, MemoryIncidentStore, MemorySilenceStore } from "../src/testing";

const page = { type: "page", channel: "oncall" } as const;
const channels = { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } };
const rollback = {
  type: "rollback",
  target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
} as const;

/** A policy whose first rule only pages and whose second rolls back. */
const remediating = (extra: Partial<ConfigInput> = {}): ConfigInput => ({
  channels,
  rules: [
    { name: "errors", match: { source: "logs" }, severity: "critical", actions: [page] },
    {
      name: "bad-deploy",
      match: { source: "sentry" },
      severity: "critical",
      actions: [page, rollback],
    },
  ],
  ...extra,
});

describe("responders: required when the policy remediates", () => {
  it("refuses a remediating policy without responders, naming the key and the action", () => {
    expect(() => parseConfig(remediating(), "monitoring.config.ts")).toThrowError(ConfigError);
    expect(() => parseConfig(remediating())).toThrowError(
      'responders: required when the policy has remediation actions (rules[1].actions[1] is a rollback); list Slack user ids, or say responders: "anyone"',
    );
  });

  it("accepts a list of Slack user ids, or the explicit anyone", () => {
    expect(parseConfig(remediating({ responders: ["U012AB3CD"] })).responders).toEqual([
      "U012AB3CD",
    ]);
    expect(parseConfig(remediating({ responders: "anyone" })).responders).toBe("anyone");
  });

  it("still lets a policy that only pages leave responders out", () => {
    const pagesOnly: ConfigInput = {
      channels,
      rules: [{ name: "errors", match: { source: "logs" }, severity: "critical", actions: [page] }],
    };
    expect(parseConfig(pagesOnly).responders).toBeUndefined();
  });

  it("refuses any other word, and an empty string where an id belongs", () => {
    expect(() => parseConfig(remediating({ responders: "everyone" as "anyone" }))).toThrowError(
      /responders/,
    );
    expect(() => parseConfig(remediating({ responders: [""] }))).toThrowError(/responders\[0\]/);
  });

  it("ships a policy that names its responders", () => {
    const config = parseConfig(shippedConfig);
    expect(Array.isArray(config.responders) && config.responders.length).toBeGreaterThan(0);
    expect(config.safety.dryRun).toBe(true);
  });
});

describe('responders: "anyone" in Slack', () => {
  const template = Object.fromEntries(new URLSearchParams(loadRawEvent("slack/command.form.txt")));
  const form = (text: string): SlashCommandForm =>
    SlashCommandFormSchema.parse({ ...template, text });

  it("lets any member act and does not tell them only responders may", async () => {
    const store = new MemoryIncidentStore();
    const record = aRecord({ severity: "critical" });
    await store.save(record, null);
    const deps = {
      store,
      silences: new MemorySilenceStore(),
      config: parseConfig(remediating({ responders: "anyone" })),
      clock: { now: () => Date.parse("2026-11-26T10:10:00.000Z") },
      region: "us-east-1",
      logger: silentLogger,
    };
    const ack = await answerSlashCommand(form(`ack ${record.incident.id}`), deps);
    expect(ack.response_type).toBe("in_channel");
    expect((await store.get(record.incident.id))?.incident.acknowledgedBy).toBe(
      "slack:U2147483697",
    );
    const help = JSON.stringify(await answerSlashCommand(form("help"), deps));
    expect(help).not.toContain("Only responders");
  });
});
