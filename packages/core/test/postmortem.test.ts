import { loadEvent, parseSentryWebhook } from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type AwsGateway,
  type AwsRequest,
  acknowledge,
  addNote,
  assembleTimeline,
  buildPostmortem,
  type ClassifiedSignal,
  type DeliveryOutcome,
  Dispatcher,
  type GuardStore,
  type IncidentEvent,
  type IncidentRecord,
  normalizeEvent,
  type Pager,
  type PlanContext,
  Policy,
  PostmortemSchema,
  planResponses,
  reduce,
  renderPostmortemMarkdown,
  resolveByPerson,
  type Signal,
  signalFromSentry,
  type TimelineEntry,
} from "../src";
import { aConfig, aRecord, MemoryIncidentStore, manualClock } from "../src/testing";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** The fixture alarm's own state change time. */
const T0 = Date.parse("2024-11-05T14:03:40.536Z");
const iso = (time: number) => new Date(time).toISOString();

const config = aConfig({
  rules: [
    {
      name: "checkout-latency",
      match: { alarmName: "api-checkout-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
          by: 2,
          max: 12,
        },
        { type: "page", channel: "oncall" },
      ],
    },
  ],
  channels: {
    oncall: {
      sns: "arn:aws:sns:us-east-1:123456789012:oncall",
      slackWebhook: "https://hooks.slack.com/services/T000/B000/XXXX",
    },
  },
  escalation: { repeatAfter: "5m", maxRepeats: 2, channels: ["oncall"] },
  safety: { cooldown: "10m" },
});
const policy = new Policy(config);
const REGION = "us-east-1";

const classify = (signal: Signal): ClassifiedSignal => {
  const { severity, rule } = policy.classify(signal);
  if (severity === "ignore") throw new Error("the fixture policy ignores no signal");
  return { ...signal, severity, rule: rule?.name ?? null };
};

// biome-ignore lint/suspicious/noExplicitAny: fixtures are cloned and changed to make new deliveries.
type Editable = Record<string, any>;

/** The real EventBridge alarm payload, as a new delivery at another time. */
function alarm(state: "ALARM" | "OK", id: string, at: number, reason?: string): Signal {
  const file = state === "ALARM" ? "eventbridge-alarm.json" : "eventbridge-alarm-ok.json";
  const event = structuredClone(loadEvent(`cloudwatch/${file}`)) as Editable;
  event.id = id;
  event.time = iso(at);
  event.detail.state.timestamp = iso(at);
  if (reason) event.detail.state.reason = reason;
  const [signal] = normalizeEvent(event, { policy, region: REGION }).signals;
  if (!signal) throw new Error(`${file} made no signal`);
  return signal;
}

/**
 * ECS as far as scaling the checkout service needs: four tasks, no Application Auto Scaling
 * target (so the scale-out sets the desired count).
 */
class FakeEcs implements AwsGateway {
  readonly sent: AwsRequest[] = [];
  async send(request: AwsRequest): Promise<unknown> {
    this.sent.push(request);
    switch (`${request.service}:${request.operation}`) {
      case "ecs:DescribeServices":
        return {
          services: [
            { desiredCount: 4, runningCount: 4, deployments: [{ rolloutState: "COMPLETED" }] },
          ],
        };
      case "application-autoscaling:DescribeScalableTargets":
        return { ScalableTargets: [] };
      case "ecs:UpdateService":
        return {};
      default:
        throw new Error(`unexpected ${request.service}:${request.operation}`);
    }
  }
}

class SentPager implements Pager {
  async deliver(): Promise<DeliveryOutcome> {
    return { status: "sent", detail: "ok" };
  }
  async followUp(): Promise<void> {}
}

// Guards are not what these tests are about: every run is allowed.
const openGuards: GuardStore = { reserve: async () => ({ ok: true }), release: async () => {} };

/**
 * The incident of the golden file, through the real reducer, planner, dispatcher and human
 * commands: a critical CloudWatch alarm opens it, the checkout service is scaled out and on-call
 * paged, more alarms arrive, someone acknowledges from Slack and writes a note, the alarm
 * recovers and the resolve notice goes out. `until: "acknowledged"` stops before the recovery.
 */
async function scaleOutIncident(until: "resolved" | "acknowledged" = "resolved") {
  const clock = manualClock(T0);
  const store = new MemoryIncidentStore({ clock });
  const dispatcher = new Dispatcher({
    store,
    guards: openGuards,
    gateway: new FakeEcs(),
    pager: new SentPager(),
    clock,
    config,
    mode: "live",
    region: REGION,
  });
  const context = (): PlanContext => ({ config, now: clock.time, region: REGION });
  let id = "";
  const save = async (record: IncidentRecord) => {
    id = record.incident.id;
    await store.save(record, null);
  };
  const signal = async (at: number, next: Signal) => {
    clock.time = at;
    const current = id ? await store.get(id) : null;
    const { record, events } = reduce(current, [classify(next)], config.incidents, clock.time);
    if (!record) throw new Error("the signal changed nothing");
    await save(planResponses(record, events, context()));
  };
  const person = async (
    at: number,
    change: (record: IncidentRecord, at: string) => { record: IncidentRecord },
    events: IncidentEvent[] = [],
  ) => {
    clock.time = at;
    const { record } = change((await store.get(id)) as IncidentRecord, iso(at));
    await save(planResponses(record, events, context()));
  };
  const dispatch = async (at: number) => {
    clock.time = at;
    await dispatcher.dispatch(id);
  };
  const by = "slack:U012AB3CD";
  const datapoints = (values: string[], than: string, transition: string) =>
    `Threshold Crossed: 3 out of the last 3 datapoints [${values.join(", ")}] were ${than} the threshold (1.5) (minimum 3 datapoints for ${transition} transition).`;
  const worse = (values: string[]) => datapoints(values, "greater than", "OK -> ALARM");
  const better = (values: string[]) => datapoints(values, "not greater than", "ALARM -> OK");

  await signal(T0, alarm("ALARM", "c3b35e2b-de47-8c9c-60be-21e0be660dbd", T0));
  await dispatch(T0 + 2 * SECOND);
  const repeat = async (minutes: number, deliveryId: string, values: string[]) => {
    const at = T0 + minutes * MINUTE;
    await signal(at, alarm("ALARM", deliveryId, at, worse(values)));
  };
  const minute = (value: string, at: string) => `${value} (05/11/24 14:${at}:00)`;
  await repeat(2, "5e0f7a51-2", [
    minute("3.104", "04"),
    minute("2.873", "03"),
    minute("2.511", "02"),
  ]);
  await repeat(3, "5e0f7a51-3", [
    minute("3.287", "05"),
    minute("3.104", "04"),
    minute("2.873", "03"),
  ]);
  await repeat(4, "5e0f7a51-4", [
    minute("2.412", "06"),
    minute("3.287", "05"),
    minute("3.104", "04"),
  ]);
  const ackAt = T0 + 4 * MINUTE + 32 * SECOND;
  await person(ackAt, (record, at) => acknowledge(record, by, at), [
    { type: "acknowledged", at: iso(ackAt), by },
  ]);
  await person(T0 + 6 * MINUTE + 10 * SECOND, (record, at) =>
    addNote(
      record,
      by,
      at,
      "Checkout p99 falling since the scale-out. DB pool at 80%, watching it before touching it.",
    ),
  );
  await repeat(7, "5e0f7a51-5", [
    minute("1.702", "09"),
    minute("2.058", "08"),
    minute("2.215", "07"),
  ]);
  if (until === "resolved") {
    const at = T0 + 9 * MINUTE + 12 * SECOND;
    const values = [minute("0.902", "11"), minute("1.204", "10"), minute("1.388", "09")];
    await signal(at, alarm("OK", "91e10426-ee4c-64c2-93ce-3e0025d3d8e8", at, better(values)));
    await dispatch(T0 + 9 * MINUTE + 14 * SECOND);
  }
  const record = (await store.get(id)) as IncidentRecord;
  const timeline = assembleTimeline(record, await store.getTimelinePages(id));
  return { record, timeline };
}

describe("the post-mortem of a scaled-out CloudWatch incident", () => {
  it("renders the golden Markdown", async () => {
    const { record, timeline } = await scaleOutIncident();
    const markdown = renderPostmortemMarkdown(buildPostmortem(record, timeline, iso(T0 + HOUR)));
    await expect(markdown).toMatchFileSnapshot("./golden/postmortem-scale-out.md");
  });

  it("states the key facts in JSON", async () => {
    const { record, timeline } = await scaleOutIncident();
    const report = buildPostmortem(record, timeline, iso(T0 + HOUR));
    expect(report).toMatchObject({
      incident: {
        id: record.incident.id,
        title: "api-checkout-latency",
        severity: "critical",
        status: "resolved",
        rule: "checkout-latency",
        source: "cloudwatch",
        count: 5,
        acknowledgedBy: "slack:U012AB3CD",
        resolvedBy: "recovery:cloudwatch",
      },
      asOf: null,
      impact: {
        start: "2024-11-05T14:03:40.536Z",
        end: "2024-11-05T14:12:52.536Z",
        durationSeconds: 552,
        duration: "9m 12s",
        ongoing: false,
      },
      detection: {
        at: "2024-11-05T14:03:40.536Z",
        source: "cloudwatch",
        rule: "checkout-latency",
        origin: "CloudWatch alarm api-checkout-latency (123456789012, us-east-1)",
        link: {
          arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-checkout-latency",
          url: expect.stringContaining("#alarmsV2:alarm/api-checkout-latency"),
        },
      },
      timeToAcknowledgeSeconds: 272,
      timeToAcknowledge: "4m 32s",
      timeToResolveSeconds: 552,
      timeToResolve: "9m 12s",
      signalCount: 5,
      signals: { first: "2024-11-05T14:03:40.536Z", last: "2024-11-05T14:10:40.536Z", count: 5 },
      automation: {
        summary: "recovered 9m 10s after a1 (scale ecs-service:us-east-1/prod/checkout) succeeded",
        recovery: { state: "recovered", actionId: "a1", afterSeconds: 550 },
      },
      contributingSignals: [{ source: "cloudwatch", count: 5 }],
    });
    expect(report.actions.map((action) => `${action.id}:${action.type}:${action.status}`)).toEqual([
      "a1:scale:succeeded",
      "a2:page:succeeded",
      "a3:page:succeeded",
    ]);
    expect(report.automation.steps[0]).toMatchObject({
      what: "scale ecs-service:us-east-1/prod/checkout",
      status: "succeeded",
      before: "desiredCount 4, running 4",
      requests: [
        {
          service: "ecs",
          operation: "UpdateService",
          region: "us-east-1",
          input: { cluster: "prod", service: "checkout", desiredCount: 6 },
        },
      ],
    });
    expect(report.timeline.map((line) => line.type)).toEqual([
      "opened",
      "action",
      "action",
      "action",
      "action",
      "signals",
      "acknowledged",
      "note",
      "signals",
      "resolved",
      "action",
      "action",
    ]);
    expect(report.timeline[5]).toMatchObject({
      type: "signals",
      firstAt: "2024-11-05T14:05:40.536Z",
      lastAt: "2024-11-05T14:07:40.536Z",
      count: 3,
      total: 4,
      entries: 3,
    });
    expect(report.followUp.map((section) => [section.heading, section.text])).toEqual([
      ["Root cause", ""],
      ["What went well", ""],
      ["What to improve", ""],
      ["Follow-up items", ""],
    ]);
  });

  it("is what its schema describes, and the schema converts to JSON Schema", async () => {
    const { record, timeline } = await scaleOutIncident();
    const report = buildPostmortem(record, timeline, iso(T0 + HOUR));
    expect(PostmortemSchema.parse(report)).toEqual(report);
    // Plain JSON: nothing is lost or changed by a round trip through text.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const schema = z.toJSONSchema(PostmortemSchema, { io: "output", unrepresentable: "any" });
    expect(Object.keys(schema.properties ?? {})).toEqual(
      expect.arrayContaining([
        "timeToAcknowledgeSeconds",
        "timeToResolveSeconds",
        "signalCount",
        "timeline",
        "actions",
      ]),
    );
  });

  it("reports an open incident so far, up to `now`", async () => {
    const { record, timeline } = await scaleOutIncident("acknowledged");
    const now = iso(T0 + 12 * MINUTE);
    const report = buildPostmortem(record, timeline, now);
    expect(report).toMatchObject({
      incident: { status: "acknowledged", resolvedAt: null },
      asOf: now,
      impact: { end: null, durationSeconds: 720, duration: "12m", ongoing: true },
      timeToAcknowledgeSeconds: 272,
      timeToResolveSeconds: null,
      timeToResolve: null,
      automation: {
        summary:
          "not recovered yet, 11m 58s after a1 (scale ecs-service:us-east-1/prod/checkout) succeeded",
        recovery: { state: "not-recovered", actionId: "a1", afterSeconds: 718 },
      },
    });
    const markdown = renderPostmortemMarkdown(report);
    expect(markdown).toContain(
      "_Ongoing: this is the report so far, as of 2024-11-05 14:15:40 UTC._",
    );
    expect(markdown).toContain("| Impact | 2024-11-05 14:03:40 UTC → ongoing (12m so far) |");
    expect(markdown).toContain("| Time to resolve | not resolved yet |");
    // Later, the same open incident has lasted longer: only the "so far" moves.
    const later = buildPostmortem(record, timeline, iso(T0 + 20 * MINUTE));
    expect(later.impact.durationSeconds).toBe(1200);
    expect({ ...later, asOf: null, impact: null, automation: null }).toEqual({
      ...report,
      asOf: null,
      impact: null,
      automation: null,
    });
  });

  it("is deterministic, never reads the clock once resolved, and leaves its input alone", async () => {
    const { record, timeline } = await scaleOutIncident();
    const before = structuredClone({ record, timeline });
    const first = buildPostmortem(record, timeline, iso(T0 + HOUR));
    const again = buildPostmortem(
      structuredClone(record),
      structuredClone(timeline),
      iso(T0 + 30 * HOUR),
    );
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(renderPostmortemMarkdown(again)).toBe(renderPostmortemMarkdown(first));
    expect({ record, timeline }).toEqual(before);
  });
});

describe("other incidents", () => {
  it("shows a flapping incident, whose automation was held", () => {
    let current: IncidentRecord | null = null;
    let time = T0;
    // Resolving and re-opening three times in the flapping window marks the fourth flapping.
    for (let cycle = 0; cycle < 4; cycle++) {
      const opened = reduce(
        current,
        [classify(alarm("ALARM", `flap-${cycle}`, time))],
        config.incidents,
        time,
      );
      current = planResponses(opened.record as IncidentRecord, opened.events, {
        config,
        now: time,
        region: REGION,
      });
      time += MINUTE;
      if (cycle === 3) break;
      const ok = reduce(
        current,
        [classify(alarm("OK", `ok-${cycle}`, time))],
        config.incidents,
        time,
      );
      current = ok.record as IncidentRecord;
      time += MINUTE;
    }
    const record = current as IncidentRecord;
    const report = buildPostmortem(record, record.timeline, iso(time));
    expect(report.incident.flapping).toBe(true);
    expect(report.timeline[0]).toMatchObject({ type: "opened", flapping: true });
    expect(report.automation).toMatchObject({
      summary: "no automated action ran",
      recovery: { state: "no-automated-action", actionId: null },
    });
    expect(report.automation.steps[0]).toMatchObject({
      type: "scale",
      status: "skipped",
      reason: expect.stringContaining("flapping"),
    });
    const markdown = renderPostmortemMarkdown(report);
    expect(markdown).toContain("| Flapping | yes: it resolved and re-opened repeatedly |");
    expect(markdown).toContain("Opened as critical by rule checkout-latency, flapping");
    expect(markdown).toContain("held: the incident is flapping, a person should look first");
  });

  it("shows an incident no rule matched and nothing automated, resolved by a person", () => {
    const opened = aRecord({
      title: "orders-queue-depth",
      at: "2026-11-26T10:00:00.000Z",
      fingerprint: "cloudwatch:123456789012:us-east-1:orders-queue-depth",
      attributes: { alarmName: "orders-queue-depth", account: "123456789012" },
    });
    const { record } = resolveByPerson(opened, "api:ops", "2026-11-26T10:25:00.000Z", "drained");
    const report = buildPostmortem(record, record.timeline, "2026-11-26T11:00:00.000Z");
    expect(report).toMatchObject({
      incident: { rule: null, severity: "warning", status: "resolved", resolvedBy: "api:ops" },
      detection: { rule: null, origin: "CloudWatch alarm orders-queue-depth (123456789012)" },
      timeToAcknowledgeSeconds: null,
      timeToResolveSeconds: 1500,
      actions: [],
      automation: {
        summary: "no automated action ran",
        recovery: { state: "no-automated-action" },
        steps: [],
      },
    });
    const markdown = renderPostmortemMarkdown(report);
    expect(markdown).toContain("| Rule | none (default severity) |");
    expect(markdown).toContain("| Time to acknowledge | never acknowledged |");
    expect(markdown).toContain("- **10:25:00** Resolved by api:ops: drained");
    expect(markdown).toContain(
      "No automated action ran.\n\nNothing was planned for this incident.",
    );
  });

  it("names a person who resolved after the automation, not a recovery", async () => {
    const { record, timeline } = await scaleOutIncident("acknowledged");
    const { record: resolved } = resolveByPerson(
      record,
      "slack:U012AB3CD",
      iso(T0 + 15 * MINUTE),
      "p99 normal for 5 minutes",
    );
    const report = buildPostmortem(resolved, [...timeline, ...resolved.timeline.slice(-1)], iso(0));
    expect(report.automation).toMatchObject({
      summary:
        "resolved by slack:U012AB3CD 14m 58s after a1 (scale ecs-service:us-east-1/prod/checkout) succeeded",
      recovery: { state: "resolved", actionId: "a1", afterSeconds: 898 },
    });
  });

  it("links back to a log stream and to a Sentry issue", () => {
    const [logLine] = normalizeEvent(loadEvent("logs/lambda-errors-json.json"), {
      policy,
      region: REGION,
    }).signals;
    const headers = loadEvent("sentry/headers.json") as Record<string, Record<string, string>>;
    const header = headers["issue-created.json"] as Record<string, string>;
    const parsed = parseSentryWebhook(
      header["Sentry-Hook-Resource"] as string,
      loadEvent("sentry/issue-created.json"),
    );
    if (!parsed.success) throw parsed.error;
    const sentry = signalFromSentry({
      webhook: parsed.data,
      sentAt: "2024-11-05T16:30:00.000Z",
    });
    for (const signal of [logLine, sentry]) {
      if (!signal) throw new Error("the fixture made no signal");
      const { record } = reduce(null, [classify(signal)], config.incidents, Date.parse(signal.at));
      const report = buildPostmortem(record as IncidentRecord, record?.timeline ?? [], signal.at);
      const { detection } = report;
      expect(detection.link).toEqual(signal.link);
      if (signal.source === "logs") {
        expect(detection.origin).toBe(
          `CloudWatch Logs ${signal.attributes.logGroup}, stream ${signal.attributes.logStream}`,
        );
        expect(detection.attributes).toMatchObject({
          logGroup: signal.attributes.logGroup,
          logStream: signal.attributes.logStream,
        });
      } else {
        expect(detection.origin).toMatch(/^Sentry/);
        expect(signal.link?.url).toMatch(/^https:\/\//);
      }
      const markdown = renderPostmortemMarkdown(report);
      expect(markdown).toContain(`| Origin | [`);
      expect(markdown).toContain(`](${signal.link?.url})`);
    }
  });
});

describe("ordering", () => {
  const at = (seconds: number) => iso(T0 + seconds * SECOND);
  const signals = (
    seconds: number,
    count: number,
    total: number,
  ): Extract<TimelineEntry, { type: "signals" }> => ({
    type: "signals",
    at: at(seconds),
    count,
    firstAt: at(seconds - count + 1),
    lastAt: at(seconds),
    total,
    detail: `batch at ${seconds}`,
  });

  it("keeps recorded order for equal times and puts late entries in their place", () => {
    const record = aRecord({ at: at(0) });
    const action = (id: string, seconds: number): TimelineEntry => ({
      type: "action",
      at: at(seconds),
      id,
      action: "page",
      target: "page:oncall",
      status: "planned",
      reason: null,
    });
    const timeline: TimelineEntry[] = [
      ...record.timeline,
      action("a1", 0),
      action("a2", 0),
      signals(10, 1, 2),
      { type: "note", at: at(10), by: "api:ops", text: "same second as the signals" },
      signals(20, 2, 4),
      // Written late (a slow writer), but it happened before the signals.
      { type: "acknowledged", at: at(5), by: "slack:U012AB3CD" },
    ];
    const report = buildPostmortem(record, timeline, at(60));
    expect(report.timeline.map((line) => (line.type === "action" ? line.id : line.type))).toEqual([
      "opened",
      "a1",
      "a2",
      "acknowledged",
      "signals",
      "note",
      "signals",
    ]);
  });

  it("merges consecutive signal entries into one line with the run's range and counts", () => {
    const record = aRecord({ at: at(0) });
    const timeline: TimelineEntry[] = [
      ...record.timeline,
      signals(30, 3, 7),
      signals(10, 2, 3),
      signals(20, 2, 5),
      { type: "note", at: at(40), by: "api:ops", text: "between two runs" },
      { ...signals(50, 1, 8), late: true },
    ];
    const report = buildPostmortem(record, timeline, at(60));
    expect(report.timeline.slice(1)).toEqual([
      {
        type: "signals",
        at: at(30),
        firstAt: at(9),
        lastAt: at(30),
        count: 7,
        total: 7,
        entries: 3,
        detail: "batch at 30",
        late: false,
      },
      { type: "note", at: at(40), by: "api:ops", text: "between two runs" },
      {
        type: "signals",
        at: at(50),
        firstAt: at(50),
        lastAt: at(50),
        count: 1,
        total: 8,
        entries: 1,
        detail: "batch at 50",
        late: true,
      },
    ]);
  });
});

/** Lines of a section of the Markdown, between its heading and the next. */
function section(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.indexOf(`## ${heading}`);
  const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
  return lines.slice(start + 1, end === -1 ? undefined : end).filter(Boolean);
}

/** Table cells as GFM splits them: on pipes not escaped by an odd run of backslashes. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!(?:^|[^\\])(?:\\\\)*\\)\|/)
    .map((cell) => cell.trim());
}

const HEADINGS = [
  "## Timeline (UTC)",
  "## What the automation did",
  "## Contributing signals",
  "## Root cause",
  "## What went well",
  "## What to improve",
  "## Follow-up items",
];

/** Backticks from outside are always escaped: an unescaped pair is one of the renderer's spans. */
const CODE_SPAN = /(?<!(?:^|[^\\])(?:\\\\)*\\)`[^`\n]*`/g;
const UNSAFE_LINK = /(?<!(?:^|[^\\])(?:\\\\)*\\)\]\((?!https:\/\/)/;

/** Checks that outside text stayed text: no HTML, no links, no extra cells, lines or headings. */
function expectInert(markdown: string, notes: number) {
  expect(markdown).not.toContain("<");
  // A link is an unescaped `](` outside code spans; the only ones allowed go to https URLs.
  expect(markdown.replace(CODE_SPAN, "")).not.toMatch(UNSAFE_LINK);
  const headings = markdown.split("\n").filter((line) => line.startsWith("#"));
  expect(headings[0]).toMatch(/^# Post-mortem: /);
  expect(headings.slice(1)).toEqual(HEADINGS);
  const facts = markdown.split("\n").filter((line) => line.startsWith("| "));
  for (const row of facts.slice(0, -3)) expect(cells(row)).toHaveLength(2);
  for (const row of facts.slice(-3)) expect(cells(row)).toHaveLength(4);
  const timeline = section(markdown, "Timeline (UTC)");
  for (const line of timeline) expect(line).toMatch(/^- \*\*/);
  expect(timeline.filter((line) => line.includes(" Note from "))).toHaveLength(notes);
}

describe("text from outside", () => {
  const hostile = [
    "<img src=x onerror=alert(1)>",
    "| pipes | in | a | cell |",
    "[link](javascript:alert(1))",
    "`code` and ``` fences",
    "line one\n# heading\n- item\r\n> quote",
    "*bold* _em_ ~~gone~~ $x$ \\| &amp; &#60;script&#62;",
  ].join(" ");

  function hostileReport(title: string, note: string) {
    const opened = aRecord({
      title,
      detail: title,
      at: "2026-11-26T10:00:00.000Z",
      attributes: { alarmName: title, account: "123456789012", region: "us-east-1" },
      link: { label: title, url: "javascript:alert(1)", arn: `arn:aws:cloudwatch:${title}` },
      rule: "api",
    });
    const { record } = addNote(opened, `slack:${title}`, "2026-11-26T10:01:00.000Z", note);
    return buildPostmortem(record, record.timeline, "2026-11-26T10:05:00.000Z");
  }

  it("renders titles, notes, links and actors inert", () => {
    const markdown = renderPostmortemMarkdown(hostileReport(hostile, hostile));
    expectInert(markdown, 1);
    expect(markdown).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(markdown).toContain("\\| pipes \\| in \\| a \\| cell \\|");
    expect(markdown).toContain("\\[link\\](javascript:alert(1))");
    expect(markdown).toContain("\\`code\\` and \\`\\`\\` fences");
    expect(markdown).toContain("line one # heading - item &gt; quote");
    expect(markdown).toContain("\\*bold\\* \\_em\\_ \\~\\~gone\\~\\~ \\$x\\$ \\\\\\| &amp;amp;");
    // The javascript: URL is shown, never linked; the ARN with backticks is not a code span.
    expect(markdown).toContain("| Origin | &lt;img src=x");
    expect(markdown).toContain(
      "&amp;#60;script&amp;#62; (javascript:alert(1)) · ARN arn:aws:cloudwatch:&lt;img",
    );
  });

  it("keeps any text inert (property)", () => {
    const special = fc.constantFrom(
      ..."<>&|`*_[]()#!\\~$-+=.:\n\r\t\u2028\u0000\u202e ".split(""),
      "a",
      "1.",
      "javascript:",
      "https://x.example/a b",
    );
    const anyText = fc.string({ unit: special, minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(anyText, anyText, (title, note) => {
        expectInert(renderPostmortemMarkdown(hostileReport(title, note)), 1);
      }),
      { numRuns: 300 },
    );
  });
});

describe("a storm", () => {
  it("builds and renders 10,000 timeline entries completely", () => {
    const record = aRecord({ at: iso(T0) });
    const timeline: TimelineEntry[] = [...record.timeline];
    let total = 1;
    for (let index = 1; index < 10_000; index++) {
      const at = iso(T0 + index * SECOND);
      if (index % 100 === 0) {
        timeline.push({ type: "note", at, by: "api:ops", text: `note ${index}` });
        continue;
      }
      total += 2;
      timeline.push({
        type: "signals",
        at,
        count: 2,
        firstAt: iso(T0 + index * SECOND - 500),
        lastAt: at,
        total,
        detail: "Threshold Crossed",
      });
    }
    record.incident.count = total;
    record.incident.lastSeenAt = iso(T0 + 9_999 * SECOND);
    const report = buildPostmortem(record, timeline, iso(T0 + 3 * HOUR));

    // 1 opened + 99 notes + 100 runs of signals between them.
    expect(report.timeline).toHaveLength(200);
    const runs = report.timeline.filter((line) => line.type === "signals");
    expect(runs).toHaveLength(100);
    expect(runs.reduce((sum, line) => sum + line.count, 1)).toBe(report.signalCount);
    expect(runs.at(-1)?.total).toBe(19_801);
    expect(report.signalCount).toBe(19_801);
    expect(report.timeline.filter((line) => line.type === "note")).toHaveLength(99);

    const markdown = renderPostmortemMarkdown(report);
    const lines = section(markdown, "Timeline (UTC)");
    expect(lines).toHaveLength(200);
    expect(lines.filter((line) => / 198 more signals /.test(line))).toHaveLength(100);
    expect(lines.at(-2)).toContain("Note from api:ops: note 9900");
    expect(lines.at(-1)).toContain("198 more signals (19801 in all)");
  });
});
