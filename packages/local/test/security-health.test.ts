import { listEvents, loadEvent } from "@firebreak/events";
import { DEPLOY } from "@firebreak/stacks/deploy";
import { deployOptions } from "@firebreak/stacks/options";
import { topology } from "@firebreak/stacks/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchesPattern, validatePattern } from "../src/content-filter";
import type { LocalStack } from "../src/stack";
import { type Client, client, startTestStack, TOKEN } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: variants reach into fixtures to change them.
type Editable = Record<string, any>;

function variant(name: string, change: (event: Editable) => void): Editable {
  const event = structuredClone(loadEvent(name)) as Editable;
  change(event);
  return event;
}

const GUARDDUTY = "security/guardduty-finding.json";
const ACCOUNT = "123456789012";

describe("the EventBridge rule (EventBridge content filtering)", () => {
  const { rules } = topology({ options: deployOptions(DEPLOY), alarmPrefix: "firebreak-test-" });
  const pattern = rules.securityAndHealth.pattern;

  it("is a pattern EventBridge accepts", () => {
    expect(() => validatePattern(pattern)).not.toThrow();
  });

  it.each([...listEvents("security"), ...listEvents("health")])("sends %s", (name) => {
    expect(matchesPattern(pattern, loadEvent(name))).toBe(true);
  });

  it.each([
    ["a CloudWatch alarm", loadEvent("cloudwatch/eventbridge-alarm.json")],
    [
      "another GuardDuty detail-type",
      variant(GUARDDUTY, (e) => {
        e["detail-type"] = "GuardDuty Runtime Protection Healthy";
      }),
    ],
    [
      "a finding from another source",
      variant(GUARDDUTY, (e) => {
        e.source = "aws.macie";
      }),
    ],
    [
      "an AWS Health event of an undocumented category",
      variant("health/ec2-issue.json", (e) => {
        e.detail.eventTypeCategory = "category";
      }),
    ],
    [
      "Security Hub's custom actions",
      variant("security/securityhub-critical.json", (e) => {
        e["detail-type"] = "Security Hub Findings - Custom Action";
      }),
    ],
  ])("leaves out %s", (_, event) => {
    expect(matchesPattern(pattern, event)).toBe(false);
  });

  it("leaves findings out of the alarm rule, and alarms out of this one", () => {
    expect(matchesPattern(rules.alarmStateChanges.pattern, loadEvent(GUARDDUTY))).toBe(false);
  });
});

describe("on the local stack", () => {
  let stack: LocalStack;
  let api: Client;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    stack = await startTestStack({
      configInput: {
        rules: [
          {
            name: "intrusions",
            match: { source: "security", findingType: "UnauthorizedAccess:*" },
            severity: "critical",
            actions: [{ type: "page", channel: "oncall" }],
          },
        ],
        channels: { oncall: { sns: `arn:aws:sns:us-east-1:${ACCOUNT}:firebreak-oncall` } },
        responders: "anyone",
      },
    });
    api = client(stack);
  });
  afterAll(() => stack.stop());

  it("makes a GuardDuty finding an incident graded by its own severity, and its update a repeat", async () => {
    const { incidents } = await api.deliver(GUARDDUTY);
    expect(incidents).toHaveLength(1);
    const id = incidents[0] as string;
    expect(await api.incident(id)).toMatchObject({
      source: "security",
      severity: "warning",
      status: "triggered",
      rule: null,
      title: "Canary:EC2/Stateless.IntegTest",
      count: 1,
      attributes: { account: ACCOUNT, region: "us-east-1" },
    });

    const update = variant(GUARDDUTY, (e) => {
      e.id = "0b8f8a43-4a5e-4f3c-9a0b-2d7f1c9e6a11";
      e.detail.updatedAt = "2017-11-01T05:16:23.824Z";
      e.detail.service.count = 2;
    });
    const again = await api.deliver(update);
    expect(again.incidents).toEqual([id]);
    expect((await api.incident(id)).count).toBe(2);
  });

  it("pages a finding a rule calls critical, naming the account", async () => {
    const intrusion = variant(GUARDDUTY, (e) => {
      e.detail.id = "7ab2c4d6e8f00112233445566778899a";
      e.detail.type = "UnauthorizedAccess:EC2/SSHBruteForce";
      e.detail.severity = 2;
      e.detail.title = "198.51.100.0 is performing SSH brute force attacks against i-99999999.";
    });
    const { incidents } = await api.deliver(intrusion);
    const id = incidents[0] as string;
    expect(await api.incident(id)).toMatchObject({ severity: "critical", rule: "intrusions" });
    await stack.settle();
    const page = stack.outbox.entries.find((entry) => entry.incidentId === id);
    expect(page?.text).toBe(
      `[CRITICAL] UnauthorizedAccess:EC2/SSHBruteForce: 198.51.100.0 is performing SSH brute force attacks against i-99999999. (${id}) opened, 1 signal, account ${ACCOUNT}`,
    );
  });

  it("resolves an AWS Health incident when the event closes", async () => {
    const opened = await api.deliver("health/elb-issue-open.json");
    const id = opened.incidents[0] as string;
    expect(await api.incident(id)).toMatchObject({ source: "health", status: "triggered" });
    const closed = await api.deliver("health/elb-issue-closed.json");
    expect(closed.incidents).toEqual([id]);
    expect((await api.incident(id)).status).toBe("resolved");
  });

  it("silences findings as any source, by their finding type", async () => {
    const created = await api.post(
      "/silences",
      { matcher: "source=security findingType=Effects/*", duration: "1h", reason: "audit week" },
      auth,
    );
    expect(created.status).toBe(201);
    const silence = (await created.json()) as { id: string };
    const { incidents } = await api.deliver("security/securityhub-critical.json");
    const incident = await api.incident(incidents[0] as string);
    expect(incident).toMatchObject({ severity: "critical", silencedBy: silence.id });
  });

  it.each([
    [
      "a Health event of an undocumented category",
      variant("health/ec2-issue.json", (e) => {
        e.detail.eventTypeCategory = "category";
      }),
      "detail.eventTypeCategory",
    ],
    [
      "a GuardDuty finding without its id",
      variant(GUARDDUTY, (e) => {
        delete e.detail.id;
      }),
      "detail.id",
    ],
    [
      "101 Security Hub findings in one event",
      variant("security/securityhub-critical.json", (e) => {
        e.detail.findings = Array.from({ length: 101 }, () => e.detail.findings[0]);
      }),
      "at most 100 findings per event",
    ],
  ])("refuses %s with a reason", async (_, event, reason) => {
    const response = await api.post("/local/events?wait=true", event);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(reason);
  });
});
