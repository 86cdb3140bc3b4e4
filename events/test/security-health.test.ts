import { describe, expect, it } from "vitest";
import { listEvents, loadEvent } from "../fixtures";
import {
  GuardDutyFindingEventSchema,
  HealthEventSchema,
  MAX_FINDINGS_PER_EVENT,
  SecurityHubFindingsEventSchema,
  severityLabelOf,
} from "../index";
import { breakFixture, issuePaths, REMOVE } from "./helpers";

const GUARDDUTY = "security/guardduty-finding.json";
const SECURITY_HUB = "security/securityhub-critical.json";
const HEALTH = "health/elb-issue-open.json";

describe("fixtures", () => {
  it.each(listEvents("security").filter((name) => name.includes("guardduty")))(
    "%s is a GuardDuty Finding event",
    (name) => {
      expect(GuardDutyFindingEventSchema.safeParse(loadEvent(name)).success).toBe(true);
    },
  );
  it.each(listEvents("security").filter((name) => name.includes("securityhub")))(
    "%s is a Security Hub Findings - Imported event",
    (name) => {
      expect(SecurityHubFindingsEventSchema.safeParse(loadEvent(name)).success).toBe(true);
    },
  );
  it.each(listEvents("health"))("%s is an AWS Health Event", (name) => {
    expect(HealthEventSchema.safeParse(loadEvent(name)).success).toBe(true);
  });
});

describe("GuardDuty Finding", () => {
  it.each([
    ["the finding id", ["detail", "id"], REMOVE, "detail.id"],
    ["the severity", ["detail", "severity"], REMOVE, "detail.severity"],
    ["a severity past 10", ["detail", "severity"], 11, "detail.severity"],
    ["a severity as text", ["detail", "severity"], "8", "detail.severity"],
    ["the account", ["detail", "accountId"], REMOVE, "detail.accountId"],
    ["the type", ["detail", "type"], "", "detail.type"],
    ["updatedAt", ["detail", "updatedAt"], "yesterday", "detail.updatedAt"],
    ["an id with a slash", ["detail", "id"], "../../evil", "detail.id"],
    ["the resource", ["detail", "resource"], REMOVE, "detail.resource"],
    ["the envelope account", ["account"], "1234", "account"],
  ] as const)("refuses a finding without %s", (_, path, value, issue) => {
    const result = GuardDutyFindingEventSchema.safeParse(breakFixture(GUARDDUTY, path, value));
    expect(issuePaths(result)).toContain(issue);
  });

  it("reads service.count as GetFindings spells it too (a numeric string)", () => {
    const event = breakFixture(GUARDDUTY, ["detail", "service", "count"], "12");
    const result = GuardDutyFindingEventSchema.safeParse(event);
    expect(result.success && result.data.detail.service?.count).toBe(12);
  });

  it("is GuardDuty's own detail-type and source only", () => {
    const other = breakFixture(GUARDDUTY, ["source"], "aws.securityhub");
    expect(issuePaths(GuardDutyFindingEventSchema.safeParse(other))).toEqual(["source"]);
  });
});

describe("Security Hub Findings - Imported", () => {
  const finding = ["detail", "findings", 0] as const;

  it.each([
    ["the Id", "Id", REMOVE],
    ["the account", "AwsAccountId", REMOVE],
    ["the title", "Title", REMOVE],
    ["the product", "ProductArn", REMOVE],
    ["any severity", "Severity", {}],
    ["a known label", "Severity", { Label: "SEVERE" }],
    ["a known workflow status", "Workflow", { Status: "DONE" }],
    ["a known record state", "RecordState", "DELETED"],
    ["a resource", "Resources", []],
  ] as const)("refuses a finding without %s", (_, field, value) => {
    const result = SecurityHubFindingsEventSchema.safeParse(
      breakFixture(SECURITY_HUB, [...finding, field], value),
    );
    expect(issuePaths(result).some((path) => path.startsWith(`detail.findings.0.${field}`))).toBe(
      true,
    );
  });

  it("refuses an event without findings", () => {
    const result = SecurityHubFindingsEventSchema.safeParse(
      breakFixture(SECURITY_HUB, ["detail", "findings"], []),
    );
    expect(issuePaths(result)).toEqual(["detail.findings"]);
  });

  it(`refuses more than ${MAX_FINDINGS_PER_EVENT} findings before reading any of them`, () => {
    // Each of these is broken: were they parsed, the issues would name them one by one.
    const findings = Array.from({ length: 100_000 }, () => ({ Id: 1 }));
    const result = SecurityHubFindingsEventSchema.safeParse(
      breakFixture(SECURITY_HUB, ["detail", "findings"], findings),
    );
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toBe(
      `at most ${MAX_FINDINGS_PER_EVENT} findings per event (Security Hub sends one)`,
    );
  });

  it("takes up to the bound, each finding checked", () => {
    const event = loadEvent(SECURITY_HUB) as { detail: { findings: unknown[] } };
    const [one] = event.detail.findings;
    event.detail.findings = Array.from({ length: MAX_FINDINGS_PER_EVENT }, () => one);
    const result = SecurityHubFindingsEventSchema.safeParse(event);
    expect(result.success && result.data.detail.findings).toHaveLength(MAX_FINDINGS_PER_EVENT);
  });

  it("accepts a finding that only scores its severity (older ASFF)", () => {
    const event = breakFixture(SECURITY_HUB, [...finding, "Severity"], { Normalized: 45 });
    expect(SecurityHubFindingsEventSchema.safeParse(event).success).toBe(true);
  });

  it.each([
    [0, "INFORMATIONAL"],
    [1, "LOW"],
    [39, "LOW"],
    [40, "MEDIUM"],
    [69, "MEDIUM"],
    [70, "HIGH"],
    [89, "HIGH"],
    [90, "CRITICAL"],
    [100, "CRITICAL"],
  ] as const)("labels a normalized score of %i %s, as the ASFF does", (score, label) => {
    expect(severityLabelOf(score)).toBe(label);
  });
});

describe("AWS Health Event", () => {
  it.each([
    ["the event ARN", ["detail", "eventArn"], REMOVE, "detail.eventArn"],
    ["an event ARN", ["detail", "eventArn"], "https://evil.example", "detail.eventArn"],
    ["the service", ["detail", "service"], REMOVE, "detail.service"],
    [
      "a documented category",
      ["detail", "eventTypeCategory"],
      "category",
      "detail.eventTypeCategory",
    ],
    ["a documented status", ["detail", "statusCode"], "open|closed", "detail.statusCode"],
    ["the start time", ["detail", "startTime"], REMOVE, "detail.startTime"],
    ["a start time", ["detail", "startTime"], "soon", "detail.startTime"],
    ["a description", ["detail", "eventDescription"], [], "detail.eventDescription"],
  ] as const)("refuses an event without %s", (_, path, value, issue) => {
    const result = HealthEventSchema.safeParse(breakFixture(HEALTH, path, value));
    expect(issuePaths(result)).toContain(issue);
  });

  it("takes an event without statusCode, as AWS's own older test events are", () => {
    const result = HealthEventSchema.safeParse(loadEvent("health/ec2-issue.json"));
    expect(result.success && result.data.detail.statusCode).toBeUndefined();
  });
});
