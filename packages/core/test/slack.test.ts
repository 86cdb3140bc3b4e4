import { loadEvent, loadRawEvent } from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  answerSlashCommand,
  changeMessage,
  helpMessage,
  type IncidentRecord,
  incidentCard,
  incidentList,
  LIST_LIMIT,
  parseSlashCommand,
  refusalMessage,
  SLACK_LIMITS,
  type SlackMessage,
  type SlashCommandDeps,
  type SlashCommandForm,
  SlashCommandFormSchema,
  signSlackRequest,
  silentLogger,
  unchangedMessage,
  verifySlackRequest,
} from "../src";
import {
  aConfig,
  anAction,
  aRecord,
  MemoryIncidentStore,
  MemorySilenceStore,
} from "../src/testing";

interface SignatureExample {
  signingSecret: string;
  timestamp: string;
  body: string;
  signature: string;
}
const example = loadEvent("slack/signature-example.json") as SignatureExample;
const exampleAt = Number(example.timestamp) * 1000;

describe("verifySlackRequest", () => {
  const verify = (overrides: Partial<Parameters<typeof verifySlackRequest>[0]> = {}) =>
    verifySlackRequest({
      rawBody: example.body,
      timestamp: example.timestamp,
      signature: example.signature,
      signingSecret: example.signingSecret,
      now: exampleAt,
      ...overrides,
    });
  const reason = (overrides: Parameters<typeof verify>[0]) => {
    const verdict = verify(overrides);
    return verdict.ok ? "ok" : verdict.reason;
  };

  it("accepts Slack's published example, as a string or as bytes", () => {
    expect(verify()).toEqual({ ok: true });
    expect(verify({ rawBody: Buffer.from(example.body, "utf8") })).toEqual({ ok: true });
    expect(signSlackRequest(example.signingSecret, example.timestamp, example.body)).toBe(
      example.signature,
    );
  });

  it("refuses a wrong secret and a tampered body, naming neither secret nor signature", () => {
    const wrong = verify({ signingSecret: "another-secret-of-the-same-size!!" });
    expect(wrong).toEqual({
      ok: false,
      reason: "bad-signature",
      message: "X-Slack-Signature does not match the body",
    });
    const serialized = JSON.stringify(wrong);
    expect(serialized).not.toContain(example.signingSecret);
    expect(serialized).not.toContain(example.signature.slice(3, 20));
    expect(reason({ rawBody: example.body.replace("text=", "text=ack") })).toBe("bad-signature");
    expect(reason({ rawBody: `${example.body}&x=1` })).toBe("bad-signature");
    expect(reason({ signature: example.signature.toUpperCase() })).toBe("bad-signature");
    expect(reason({ signature: example.signature.slice(0, -1) })).toBe("bad-signature");
    expect(reason({ signature: `v1=${example.signature.slice(3)}` })).toBe("bad-signature");
  });

  it("refuses timestamps more than 300 s from now, in the past or the future", () => {
    expect(reason({ now: exampleAt + 300_000 })).toBe("ok");
    expect(reason({ now: exampleAt - 300_000 })).toBe("ok");
    expect(reason({ now: exampleAt + 301_000 })).toBe("stale-timestamp");
    expect(reason({ now: exampleAt - 301_000 })).toBe("future-timestamp");
    expect(reason({ now: Date.now() })).toBe("stale-timestamp");
  });

  it("refuses missing headers and timestamps that are not numbers", () => {
    expect(reason({ timestamp: undefined })).toBe("missing-timestamp");
    expect(reason({ timestamp: " " })).toBe("missing-timestamp");
    expect(reason({ signature: undefined })).toBe("missing-signature");
    expect(reason({ signature: "" })).toBe("missing-signature");
    for (const timestamp of ["soon", "1531420618.5", "-1531420618", "1e9", "0x5B47"]) {
      expect(reason({ timestamp })).toBe("bad-timestamp");
    }
    expect(reason({ signingSecret: "" })).toBe("not-configured");
  });
});

interface ParseCases {
  valid: Array<{ text: string; expected: unknown }>;
  malformed: Array<{ text: string; problem: string }>;
}
const cases = loadEvent("slack/parse-cases.json") as ParseCases;

describe("parseSlashCommand", () => {
  it.each(cases.valid)("reads $text", ({ text, expected }) => {
    expect(parseSlashCommand(text)).toEqual(expected);
  });

  it.each(cases.malformed)("answers $text with help naming the problem", ({ text, problem }) => {
    const command = parseSlashCommand(text);
    expect(command.kind).toBe("help");
    expect(command.kind === "help" && command.problem).toContain(problem);
  });

  it("refuses notes and reasons longer than the timeline keeps", () => {
    expect(parseSlashCommand(`note K7Q2XPD ${"x".repeat(2000)}`).kind).toBe("note");
    expect(parseSlashCommand(`note K7Q2XPD ${"x".repeat(2001)}`)).toEqual({
      kind: "help",
      problem: "a note is at most 2000 characters",
    });
    expect(parseSlashCommand(`resolve K7Q2XPD ${"x".repeat(2001)}`).kind).toBe("help");
    expect(parseSlashCommand(`silence alarmName=a 1h ${"x".repeat(501)}`).kind).toBe("help");
  });

  it("covers every subcommand the help lists", () => {
    const kinds = new Set(cases.valid.map(({ expected }) => (expected as { kind: string }).kind));
    expect([...kinds].sort()).toEqual(
      ["ack", "approve", "help", "list", "note", "resolve", "show", "silence", "unsilence"].sort(),
    );
  });

  it("turns any text into a command or a help with a problem, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const command = parseSlashCommand(text);
        expect(command.kind).toBeTypeOf("string");
      }),
    );
  });
});

interface Hostile {
  title: string;
  detail: string;
  rule: string;
  linkLabel: string;
  linkUrl: string;
  note: string;
  reason: string;
  mentions: string[];
}
const hostile = loadEvent("slack/hostile.json") as Hostile;

/** Every piece of mrkdwn a message carries. */
function texts(message: SlackMessage): string[] {
  const all = [message.text];
  for (const block of message.blocks) {
    if (block.type === "section")
      all.push(block.text.text, ...(block.fields ?? []).map((f) => f.text));
    if (block.type === "context") all.push(...block.elements.map((element) => element.text));
  }
  return all;
}

/** The control sequences Firebreak writes itself: mentions of Slack users, dates and links. */
const OWN_SEQUENCES = [
  /^<@[UW][A-Z0-9]{2,20}>$/,
  /^<!date\^\d+\^\{date_short_pretty\} \{time\}\|[\d: -]+UTC>$/,
  /^<https?:\/\/[^|<>\s]+\|[^<>|]*>$/,
];

function expectSafe(message: SlackMessage, links: string[] = []): void {
  for (const text of texts(message)) {
    for (const mention of hostile.mentions) expect(text).not.toContain(mention);
    for (const sequence of text.match(/<[^>]*>?/g) ?? []) {
      expect(
        OWN_SEQUENCES.some((pattern) => pattern.test(sequence)),
        sequence,
      ).toBe(true);
      if (sequence.startsWith("<http")) {
        expect(links.some((link) => sequence.startsWith(`<${link}|`))).toBe(true);
      }
    }
    expect(text).not.toMatch(/@(channel|here|everyone)\b/);
  }
}

function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
  for (const block of message.blocks) {
    if (block.type === "section") {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.fields);
      for (const field of block.fields ?? []) {
        expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
    }
    if (block.type === "context") {
      expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
      for (const element of block.elements) {
        expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
      }
    }
  }
}

function hostileRecord(): IncidentRecord {
  const record = aRecord({
    title: hostile.title,
    detail: hostile.detail,
    rule: hostile.rule,
    severity: "critical",
    link: { label: hostile.linkLabel, url: hostile.linkUrl },
  });
  record.actions = [
    anAction({ reason: hostile.reason }),
    anAction({ id: "a2", type: "page", targetKey: "page:oncall", status: "succeeded" }),
  ];
  return record;
}

const silence = {
  id: "S4K2PX",
  match: { alarmName: "api-*" },
  matcher: "alarmName=api-*",
  reason: hostile.reason,
  createdBy: "slack:U012AB3CD",
  createdAt: "2026-11-26T10:00:00.000Z",
  endsAt: "2026-11-26T12:00:00.000Z",
  incidentId: null,
};

describe("Slack messages", () => {
  it("shows an incident card with everything escaped and the origin as the only link", () => {
    const record = hostileRecord();
    const card = incidentCard({ record, silence, command: "/incident" });
    expect(card.response_type).toBe("ephemeral");
    const all = texts(card).join("\n");
    expect(all).toContain(":red_circle: *Critical*");
    expect(all).toContain("&lt;!channel&gt; checkout down &lt;https://evil.example/login|click");
    expect(all).toContain("&amp;");
    expect(all).toContain("<https://sentry.example/issues/1%7Cb%3Cc%3Ed&amp;e|Open in console¦");
    expect(all).toContain("`a1` failover `rds-cluster:us-east-1/orders-db` — awaiting-approval");
    expect(all).toContain("Approve with `/incident approve");
    expect(all).toContain("Silenced by `S4K2PX`");
    expectSafe(card, ["https://sentry.example/issues/1%7Cb%3Cc%3Ed&amp;e"]);
    expectWithinLimits(card);
  });

  it("clips long text and caps the actions shown", () => {
    const record = aRecord({ title: "t".repeat(300), detail: "d".repeat(2000) });
    record.actions = Array.from({ length: 30 }, (_, index) =>
      anAction({ id: `a${index + 1}`, status: "failed", reason: "r".repeat(2000) }),
    );
    const card = incidentCard({ record, silence: null, command: "/incident" });
    expectWithinLimits(card);
    expect(texts(card).join("\n")).toContain("_and 25 earlier_");
  });

  it("lists at most 15 incidents, most severe first, and counts the rest", () => {
    const incidents = Array.from(
      { length: 40 },
      (_, index) =>
        aRecord({
          title: `${hostile.title} ${index}`,
          severity: index === 39 ? "critical" : "warning",
          fingerprint: `f${index}`,
        }).incident,
    );
    const list = incidentList({
      incidents,
      more: false,
      severity: null,
      silenced: new Set([incidents[0]?.id as string]),
      command: "/incident",
    });
    expect(list.response_type).toBe("ephemeral");
    expect(list.blocks).toHaveLength(1 + LIST_LIMIT + 1);
    expect(texts(list)[2]).toContain(":red_circle:");
    expect(texts(list).at(-1)).toContain("and 25 more");
    expectSafe(list);
    expectWithinLimits(list);
    const more = incidentList({ ...listInput(incidents), more: true });
    expect(texts(more).at(-1)).toContain("and 25+ more");
    const none = incidentList({ ...listInput([]), severity: "critical" });
    expect(none.text).toBe("No open critical incidents.");
  });

  it("shows what the team wrote on the card: the alarm's description, links only http(s), and the runbook", () => {
    const record = aRecord({
      attributes: {
        alarmName: "checkout-5xx",
        description: "Rollback guide: https://wiki.example.com/rb <!channel> javascript:alert(1)",
      },
    });
    record.incident.service = "checkout";
    record.incident.runbook = "https://wiki.example.com/runbooks/checkout";
    const card = incidentCard({ record, silence: null, command: "/incident" });
    const all = texts(card).join("\n");
    expect(all).toContain(
      "Rollback guide: <https://wiki.example.com/rb|https://wiki.example.com/rb> &lt;!channel&gt; javascript:alert(1)",
    );
    expect(all).toContain("Runbook: <https://wiki.example.com/runbooks/checkout|checkout>");
    expectSafe(card, ["https://wiki.example.com/rb", "https://wiki.example.com/runbooks/checkout"]);
    expectWithinLimits(card);
  });

  it("groups the list by service, each where its most severe incident ranks", () => {
    const of = (service: string | null, severity: "critical" | "warning", title: string) => ({
      ...aRecord({ title, severity, fingerprint: title }).incident,
      service,
    });
    const list = incidentList(
      listInput([
        of("payments", "warning", "payments-queue-backlog"),
        of(null, "warning", "legacy-web-cpu-high"),
        of("checkout", "critical", "checkout-5xx"),
        of("checkout", "warning", "checkout-latency"),
      ]),
    );
    const lines = texts(list).map((text) => text.split("\n")[0]);
    expect(lines.slice(2, -1)).toEqual([
      "*checkout*",
      expect.stringContaining("checkout-5xx"),
      expect.stringContaining("checkout-latency"),
      "*payments*",
      expect.stringContaining("payments-queue-backlog"),
      "*no service*",
      expect.stringContaining("legacy-web-cpu-high"),
    ]);
    expectSafe(list);
  });

  it("renders help with every subcommand, an example each, in the configured command", () => {
    const help = helpMessage({ command: "/inc", problem: null, restricted: true });
    const all = texts(help).join("\n");
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
      expect(all).toContain(`\`/inc ${sub}`);
      expect(all).toMatch(new RegExp(`e\\.g\\. \`/inc ${sub}`));
    }
    expect(all).not.toContain("/incident");
    expect(all).toContain("Only responders may change incidents");
    const problem = helpMessage({
      command: "/incident",
      problem: 'unknown subcommand "<!channel>"',
      restricted: false,
    });
    expect(texts(problem)[1]).toBe(':warning: unknown subcommand "&lt;!channel&gt;"');
    expectSafe(problem);
    expectWithinLimits(help);
  });

  it("says who changed what in the channel, and escapes notes and reasons", () => {
    const { incident } = hostileRecord();
    const by = "slack:U012AB3CD";
    const ack = changeMessage({ kind: "ack", incident, by });
    expect(ack.response_type).toBe("in_channel");
    expect(ack.text).toBe(`:eyes: \`${incident.id}\` acknowledged by <@U012AB3CD>`);
    const changes = [
      ack,
      changeMessage({ kind: "resolve", incident, by, note: hostile.note }),
      changeMessage({ kind: "note", incident, by, text: hostile.note.repeat(50) }),
      changeMessage({ kind: "approve", incident, action: anAction(), by, followUp: true }),
      changeMessage({ kind: "silence", silence, by }),
      changeMessage({ kind: "unsilence", silence, by }),
    ];
    for (const change of changes) {
      expect(change.response_type).toBe("in_channel");
      expectSafe(change);
      expectWithinLimits(change);
    }
    expect(texts(changes[4] as SlackMessage)[1]).toContain("for 2h");
  });

  it("explains unchanged commands and refusals to the user alone", () => {
    const record = aRecord();
    Object.assign(record.incident, {
      status: "acknowledged",
      acknowledgedBy: "slack:U012AB3CD",
      acknowledgedAt: "2026-11-26T10:05:00.000Z",
    });
    const again = unchangedMessage("ack", record.incident, "ignored");
    expect(again.response_type).toBe("ephemeral");
    expect(again.text).toMatch(/was already acknowledged by <@U012AB3CD> <!date\^\d+\^/);
    expect(again.text).toMatch(/Nothing changed\.$/);
    const refusal = refusalMessage({
      userId: "U999",
      attempted: "acknowledge",
      responders: ["U012AB3CD"],
    });
    expect(refusal.response_type).toBe("ephemeral");
    expect(refusal.text).toContain("only responders may acknowledge");
    expect(refusal.text).toContain("<@U012AB3CD>");
  });

  it("keeps any incident text safe and within limits (property)", () => {
    const special = fc.constantFrom("<", ">", "&", "|", "!", "@", "channel", "here", "`", "\n");
    const anyText = fc.string({ unit: fc.oneof(special, fc.string({ maxLength: 3 })) });
    fc.assert(
      fc.property(anyText, anyText, anyText, (title, detail, reason) => {
        const record = aRecord({ title: title || "x", detail, link: null });
        record.actions = [anAction({ reason })];
        expectSafe(incidentCard({ record, silence: { ...silence, reason }, command: "/incident" }));
        expectSafe(
          changeMessage({ kind: "note", incident: record.incident, by: reason, text: detail }),
        );
      }),
      { numRuns: 200 },
    );
  });
});

function listInput(incidents: IncidentRecord["incident"][]) {
  return {
    incidents,
    more: false,
    severity: null,
    silenced: new Set<string>(),
    command: "/incident",
  };
}

describe("answerSlashCommand", () => {
  const template = Object.fromEntries(new URLSearchParams(loadRawEvent("slack/command.form.txt")));
  const form = (text: string, overrides: Partial<SlashCommandForm> = {}): SlashCommandForm =>
    SlashCommandFormSchema.parse({ ...template, text, ...overrides });

  async function setup(responders?: string[]) {
    const store = new MemoryIncidentStore();
    const record = aRecord({ severity: "critical" });
    await store.save(record, null);
    let changes = 0;
    const deps: SlashCommandDeps = {
      store,
      silences: new MemorySilenceStore(),
      config: aConfig(responders ? { responders } : {}),
      clock: { now: () => Date.parse("2026-11-26T10:10:00.000Z") },
      region: "us-east-1",
      logger: silentLogger,
      changed: () => {
        changes += 1;
      },
    };
    return { deps, store, id: record.incident.id, changes: () => changes };
  }

  it("acknowledges as slack:<user>, and a second ack changes nothing", async () => {
    const { deps, store, id, changes } = await setup();
    const first = await answerSlashCommand(form(`ack ${id.toLowerCase()}`), deps);
    expect(first.response_type).toBe("in_channel");
    expect((await store.get(id))?.incident.acknowledgedBy).toBe("slack:U2147483697");
    const second = await answerSlashCommand(form(`ack ${id}`), deps);
    expect(second.response_type).toBe("ephemeral");
    expect(second.text).toContain("already acknowledged by <@U2147483697>");
    expect(changes()).toBe(1);
  });

  it("answers a silence whose pattern does not compile with help naming it, and keeps none", async () => {
    const { deps, changes } = await setup();
    // The parser reads the matcher; the pattern compiles (RE2) only when the silence is made.
    expect(parseSlashCommand("silence message=( 1h").kind).toBe("silence");
    const answer = await answerSlashCommand(form("silence message=( 1h"), deps);
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.text).toContain(
      "bad matcher: invalid matcher: message: not a valid regular expression",
    );
    expect(await deps.silences.listActive(deps.clock.now())).toEqual([]);
    expect(changes()).toBe(0);
  });

  it("answers unknown incidents and other commands kindly", async () => {
    const { deps } = await setup();
    expect((await answerSlashCommand(form("ack ZZZZZZZ"), deps)).text).toContain(
      "No incident `ZZZZZZZ`",
    );
    expect((await answerSlashCommand(form("show ZZZZZZZ"), deps)).text).toContain(
      "No incident `ZZZZZZZ`",
    );
    const other = await answerSlashCommand(form("list", { command: "/weather" }), deps);
    expect(other.text).toContain("this app answers /incident, not /weather");
  });

  it("lets only responders change, records the refusal, and lets everyone look", async () => {
    const { deps, store, id, changes } = await setup(["U012AB3CD"]);
    const refused = await answerSlashCommand(form(`resolve ${id} done`), deps);
    expect(refused.response_type).toBe("ephemeral");
    expect(refused.text).toContain("only responders may resolve");
    const record = await store.get(id);
    expect(record?.incident.status).toBe("triggered");
    expect(record?.timeline.at(-1)).toMatchObject({
      type: "refused",
      by: "slack:U2147483697",
      attempted: "resolve",
    });
    expect((await answerSlashCommand(form(`show ${id}`), deps)).response_type).toBe("ephemeral");
    const silence = await answerSlashCommand(form("silence alarmName=x 1h"), deps);
    expect(silence.text).toContain("only responders may silence alarmName=x");
    expect(await deps.silences.listActive(deps.clock.now())).toEqual([]);
    const allowed = await answerSlashCommand(form(`ack ${id}`, { user_id: "U012AB3CD" }), deps);
    expect(allowed.response_type).toBe("in_channel");
    expect(changes()).toBe(1);
  });
});
