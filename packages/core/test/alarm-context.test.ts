import { loadEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import {
  type Incident,
  type NormalizeOptions,
  normalizeEvent,
  type PageContent,
  Policy,
  pagerDutyEvent,
  type Signal,
  slackLinkified,
  slackWebhookPost,
  snsPublish,
} from "../src";
import { aConfig, aRecord } from "../src/testing";

const options: NormalizeOptions = { policy: new Policy(aConfig()), region: "us-east-1" };
const only = (name: string, event: unknown = loadEvent(name)): Signal => {
  const { signals } = normalizeEvent(event, options);
  expect(signals).toHaveLength(1);
  return signals[0] as Signal;
};

describe("the alarm's own context on CloudWatch signals", () => {
  it("EventBridge: configuration.description and the metric's dimensions", () => {
    expect(only("cloudwatch/eventbridge-alarm.json").attributes).toMatchObject({
      description: "Average target response time of the checkout API above 1.5 s for 3 minutes",
      dimensions: { LoadBalancer: "app/checkout-alb/5f2a9c1e3b7d4a60" },
    });
  });

  it("metric math: the first metric the expression reads", () => {
    expect(only("cloudwatch/eventbridge-metric-math.json").attributes).toMatchObject({
      description: "Read plus write IOPS of orders-db-1 above 12000 (provisioned: 15000)",
      dimensions: { DBInstanceIdentifier: "orders-db-1" },
    });
  });

  it("an alarm action carries the same", () => {
    expect(only("cloudwatch/alarm-action.json").attributes).toMatchObject({
      description: "Errors from the checkout-worker function: 5 or more in a minute",
      dimensions: { FunctionName: "checkout-worker" },
    });
  });

  it("SNS: AlarmDescription and Trigger.Dimensions, or the first MetricStat's", () => {
    expect(only("cloudwatch/sns-lambda-single-metric.json").attributes).toMatchObject({
      description: "Checkout targets answering 5xx: 25 or more per minute, 2 minutes running",
      dimensions: { LoadBalancer: "app/checkout-alb/5f2a9c1e3b7d4a60" },
    });
    expect(only("cloudwatch/sns-lambda-metrics-array.json").attributes).toMatchObject({
      description: "Read plus write IOPS of orders-db-1 above 12000 (provisioned: 15000)",
      dimensions: { DBInstanceIdentifier: "orders-db-1" },
    });
  });

  it("a null description and a composite alarm carry neither", () => {
    const legacy = only("cloudwatch/sns-legacy-no-arn.json").attributes;
    expect(legacy.description).toBeUndefined();
    expect(legacy.dimensions).toEqual({ InstanceId: "i-0b2f6c1d9e8a7f345" });
    expect(only("cloudwatch/eventbridge-composite.json").attributes.dimensions).toBeUndefined();
  });

  it("a description is made safe to show: no escape sequences or bidi overrides", () => {
    const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
      detail: { configuration: { description: string } };
    };
    event.detail.configuration.description =
      "See\u001b[2J https://wiki.example.com/rb\u202egnp.exe\r\nline two";
    expect(only("x", event).attributes.description).toBe(
      "See https://wiki.example.com/rbgnp.exe\nline two",
    );
  });
});

describe("slackLinkified", () => {
  it("links http(s) URLs and nothing else, escaping the rest", () => {
    expect(
      slackLinkified(
        "Runbook: https://wiki.example.com/rb?a=1&b=2. Also <!channel> ftp://x.example.com javascript:alert(1) <http://evil|ok>",
      ),
    ).toBe(
      "Runbook: <https://wiki.example.com/rb?a=1&amp;b=2|https://wiki.example.com/rb?a=1&amp;b=2>. Also &lt;!channel&gt; ftp://x.example.com javascript:alert(1) &lt;<http://evil|http://evil>|ok&gt;",
    );
    expect(slackLinkified("(see http://example.com/x)")).toBe(
      "(see <http://example.com/x|http://example.com/x>)",
    );
    expect(slackLinkified("http:// nothing")).toBe("http:// nothing");
  });
});

function incidentWith(description: string | undefined, runbook: string | null): Incident {
  const { incident } = aRecord({
    attributes: {
      alarmName: "checkout-5xx",
      account: "123456789012",
      region: "us-east-1",
      ...(description ? { description } : {}),
    },
  });
  return { ...incident, service: "checkout", runbook };
}

const page = (incident: Incident): PageContent => ({
  incident,
  kind: "page",
  note: null,
  consoleUrl: null,
});

describe("pages show the description and the runbook", () => {
  const described = incidentWith(
    "5xx above 25/min. Steps: https://wiki.example.com/rb/checkout <@U123>",
    "https://wiki.example.com/runbooks/checkout",
  );

  it("Slack: a verbatim section, links only where the text has http(s) URLs", () => {
    const body = slackWebhookPost("https://hooks.slack.com/services/T/B/X", page(described))
      .body as { blocks: Array<{ type: string; text?: { text: string; verbatim?: boolean } }> };
    expect(body.blocks[1]).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "5xx above 25/min. Steps: <https://wiki.example.com/rb/checkout|https://wiki.example.com/rb/checkout> &lt;@U123&gt;\nRunbook: <https://wiki.example.com/runbooks/checkout|checkout>",
        verbatim: true,
      },
    });
    const bare = slackWebhookPost("https://hooks.slack.com/services/T/B/X", {
      ...page(incidentWith(undefined, null)),
    }).body as { blocks: Array<{ type: string; text?: { verbatim?: boolean } }> };
    expect(bare.blocks.filter((block) => block.text?.verbatim)).toEqual([]);
  });

  it("Slack: a long description is cut before escaping, so the section stays within 3,000", () => {
    const long = incidentWith(
      `${"&".repeat(1990)} https://x.example.com`,
      "https://wiki.example.com/rb",
    );
    const body = slackWebhookPost("https://hooks.slack.com/services/T/B/X", page(long)).body as {
      blocks: Array<{ text?: { text: string; verbatim?: boolean } }>;
    };
    const text = body.blocks[1]?.text?.text ?? "";
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/…\nRunbook: <https:\/\/wiki\.example\.com\/rb\|checkout>$/);
    expect(text).not.toMatch(/&(?!amp;)/);
  });

  it("PagerDuty: the runbook among the links, the description in the details", () => {
    const event = pagerDutyEvent("k".repeat(32), page(described)).body as {
      links: Array<{ href: string; text: string }>;
      payload: { custom_details: Record<string, unknown> };
    };
    expect(event.links).toEqual([
      { href: "https://wiki.example.com/runbooks/checkout", text: "Runbook" },
    ]);
    expect(event.payload.custom_details).toMatchObject({
      service: "checkout",
      description: "5xx above 25/min. Steps: https://wiki.example.com/rb/checkout <@U123>",
    });
  });

  it("SNS: service, description and runbook in the message", () => {
    const message = JSON.parse(
      snsPublish("arn:aws:sns:us-east-1:123456789012:t", page(described)).message,
    );
    expect(message.incident).toMatchObject({
      service: "checkout",
      description: "5xx above 25/min. Steps: https://wiki.example.com/rb/checkout <@U123>",
      runbook: "https://wiki.example.com/runbooks/checkout",
    });
  });

  it("a runbook that is not http(s) is never a link", () => {
    const odd = incidentWith(undefined, "javascript:alert(1)");
    const body = slackWebhookPost("https://hooks.slack.com/services/T/B/X", page(odd)).body as {
      blocks: Array<{ text?: { text: string } }>;
    };
    expect(JSON.stringify(body)).not.toContain("javascript:");
    const event = pagerDutyEvent("k".repeat(32), page(odd)).body as { links?: unknown };
    expect(event.links).toBeUndefined();
  });
});
