import { loadRawEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import {
  answerSlashCommand,
  HoldReader,
  parseSlashCommand,
  type SlashCommandForm,
  SlashCommandFormSchema,
  silentLogger,
  UNTIL_RESOLVED_MAX_MS,
} from "../src";
import { aConfig, aRecord, MemoryIncidentStore, MemorySilenceStore } from "../src/testing";

const NOW = Date.parse("2026-11-26T10:10:00.000Z");
const template = Object.fromEntries(new URLSearchParams(loadRawEvent("slack/command.form.txt")));
const form = (text: string): SlashCommandForm =>
  SlashCommandFormSchema.parse({ ...template, text });

describe("silence until resolved", () => {
  it("reads /incident silence <id> until-resolved, with a reason", () => {
    expect(parseSlashCommand("silence k7q2xpd until-resolved known, fix deploying")).toEqual({
      kind: "silence-incident",
      id: "K7Q2XPD",
      reason: "known, fix deploying",
    });
    expect(parseSlashCommand("silence K7Q2XPD until-tuesday").kind).toBe("help");
  });

  it("holds that incident, every alert of it, and no other, until it resolves", async () => {
    const store = new MemoryIncidentStore();
    const silences = new MemorySilenceStore();
    const record = aRecord({ severity: "critical" });
    const other = aRecord({
      severity: "critical",
      fingerprint: "cloudwatch:other",
      title: "other",
    });
    for (const each of [record, other]) await store.save(each, null);
    const config = aConfig();
    const deps = {
      store,
      silences,
      config,
      clock: { now: () => NOW },
      region: "us-east-1",
      logger: silentLogger,
    };
    const id = record.incident.id;
    const answer = await answerSlashCommand(form(`silence ${id} until-resolved`), deps);
    expect(answer.response_type).toBe("in_channel");
    const [silence] = await silences.listActive(NOW);
    expect(silence).toMatchObject({
      incidentId: id,
      matcher: `incident=${id} until resolved`,
      createdBy: "slack:U2147483697",
      endsAt: new Date(NOW + UNTIL_RESOLVED_MAX_MS).toISOString(),
    });

    const holds = new HoldReader({ store, silences, config, maxAgeMs: 0 });
    expect(await holds.holdFor(record, NOW)).toMatchObject({ kind: "silence", id: silence?.id });
    expect(await holds.holdFor(other, NOW)).toBeNull();
    const resolved = structuredClone(record);
    resolved.incident.status = "resolved";
    expect(await holds.holdFor(resolved, NOW)).toBeNull();

    await store.save({ ...resolved, version: record.version + 1 }, null);
    const refused = await answerSlashCommand(form(`silence ${id} until-resolved`), deps);
    expect(refused.text).toContain("is resolved: nothing to silence");
  });
});
