import { loadRawEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import {
  answerSlashCommand,
  parseSlashCommand,
  type SlashCommandDeps,
  type SlashCommandForm,
  SlashCommandFormSchema,
  silentLogger,
} from "../src";
import { aConfig, aRecord, MemoryIncidentStore, MemorySilenceStore } from "../src/testing";

const template = Object.fromEntries(new URLSearchParams(loadRawEvent("slack/command.form.txt")));
const form = (text: string): SlashCommandForm =>
  SlashCommandFormSchema.parse({ ...template, text });

async function setup(responders?: string[]) {
  const store = new MemoryIncidentStore();
  const source = aRecord({ fingerprint: "fp:slack:source", title: "checkout-5xx" });
  const target = aRecord({ fingerprint: "fp:slack:target", title: "checkout-latency" });
  await store.save(source, null);
  await store.save(target, null);
  const deps: SlashCommandDeps = {
    store,
    silences: new MemorySilenceStore(),
    config: aConfig(responders ? { responders } : {}),
    clock: { now: () => Date.parse("2026-11-26T10:10:00.000Z") },
    region: "us-east-1",
    logger: silentLogger,
  };
  return { deps, store, source: source.incident.id, target: target.incident.id };
}

describe("/incident merge <id> <into>", () => {
  it("reads two ids in any case, and asks for them when one is missing or wrong", () => {
    expect(parseSlashCommand("merge k7q2xpd h4m9rta")).toEqual({
      kind: "merge",
      id: "K7Q2XPD",
      into: "H4M9RTA",
    });
    expect(parseSlashCommand("merge K7Q2XPD")).toMatchObject({
      kind: "help",
      problem: expect.stringContaining("merge needs two incident ids"),
    });
    expect(parseSlashCommand("merge K7Q2XPD nope")).toMatchObject({
      kind: "help",
      problem: expect.stringContaining('"nope" is not an incident id'),
    });
  });

  it("merges as slack:<user> and says so in the channel", async () => {
    const { deps, store, source, target } = await setup();
    const answer = await answerSlashCommand(form(`merge ${source} ${target}`), deps);
    expect(answer.response_type).toBe("in_channel");
    expect(answer.text).toContain(`\`${source}\` merged into \`${target}\``);
    expect((await store.get(source))?.incident).toMatchObject({
      status: "resolved",
      mergedInto: target,
      resolvedBy: "slack:U2147483697",
    });
    expect((await store.get(target))?.alerts.map((alert) => alert.title)).toEqual([
      "checkout-latency",
      "checkout-5xx",
    ]);
    const again = await answerSlashCommand(form(`merge ${source} ${target}`), deps);
    expect(again.text).toContain("already merged");
  });

  it("answers a merge into itself or into an unknown incident, and refuses non-responders", async () => {
    const { deps, store, source } = await setup();
    expect((await answerSlashCommand(form(`merge ${source} ${source}`), deps)).text).toContain(
      "cannot be merged into itself",
    );
    expect((await answerSlashCommand(form(`merge ${source} ZZZZZZZ`), deps)).text).toContain(
      "ZZZZZZZ",
    );
    const restricted = await setup(["U012AB3CD"]);
    const refused = await answerSlashCommand(
      form(`merge ${restricted.source} ${restricted.target}`),
      restricted.deps,
    );
    expect(refused.text).toContain("only responders may merge");
    const record = await restricted.store.get(restricted.source);
    expect(record?.incident.status).toBe("triggered");
    expect(record?.timeline.at(-1)).toMatchObject({ type: "refused", by: "slack:U2147483697" });
    expect(store.records.size).toBe(2);
  });
});
