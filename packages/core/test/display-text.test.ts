import {
  AlarmActionEventSchema,
  AlarmStateChangeEventSchema,
  encodeLogsBatch,
  type LogsBatch,
  loadEvent,
  parseSentryWebhook,
} from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  displayBlock,
  displayLine,
  InvalidEventError,
  type NormalizeOptions,
  normalizeEvent,
  Policy,
  type Signal,
  signalFromSentry,
  signalsFromLogs,
  UNPRINTABLE_TITLE,
} from "../src";
import { aConfig } from "../src/testing";

const options: NormalizeOptions = { policy: new Policy(aConfig()), region: "us-east-1" };

/** Every character a terminal acts on or a reader is fooled by. */
const UNSAFE_IN_LINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const UNSAFE_IN_BLOCK =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding controls is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

// What a hostile alarm name did to the local stack's console: clear the screen, home the cursor,
// start a forged line, and flip the rest of the title right to left.
const CLEAR_AND_FORGE =
  "api-5xx\u001b[2J\u001b[H\r\n[firebreak] PAGE resolved \u202egnp.exe\u2066x";

function alarmEvent(
  mutate: (event: Record<string, unknown> & { detail: Record<string, unknown> }) => void,
) {
  const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as Record<
    string,
    unknown
  > & { detail: Record<string, unknown> };
  mutate(event);
  return event;
}

const onlySignal = (raw: unknown): Signal => {
  const { signals } = normalizeEvent(raw, options);
  expect(signals).toHaveLength(1);
  return signals[0] as Signal;
};

describe("display text", () => {
  it("removes escape sequences whole, controls and bidi overrides; breaks become a space", () => {
    expect(displayLine(CLEAR_AND_FORGE)).toBe("api-5xx [firebreak] PAGE resolved gnp.exex");
    // OSC 8 hyperlink and window title, 8-bit CSI, DCS: nothing of them is left.
    expect(displayLine("a\u001b]8;;https://evil.example\u0007b\u001b]8;;\u001b\\c")).toBe("abc");
    expect(displayLine("a\u009b31mb\u001bPq#0\u001b\\c\u001b]0;title\u009cd")).toBe("abcd");
    // An unterminated string loses its introducer only, not the rest of the line.
    expect(displayLine("a\u001b]0;no end")).toBe("a0;no end");
    expect(displayLine("tab\there\u2028next")).toBe("tab here next");
  });

  it("keeps line feeds and tabs in a block, as LF", () => {
    expect(displayBlock("Error\r\n\tat f (x.js:1)\u001b[31m\ru\u202e")).toBe(
      "Error\n\tat f (x.js:1)\nu",
    );
  });

  it("leaves nothing unsafe in any text, and is idempotent", () => {
    const text = fc.string({ unit: "binary", maxLength: 200 });
    fc.assert(
      fc.property(text, (raw) => {
        const line = displayLine(raw);
        const block = displayBlock(raw);
        expect(line).not.toMatch(UNSAFE_IN_LINE);
        expect(block).not.toMatch(UNSAFE_IN_BLOCK);
        expect(displayLine(line)).toBe(line);
        expect(displayBlock(block)).toBe(block);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("signals carry display-safe titles, labels and details from every source", () => {
  it("an alarm: the title is clean, what rules match on and the fingerprint are as sent", () => {
    const clean = onlySignal(alarmEvent(() => {}));
    const hostile = onlySignal(
      alarmEvent((event) => {
        event.detail.alarmName = CLEAR_AND_FORGE;
        (event.detail.state as { reason: string }).reason = "breached\u001b[8m hidden";
      }),
    );
    expect(hostile.title).toBe("api-5xx [firebreak] PAGE resolved gnp.exex");
    expect(hostile.link?.label).not.toMatch(UNSAFE_IN_LINE);
    expect(hostile.detail).toBe("ALARM: breached hidden");
    expect(hostile.attributes.alarmName).toBe(CLEAR_AND_FORGE);
    expect(hostile.fingerprint).not.toBe(clean.fingerprint);
  });

  it("a title with nothing printable is named as such, not left empty", () => {
    const signal = onlySignal(
      alarmEvent((event) => {
        event.detail.alarmName = "\u001b[2J\u202e";
      }),
    );
    expect(signal.title).toBe(UNPRINTABLE_TITLE);
  });

  it("logs: title and label are one clean line, the detail keeps its lines", () => {
    const batch: LogsBatch = {
      messageType: "DATA_MESSAGE",
      owner: "123456789012",
      logGroup: "/aws/lambda/orders\u001b[2J",
      logStream: "2024/11/05/[$LATEST]abc\u202e",
      subscriptionFilters: ["errors"],
      logEvents: [
        {
          id: "36962476893447436049009434853023475640234085512391393280",
          timestamp: 1_730_822_400_000,
          message: `ERROR ${CLEAR_AND_FORGE}\n    at handler (index.js:1)`,
        },
      ],
    };
    const [signal] = signalsFromLogs(batch, {
      region: "us-east-1",
      keep: () => true,
      maxSignals: 500,
    });
    expect(signal?.title).not.toMatch(UNSAFE_IN_LINE);
    expect(signal?.link?.label).not.toMatch(UNSAFE_IN_LINE);
    expect(signal?.detail).toBe(
      "ERROR api-5xx\n[firebreak] PAGE resolved gnp.exex\n    at handler (index.js:1)",
    );
    expect(signal?.attributes.logGroup).toBe("/aws/lambda/orders\u001b[2J");
  });

  it("Sentry: issue titles and culprits are clean", () => {
    const body = structuredClone(loadEvent("sentry/issue-created.json")) as {
      data: { issue: { title: string; culprit: string } };
    };
    body.data.issue.title = CLEAR_AND_FORGE;
    body.data.issue.culprit = "handler\u001b[2J\u202e";
    const parsed = parseSentryWebhook("issue", body);
    if (!parsed.success) throw parsed.error;
    const signal = signalFromSentry({ webhook: parsed.data, sentAt: "2024-11-05T16:30:00.000Z" });
    expect(signal?.title).toBe("api-5xx [firebreak] PAGE resolved gnp.exex");
    expect(signal?.detail).toBe("Sentry issue created: handler");
  });
});

describe("regions and accounts are checked at the edge; links go to AWS consoles only", () => {
  const hostileRegions = [
    "evil.example.com/",
    "evil.example.com#",
    "us-east-1.evil.example",
    "x@evil.example/us-east-1",
    "US-EAST-1",
    "",
  ];

  it("an EventBridge alarm or an alarm action with a region that is not a code is refused", () => {
    for (const region of hostileRegions) {
      const event = alarmEvent((bad) => {
        bad.region = region;
      });
      expect(AlarmStateChangeEventSchema.safeParse(event).success, region).toBe(false);
      expect(() => normalizeEvent(event, options), region).toThrow(InvalidEventError);
      const action = structuredClone(loadEvent("cloudwatch/alarm-action.json")) as {
        region: string;
      };
      action.region = region;
      expect(AlarmActionEventSchema.safeParse(action).success, region).toBe(false);
    }
  });

  it("accounts are 12 digits, in alarms and in logs batches", () => {
    const event = alarmEvent((bad) => {
      bad.account = "evil";
    });
    expect(() => normalizeEvent(event, options)).toThrow(InvalidEventError);
    const batch = loadEvent("logs/lambda-timeout.decoded.json") as LogsBatch;
    expect(() =>
      normalizeEvent(encodeLogsBatch({ ...batch, owner: "evil.example" }), options),
    ).toThrow(InvalidEventError);
  });

  it("an SNS Region that names no region gives no console link", () => {
    const withRegion = (region: string) => {
      const event = structuredClone(loadEvent("cloudwatch/sns-lambda-single-metric.json")) as {
        Records: Array<{ Sns: { Message: string } }>;
      };
      const sns = (event.Records[0] as { Sns: { Message: string } }).Sns;
      sns.Message = JSON.stringify({ ...JSON.parse(sns.Message), Region: region });
      return onlySignal(event);
    };
    expect(withRegion("evil.example.com/#").link?.url).toBeUndefined();
    expect(withRegion("EU (Ireland)").link?.url).toMatch(
      /^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#alarmsV2:alarm\//,
    );
  });

  it("links name the console of the region's partition, and no link for a region that is not a code", () => {
    const hostOf = (region: string) => {
      const signal = onlySignal(
        alarmEvent((event) => {
          event.region = region;
          event.resources = [`arn:aws:cloudwatch:${region}:123456789012:alarm:api-5xx`];
        }),
      );
      return new URL(signal.link?.url as string).host;
    };
    expect(hostOf("eu-west-1")).toBe("eu-west-1.console.aws.amazon.com");
    expect(hostOf("us-gov-west-1")).toBe("console.amazonaws-us-gov.com");
    expect(hostOf("cn-north-1")).toBe("console.amazonaws.cn");
    const batch = loadEvent("logs/lambda-timeout.decoded.json") as LogsBatch;
    for (const region of hostileRegions) {
      const [signal] = signalsFromLogs(batch, { region, keep: () => true, maxSignals: 500 });
      expect(signal?.link?.url, region).toBeUndefined();
    }
    const [local] = signalsFromLogs(batch, {
      region: "eu-central-1",
      keep: () => true,
      maxSignals: 500,
    });
    expect(new URL(local?.link?.url as string).host).toBe("eu-central-1.console.aws.amazon.com");
  });
});
