import {
  GuardDutyFindingEventSchema,
  HealthEventSchema,
  loadEvent,
  SecurityHubFindingsEventSchema,
} from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Correlator,
  InvalidEventError,
  type NormalizeOptions,
  normalizeEvent,
  Policy,
  pageText,
  type Signal,
} from "../src";
import { healthSeverity } from "../src/signals/health";
import { guardDutyFingerprint, guardDutySeverity } from "../src/signals/security";
import { incidentCard } from "../src/slack/messages";
import { aConfig, MemoryIncidentStore } from "../src/testing";

const policy = new Policy(aConfig());
const options: NormalizeOptions = { policy, region: "eu-west-1" };
const signalsOf = (raw: unknown): Signal[] => normalizeEvent(raw, options).signals;
const only = (raw: unknown): Signal => {
  const signals = signalsOf(raw);
  expect(signals).toHaveLength(1);
  return signals[0] as Signal;
};

// biome-ignore lint/suspicious/noExplicitAny: variants reach into fixtures to change them.
type Editable = Record<string, any>;

/** A copy of a fixture with `change` applied: variants and negative cases. */
function variant(name: string, change: (event: Editable) => void): Editable {
  const event = structuredClone(loadEvent(name)) as Editable;
  change(event);
  return event;
}

const GUARDDUTY = "security/guardduty-finding.json";
const GUARDDUTY_ID = "16afba5c5c43e07c9e3e5e2e544e95df";
const GUARDDUTY_ARN = `arn:aws:guardduty:us-east-1:123456789012:detector/123456789012/finding/${GUARDDUTY_ID}`;
const SECURITY_HUB = "security/securityhub-critical.json";
const EC2_1 =
  "arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.1/finding/863e6dda-dd2e-4fd3-89a5-973d430599f4";
const ELB_ARN =
  "arn:aws:health:ap-southeast-2::event/AWS_ELASTICLOADBALANCING_API_ISSUE_90353408594353980";

describe("GuardDuty findings", () => {
  it("turns the sample finding into one signal, graded by its severity", () => {
    expect(only(loadEvent(GUARDDUTY))).toEqual({
      source: "security",
      kind: "trigger",
      deliveryId: "guardduty:e4021e7ad190d1da",
      fingerprint: `security:guardduty:123456789012:us-east-1:${GUARDDUTY_ID}`,
      title: "Canary:EC2/Stateless.IntegTest",
      at: "2017-10-31T23:16:23.824Z",
      attributes: {
        account: "123456789012",
        region: "us-east-1",
        findingType: "Canary:EC2/Stateless.IntegTest",
        message: "Canary:EC2/Stateless.IntegTest",
      },
      suggestedSeverity: "warning",
      link: {
        label: `GuardDuty finding ${GUARDDUTY_ID}`,
        arn: GUARDDUTY_ARN,
        url: `https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?macro=current&fId=${GUARDDUTY_ID}`,
      },
      detail: "Severity 5, seen 1 time on Instance: Canary:EC2/Stateless.IntegTest",
    });
  });

  it("titles a finding by its type and its title, and an archived one recovers", () => {
    const signal = only(loadEvent("security/guardduty-finding-archived.json"));
    expect(signal).toMatchObject({
      kind: "recovery",
      fingerprint: "security:guardduty:123456789012:us-east-1:30bf285e52a1e405084ff6ec28e06e17",
      title:
        "Recon:IAMUser/MaliciousIPCaller.Custom: Reconnaissance API GeneratedFindingAPIName was invoked from an IP address on a custom threat list.",
      at: "2022-01-13T00:00:47.427Z",
      suggestedSeverity: "warning",
      attributes: { findingType: "Recon:IAMUser/MaliciousIPCaller.Custom" },
    });
    expect(signal.detail).toMatch(/^Severity 5, archived, seen 1 time on AccessKey: APIs commonly/);
  });

  it.each([
    [0.1, "info"],
    [3.9, "info"],
    [4, "warning"],
    [6.9, "warning"],
    [7, "critical"],
    [8.9, "critical"],
    [10, "critical"],
  ] as const)("grades severity %f as %s", (score, severity) => {
    const event = variant(GUARDDUTY, (e) => {
      e.detail.severity = score;
    });
    expect(only(event).suggestedSeverity).toBe(severity);
  });

  it("grades every score in one of the bands, never lower for a higher score", () => {
    const rank = { info: 0, warning: 1, critical: 2 };
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          return rank[guardDutySeverity(low)] <= rank[guardDutySeverity(high)];
        },
      ),
    );
  });

  it("makes an update of the finding (same id, later updatedAt, count 2) a repeat, and the same update seen twice one delivery", () => {
    const first = only(loadEvent(GUARDDUTY));
    const update = (eventId: string) =>
      variant(GUARDDUTY, (e) => {
        e.id = eventId;
        e.detail.updatedAt = "2017-11-01T05:16:23.824Z";
        e.detail.service.count = 2;
        e.detail.service.eventLastSeen = "2017-11-01T05:10:00Z";
      });
    const second = only(update("b3c5a1f0-0000-4000-8000-000000000001"));
    const again = only(update("b3c5a1f0-0000-4000-8000-000000000002"));
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.deliveryId).not.toBe(first.deliveryId);
    expect(again.deliveryId).toBe(second.deliveryId);
    expect(second).toMatchObject({ kind: "trigger", at: "2017-11-01T05:16:23.824Z" });
    expect(second.detail).toMatch(/^Severity 5, seen 2 times/);
  });

  it("keys the finding by the account and region it was found in, not the bus it came through", () => {
    const event = variant(GUARDDUTY, (e) => {
      e.account = "999999999999";
      e.region = "eu-west-1";
    });
    expect(only(event).fingerprint).toBe(
      guardDutyFingerprint("123456789012", "us-east-1", GUARDDUTY_ID),
    );
  });

  it.each([
    ["a finding without id", (e: Editable) => delete e.detail.id, "detail.id"],
    ["a finding without severity", (e: Editable) => delete e.detail.severity, "detail.severity"],
    ["a finding without detail", (e: Editable) => delete e.detail, "detail"],
    [
      "another GuardDuty detail-type",
      (e: Editable) => {
        e["detail-type"] = "GuardDuty Runtime Protection Healthy";
      },
      'unsupported EventBridge source "aws.guardduty" with detail-type "GuardDuty Runtime Protection Healthy"',
    ],
  ])("refuses %s, naming what is wrong", (_, change, message) => {
    const event = variant(GUARDDUTY, change);
    expect(() => normalizeEvent(event, options)).toThrow(InvalidEventError);
    expect(() => normalizeEvent(event, options)).toThrow(message);
  });

  it("keeps a hostile title to one clean line of at most 300 characters", () => {
    const event = variant(GUARDDUTY, (e) => {
      e.detail.title = `\u001b[2Jfake\nline\u202e${"x".repeat(2000)}`;
      e.detail.description = "y".repeat(9000);
    });
    const signal = only(event);
    expect(signal.title.length).toBeLessThanOrEqual(300);
    expect(signal.title).toMatch(/^Canary:EC2\/Stateless\.IntegTest: fake linex+…$/);
    expect(signal.detail?.length).toBeLessThanOrEqual(2000);
  });
});

describe("Security Hub findings", () => {
  it("turns the critical control finding into one signal", () => {
    expect(only(loadEvent(SECURITY_HUB))).toEqual({
      source: "security",
      kind: "trigger",
      deliveryId: "securityhub:61c37399fc895577",
      fingerprint: `security:securityhub:111111111111:76541f1ee021c935:${EC2_1}`,
      title:
        "EC2.1 EBS snapshots should not be public, determined by the ability to be restorable by anyone",
      at: "2021-02-17T12:55:31.491Z",
      attributes: {
        account: "111111111111",
        region: "us-east-1",
        findingType: "Effects/Data Exposure/AWS-Foundational-Security-Best-Practices",
        message:
          "EC2.1 EBS snapshots should not be public, determined by the ability to be restorable by anyone",
      },
      suggestedSeverity: "critical",
      link: {
        label:
          "Security Hub finding EC2.1 EBS snapshots should not be public, determined by the ability to be restorable by anyone",
        arn: EC2_1,
        url: "https://us-east-1.console.aws.amazon.com/securityhub/home?region=us-east-1#/findings",
      },
      detail:
        "CRITICAL, workflow NEW, record ACTIVE: This AWS control checks whether Amazon Elastic Block Store snapshots are not publicly restorable.",
    });
  });

  it("makes a RESOLVED finding a recovery", () => {
    expect(only(loadEvent("security/securityhub-resolved.json"))).toMatchObject({
      kind: "recovery",
      deliveryId: "securityhub:108c281e7e7768b7",
      title: "S3.2 S3 buckets should prohibit public read access",
      suggestedSeverity: "info",
    });
  });

  it.each([
    ["CRITICAL", "critical"],
    ["HIGH", "critical"],
    ["MEDIUM", "warning"],
    ["LOW", "info"],
    ["INFORMATIONAL", "info"],
  ] as const)("grades %s as %s", (label, severity) => {
    const event = variant(SECURITY_HUB, (e) => {
      e.detail.findings[0].Severity = { Label: label };
    });
    expect(only(event).suggestedSeverity).toBe(severity);
  });

  it.each([
    ["Workflow SUPPRESSED", "recovery", { Workflow: { Status: "SUPPRESSED" } }],
    ["Workflow RESOLVED", "recovery", { Workflow: { Status: "RESOLVED" } }],
    ["RecordState ARCHIVED", "recovery", { RecordState: "ARCHIVED" }],
    ["Workflow NOTIFIED", "trigger", { Workflow: { Status: "NOTIFIED" } }],
  ])("makes %s a %s of the same finding", (_, kind, fields) => {
    const event = variant(SECURITY_HUB, (e) => {
      Object.assign(e.detail.findings[0], fields, { UpdatedAt: "2021-02-18T09:00:00.000Z" });
    });
    const signal = only(event);
    expect(signal.kind).toBe(kind);
    expect(signal.fingerprint).toBe(only(loadEvent(SECURITY_HUB)).fingerprint);
  });

  it("makes one signal per finding of an event", () => {
    const event = variant(SECURITY_HUB, (e) => {
      const [finding] = e.detail.findings;
      e.detail.findings = ["a", "b", "c"].map((suffix) => ({
        ...finding,
        Id: `${finding.Id}-${suffix}`,
      }));
    });
    const signals = signalsOf(event);
    expect(signals).toHaveLength(3);
    expect(new Set(signals.map((signal) => signal.fingerprint)).size).toBe(3);
  });

  it("refuses an oversized findings array with a clear reason", () => {
    const event = variant(SECURITY_HUB, (e) => {
      e.detail.findings = Array.from({ length: 101 }, () => e.detail.findings[0]);
    });
    expect(() => normalizeEvent(event, options)).toThrow(
      "at most 100 findings per event (Security Hub sends one)",
    );
  });

  it("refuses a finding without an Id, naming the finding", () => {
    const event = variant(SECURITY_HUB, (e) => {
      delete e.detail.findings[0].Id;
    });
    expect(() => normalizeEvent(event, options)).toThrow("detail.findings[0].Id");
  });

  it("folds a GuardDuty finding imported into Security Hub onto the GuardDuty finding itself", () => {
    const imported = variant(SECURITY_HUB, (e) => {
      Object.assign(e.detail.findings[0], {
        Id: GUARDDUTY_ARN,
        ProductArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty",
        AwsAccountId: "123456789012",
        Severity: { Label: "MEDIUM", Normalized: 50 },
      });
    });
    expect(only(imported).fingerprint).toBe(only(loadEvent(GUARDDUTY)).fingerprint);
  });
});

describe("AWS Health events", () => {
  it("turns an account-specific EC2 issue into a critical signal naming its entities", () => {
    expect(only(loadEvent("health/ec2-issue.json"))).toEqual({
      source: "health",
      kind: "trigger",
      deliveryId: "health:671fc7d6fa4829da",
      fingerprint:
        "health:123456789012:arn:aws:health:us-west-2::event/AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED_90353408594353980",
      title: "EC2 issue: AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
      at: "2016-06-05T06:27:57.000Z",
      attributes: {
        account: "123456789012",
        region: "us-west-2",
        eventTypeCode: "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
        message: "A description of the event will be provided here",
      },
      suggestedSeverity: "critical",
      link: {
        label: "AWS Health event AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
        arn: "arn:aws:health:us-west-2::event/AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED_90353408594353980",
        url: "https://health.aws.amazon.com/health/home#/account/event-log?eventID=arn%3Aaws%3Ahealth%3Aus-west-2%3A%3Aevent%2FAWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED_90353408594353980",
      },
      detail: "open: A description of the event will be provided here Affected: i-abcd1111.",
    });
  });

  it("closes what open started: one fingerprint, open triggers, closed recovers", () => {
    const open = only(loadEvent("health/elb-issue-open.json"));
    const closed = only(loadEvent("health/elb-issue-closed.json"));
    expect(open).toMatchObject({
      kind: "trigger",
      fingerprint: `health:123456789012:${ELB_ARN}`,
      title: "ELASTICLOADBALANCING issue: AWS_ELASTICLOADBALANCING_API_ISSUE",
      suggestedSeverity: "warning",
      detail: "open: A description of the event will be provided here",
    });
    expect(closed).toMatchObject({
      kind: "recovery",
      fingerprint: open.fingerprint,
      at: "2016-06-05T06:31:02.000Z",
    });
  });

  it("makes upcoming maintenance a warning trigger", () => {
    expect(only(loadEvent("health/ec2-maintenance-upcoming.json"))).toMatchObject({
      kind: "trigger",
      title: "EC2 scheduledChange: AWS_EC2_MAINTENANCE_SCHEDULED",
      suggestedSeverity: "warning",
      detail: "upcoming: This is a test AWS Health Event AWS_EC2_MAINTENANCE_SCHEDULED",
    });
  });

  it.each([
    ["issue", "ACCOUNT_SPECIFIC", "critical"],
    ["issue", "PUBLIC", "warning"],
    ["investigation", "PUBLIC", "warning"],
    ["scheduledChange", "ACCOUNT_SPECIFIC", "warning"],
    ["accountNotification", "ACCOUNT_SPECIFIC", "info"],
  ] as const)("grades category %s (scope %s) as %s", (category, scope, severity) => {
    const event = variant("health/elb-issue-open.json", (e) => {
      e.detail.eventTypeCategory = category;
      e.detail.eventScopeCode = scope;
    });
    expect(only(event).suggestedSeverity).toBe(severity);
    expect(healthSeverity(event.detail)).toBe(severity);
  });

  it("keys an organizational view's event by the affected account and names only ten entities", () => {
    const event = variant("health/ec2-issue.json", (e) => {
      e.detail.affectedAccount = "222222222222";
      e.detail.affectedEntities = Array.from({ length: 25 }, (_, i) => ({ entityValue: `i-${i}` }));
    });
    const signal = only(event);
    expect(signal.fingerprint).toMatch(/^health:222222222222:arn:aws:health:us-west-2::event\//);
    expect(signal.attributes.account).toBe("222222222222");
    expect(signal.detail).toMatch(/Affected: i-0, i-1, .*, i-9 \(\+15 more\)\.$/);
  });

  it("counts the same update through two buses (AWS's backup-region advice) once", () => {
    const twice = (eventId: string, region: string) =>
      variant("health/ec2-maintenance-upcoming.json", (e) => {
        e.id = eventId;
        e.region = region;
      });
    const primary = only(twice("11111111-1111-4111-8111-111111111111", "us-east-1"));
    const backup = only(twice("22222222-2222-4222-8222-222222222222", "us-west-2"));
    expect(backup.deliveryId).toBe(primary.deliveryId);
    expect(backup.fingerprint).toBe(primary.fingerprint);
  });

  it.each([
    [
      "an undocumented category",
      (e: Editable) => {
        e.detail.eventTypeCategory = "category";
      },
      "detail.eventTypeCategory",
    ],
    ["no event ARN", (e: Editable) => delete e.detail.eventArn, "detail.eventArn"],
    [
      "no description",
      (e: Editable) => {
        e.detail.eventDescription = [];
      },
      "detail.eventDescription",
    ],
  ])("refuses an event with %s, naming the field", (_, change, field) => {
    const event = variant("health/elb-issue-open.json", change);
    expect(() => normalizeEvent(event, options)).toThrow(field);
  });
});

describe("the same policy as every source", () => {
  const config = aConfig({
    rules: [
      {
        name: "canaries",
        match: { source: "security", findingType: "Canary:*" },
        severity: "info",
      },
      {
        name: "ec2-health",
        match: { source: "health", eventTypeCode: "AWS_EC2_*" },
        severity: "critical",
      },
      { name: "drop-s3", match: { source: "security", message: "^S3\\." }, severity: "ignore" },
    ],
    services: {
      platform: { match: [{ source: "security" }, { source: "health" }] },
    },
  });
  const ruled = new Policy(config);

  it("lets a rule override the source's own severity", () => {
    const signal = only(loadEvent(GUARDDUTY));
    expect(ruled.classify(signal)).toMatchObject({ severity: "info", rule: { name: "canaries" } });
    const maintenance = only(loadEvent("health/ec2-maintenance-upcoming.json"));
    expect(ruled.classify(maintenance)).toMatchObject({
      severity: "critical",
      rule: { name: "ec2-health" },
    });
  });

  it("ignores what a rule says to ignore", () => {
    const resolved = only(loadEvent("security/securityhub-resolved.json"));
    expect(ruled.classify(resolved).severity).toBe("ignore");
  });

  it("applies the source's severity when no rule matches, and default.severity for a source without one", () => {
    const critical = only(loadEvent(SECURITY_HUB));
    expect(ruled.classify(critical)).toEqual({ severity: "critical", rule: null });
    const plain = new Policy(aConfig({ default: { severity: "warning" } }));
    expect(plain.classify(critical)).toEqual({ severity: "critical", rule: null });
    const alarm = only(loadEvent("cloudwatch/eventbridge-alarm.json"));
    expect(plain.classify(alarm)).toEqual({ severity: "warning", rule: null });
  });

  it("puts findings and health events in the services that match their source", () => {
    expect(ruled.serviceOf(only(loadEvent(GUARDDUTY)))).toBe("platform");
    expect(ruled.serviceOf(only(loadEvent("health/ec2-issue.json")))).toBe("platform");
    expect(ruled.serviceOf(only(loadEvent("cloudwatch/eventbridge-alarm.json")))).toBeNull();
  });

  it("opens a warning incident for a GuardDuty finding, folds its update in as a repeat and raises it when the score does", async () => {
    const store = new MemoryIncidentStore();
    const correlator = new Correlator({
      store,
      policy,
      clock: { now: () => Date.parse("2017-11-01T06:00:00Z") },
    });
    const update = (count: number, severity: number, updatedAt: string) =>
      variant(GUARDDUTY, (e) => {
        e.detail.service.count = count;
        e.detail.severity = severity;
        e.detail.updatedAt = updatedAt;
      });
    const opened = await correlator.process(signalsOf(loadEvent(GUARDDUTY)));
    expect(opened.changes[0]?.record.incident).toMatchObject({ severity: "warning", rule: null });
    await correlator.process(signalsOf(update(2, 5, "2017-11-01T05:16:23.824Z")));
    await correlator.process(signalsOf(update(3, 8, "2017-11-01T05:46:23.824Z")));
    const current = await store.getCurrent(only(loadEvent(GUARDDUTY)).fingerprint);
    expect(current?.incident).toMatchObject({
      source: "security",
      status: "triggered",
      count: 3,
      severity: "critical",
      attributes: { account: "123456789012", findingType: "Canary:EC2/Stateless.IntegTest" },
    });
  });

  it("groups a finding and a health event of one service into one incident, as any two sources", async () => {
    const store = new MemoryIncidentStore();
    const at = "2026-11-26T10:00:00.000Z";
    const correlator = new Correlator({
      store,
      policy: ruled,
      clock: { now: () => Date.parse(at) },
    });
    const finding = { ...only(loadEvent(SECURITY_HUB)), at };
    const health = { ...only(loadEvent("health/ec2-issue.json")), at };
    const { results } = await correlator.process([finding, health]);
    expect(results.map((result) => result.outcome)).toEqual(["applied", "applied"]);
    expect(results[0]?.incidentId).toBe(results[1]?.incidentId);
  });

  it("names the account in the page and on the Slack card", async () => {
    const store = new MemoryIncidentStore();
    const correlator = new Correlator({
      store,
      policy,
      clock: { now: () => Date.parse("2021-02-17T13:00:00Z") },
    });
    const { changes } = await correlator.process(signalsOf(loadEvent(SECURITY_HUB)));
    const record = changes[0]?.record;
    if (!record) throw new Error("no incident opened");
    const text = pageText({
      incident: record.incident,
      kind: "page",
      note: null,
      consoleUrl: null,
    });
    expect(text).toBe(
      `[CRITICAL] EC2.1 EBS snapshots should not be public, determined by the ability to be restorable by anyone (${record.incident.id}) opened, 1 signal, account 111111111111`,
    );
    const card = JSON.stringify(
      incidentCard({ record, silence: null, command: "/incident" }).blocks,
    );
    expect(card).toContain("*Account*\\n`111111111111`");
  });
});

describe("any input", () => {
  const text = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.string({ unit: "grapheme", maxLength: 400 }),
  );
  const outcome = (raw: unknown): "signals" | "none" | "refused" => {
    try {
      const { signals } = normalizeEvent(raw, options);
      return signals.length > 0 ? "signals" : "none";
    } catch (error) {
      if (error instanceof InvalidEventError) return "refused";
      throw error;
    }
  };

  it("makes a GuardDuty event valid signals when its schema accepts it, else an InvalidEventError", () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.oneof(
            fc.string({
              unit: fc.constantFrom(..."0123456789abcdef"),
              minLength: 1,
              maxLength: 40,
            }),
            text,
          ),
          type: text,
          title: fc.option(text, { nil: undefined }),
          severity: fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constant("8")),
          count: fc.oneof(fc.integer(), fc.string({ maxLength: 20 })),
          archived: fc.oneof(fc.boolean(), fc.constant("true")),
        }),
        (fields) => {
          const event = variant(GUARDDUTY, (e) => {
            Object.assign(e.detail, { id: fields.id, type: fields.type, title: fields.title });
            e.detail.severity = fields.severity;
            e.detail.service.count = fields.count;
            e.detail.service.archived = fields.archived;
          });
          // What the schema accepts makes signals: no accepted event is refused further on.
          const accepted = GuardDutyFindingEventSchema.safeParse(event).success;
          expect(outcome(event)).toBe(accepted ? "signals" : "refused");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("makes a Security Hub event valid signals when its schema accepts it, else an InvalidEventError", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            Id: text,
            Title: text,
            Label: fc.oneof(fc.constantFrom("LOW", "HIGH", "CRITICAL"), text),
            Status: fc.oneof(fc.constantFrom("NEW", "RESOLVED"), text),
            Types: fc.array(text, { maxLength: 3 }),
          }),
          { maxLength: 5 },
        ),
        (findings) => {
          const event = variant(SECURITY_HUB, (e) => {
            const [base] = e.detail.findings;
            e.detail.findings = findings.map((f) => ({
              ...base,
              Id: f.Id,
              Title: f.Title,
              Types: f.Types,
              Severity: { Label: f.Label },
              Workflow: { Status: f.Status },
            }));
          });
          // What the schema accepts makes signals: no accepted event is refused further on.
          const accepted = SecurityHubFindingsEventSchema.safeParse(event).success;
          expect(outcome(event)).toBe(accepted ? "signals" : "refused");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("makes an AWS Health event valid signals when its schema accepts it, else an InvalidEventError", () => {
    fc.assert(
      fc.property(
        fc.record({
          eventArn: fc.oneof(
            text,
            text.map((t) => `arn:aws:health:us-east-1::event/${t}`),
          ),
          statusCode: fc.oneof(fc.constantFrom("open", "closed", "upcoming"), text),
          startTime: fc.oneof(fc.constant("Sat, 04 Jun 2016 05:01:10 GMT"), text),
          description: text,
          entities: fc.array(text, { maxLength: 30 }),
        }),
        (fields) => {
          const event = variant("health/ec2-issue.json", (e) => {
            Object.assign(e.detail, {
              eventArn: fields.eventArn,
              statusCode: fields.statusCode,
              startTime: fields.startTime,
              eventDescription: [{ language: "en_US", latestDescription: fields.description }],
              affectedEntities: fields.entities.map((entityValue) => ({ entityValue })),
            });
          });
          // What the schema accepts makes signals: no accepted event is refused further on.
          const accepted = HealthEventSchema.safeParse(event).success;
          expect(outcome(event)).toBe(accepted ? "signals" : "refused");
        },
      ),
      { numRuns: 200 },
    );
  });
});
