import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import shippedConfig from "../../../monitoring.config";
// The payload mutator is shared with the local stack's hostile suite, which owns it.
import { LOCAL_FIXTURES, mutatedFixture, shapedEvent } from "../../local/test/hostile/cases";
import { type Json, mutationsOf, ODD_STRINGS, oddString } from "../../local/test/hostile/mutate";
import {
  authenticateBearer,
  ConfigError,
  type ConfigInput,
  ConfigSchema,
  formatPath,
  globMatcher,
  globToRegExp,
  InvalidEventError,
  loadConfigFile,
  normalizeEvent,
  Policy,
  parseConfig,
  parseMatcher,
  parseSlashCommand,
  resolveChannels,
  SignalSchema,
  UnauthorizedError,
  verifySlackRequest,
} from "../src";
import { compilePattern, patternProblem } from "../src/policy/pattern";

/** Mutated configs and payloads per property: quick in `npm test`, 10,000 in the soak run. */
const RUNS = process.env.SOAK ? 10_000 : Number(process.env.HOSTILE_RUNS ?? 100);
// 10,000 runs of a property take longer than the suite's 20 s per test.
if (process.env.SOAK) vi.setConfig({ testTimeout: 3_600_000 });

/** Every section, action, target and channel kind, so mutations reach every schema. */
const FULL: ConfigInput = {
  $schema: "./firebreak.schema.json",
  rules: [
    {
      name: "scale-ecs",
      description: "every target kind",
      match: { source: "cloudwatch", alarmName: "api-*", namespace: "AWS/*", metricName: "5xx" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "api", region: "eu-west-1" },
          by: 2,
          max: 20,
          cooldown: "5m",
        },
        { type: "scale", target: { kind: "autoscaling-group", name: "web" }, factor: 1.5, max: 9 },
        {
          type: "scale",
          target: { kind: "lambda-provisioned-concurrency", functionName: "f", qualifier: "live" },
          by: 10,
          max: 100,
          dryRun: true,
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "rollbacks",
      match: { source: "sentry", project: "checkout", level: ["fatal", "error"] },
      severity: "warning",
      actions: [
        { type: "rollback", target: { kind: "lambda-alias", functionName: "f", alias: "live" } },
        {
          type: "rollback",
          target: { kind: "codedeploy", application: "app", deploymentGroup: "prod" },
          approve: true,
        },
        { type: "rollback", target: { kind: "ecs-service", cluster: "prod", service: "api" } },
      ],
    },
    {
      name: "failovers",
      match: {
        source: "logs",
        logGroup: "/aws/lambda/*",
        message: "Task timed out",
        level: "error",
      },
      severity: "info",
      actions: [
        {
          type: "failover",
          target: { kind: "rds-cluster", clusterId: "db", targetInstance: "r1" },
        },
        {
          type: "failover",
          target: {
            kind: "route53-weights",
            hostedZoneId: "Z0123456789ABC",
            recordName: "api.example.com.",
            recordType: "A",
            primary: "blue",
            secondary: "green",
          },
          approve: false,
        },
        { type: "page", channel: "managers" },
      ],
    },
  ],
  default: { severity: "info" },
  incidents: {
    flapping: { transitions: 3, window: "30m" },
    dedupWindow: "15m",
    timelineSignals: 20,
    autoResolve: { logs: "30m", sentry: false },
  },
  logs: { minLevel: "warning" },
  cloudwatch: { insufficientData: "trigger" },
  channels: {
    oncall: {
      sns: "arn:aws:sns:us-east-1:123456789012:oncall",
      slackWebhook: "env:SLACK_ONCALL_WEBHOOK",
      pagerduty: { routingKey: "env:PAGERDUTY_KEY" },
    },
    managers: {
      slackWebhook: "https://hooks.slack.com/services/T000/B000/XXXX",
      pagerduty: { routingKey: "0123456789abcdef0123456789abcdef" },
    },
  },
  responders: ["U012AB3CD", "W0ABCDEF1"],
  slack: { command: "/incident" },
  escalation: { repeatAfter: "5m", maxRepeats: 3, channels: ["oncall", "managers"] },
  safety: { dryRun: false, cooldown: "10m", maxActionsPerHour: 6 },
};

const configs = [FULL, shippedConfig] as unknown as Json[];

/** A config broken in 1 to 4 places: fields removed, types swapped, odd strings, deep nesting. */
const mutatedConfig = fc.constantFrom(...configs).chain((config) => mutationsOf(config));

/**
 * The invariant of config loading: a valid config, or a ConfigError whose message names the
 * path of the first problem; never another error.
 */
function expectValidOrNamedPath(input: unknown, origin = "config") {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(input, origin);
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith(`Invalid monitoring config in ${origin}: `), message).toBe(true);
    const result = ConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    const first = result.error?.issues[0];
    const path = formatPath([
      ...(first?.path ?? []),
      ...(first?.code === "unrecognized_keys" ? [first.keys[0] as string] : []),
    ]);
    // formatIssues may name a deeper path (the telling alternative of a union): it starts here.
    expect(message, path).toContain(path);
    expect(message).toMatch(/: \S/);
    return;
  }
  // What validation lets through must also build: the policy compiles every match block.
  expect(() => new Policy(config)).not.toThrow();
}

describe("property: parseConfig with mutated configs", () => {
  it("returns a config that builds a policy, or throws ConfigError naming a path", () => {
    fc.assert(
      fc.property(mutatedConfig, (input) => expectValidOrNamedPath(input)),
      {
        numRuns: RUNS,
      },
    );
  });

  it("does the same for any JSON value at all", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => expectValidOrNamedPath(input)),
      { numRuns: RUNS },
    );
  });

  it("loads mutated config files as it parses them, and refuses unreadable ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "firebreak-hostile-config-"));
    let index = 0;
    await fc.assert(
      fc.asyncProperty(mutatedConfig, async (input) => {
        const file = join(dir, `config-${index++}.json`);
        await writeFile(file, JSON.stringify(input));
        await loadConfigFile(file).then(
          (config) => expect(() => new Policy(config)).not.toThrow(),
          (error: unknown) => expect(error, String(error)).toBeInstanceOf(ConfigError),
        );
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
    for (const [name, text] of [
      ["broken.json", '{"rules": ['],
      ["empty.json", ""],
      ["binary.json", "\u0000\u00ff\ufffe"],
      ["deep.json", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
      ["throws.mjs", "throw new Error('boom');"],
      ["nothing.mjs", "export const other = 1;"],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, text);
      await expect(loadConfigFile(file), name).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(loadConfigFile(join(dir, "missing.json"))).rejects.toBeInstanceOf(ConfigError);
    await expect(loadConfigFile(dir)).rejects.toBeInstanceOf(ConfigError);
  });
});

const CRLF = ["\r\nX-Injected: yes", "\nBcc: someone@example.com", "\r", "a\u0000b", "\u2028"];

/** A copy of FULL with one value replaced, by path. */
function withValue(path: ReadonlyArray<string | number>, value: unknown): unknown {
  const copy = structuredClone(FULL) as unknown as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
  return copy;
}

describe("header injection in config strings", () => {
  it("accepts the full config as it is", () => {
    expect(() => parseConfig(FULL)).not.toThrow();
  });

  const cases: Array<[string, ReadonlyArray<string | number>, (injected: string) => unknown]> = [
    ["a rule name", ["rules", 0, "name"], (bad) => `scale-ecs${bad}`],
    ["a Slack command", ["slack", "command"], (bad) => `/incident${bad}`],
    [
      "an SNS topic ARN",
      ["channels", "oncall", "sns"],
      (bad) => `arn:aws:sns:us-east-1:123456789012:oncall${bad}`,
    ],
    [
      "a Slack webhook URL",
      ["channels", "managers", "slackWebhook"],
      (bad) => `https://hooks.slack.com/services/T000/B000/XXXX${bad}`,
    ],
    [
      "a Slack webhook env reference",
      ["channels", "oncall", "slackWebhook"],
      (bad) => `env:SLACK${bad}`,
    ],
    [
      "a PagerDuty routing key",
      ["channels", "managers", "pagerduty", "routingKey"],
      (bad) => `0123456789abcdef${bad}`,
    ],
    ["a page action's channel", ["rules", 0, "actions", 3, "channel"], (bad) => `oncall${bad}`],
    ["an escalation channel", ["escalation", "channels", 0], (bad) => `oncall${bad}`],
    ["a responder", ["responders", 0], (bad) => `U012AB3CD${bad}`],
    ["an ECS cluster name", ["rules", 0, "actions", 0, "target", "cluster"], (bad) => `prod${bad}`],
    [
      "a Lambda function name",
      ["rules", 1, "actions", 0, "target", "functionName"],
      (bad) => `f${bad}`,
    ],
    [
      "a Route 53 record name",
      ["rules", 2, "actions", 1, "target", "recordName"],
      (bad) => `api.example.com.${bad}`,
    ],
  ];

  it.each(cases)(
    "refuses CR, LF and control characters in %s, naming the path",
    (_what, path, make) => {
      for (const bad of CRLF) {
        const input = withValue(path, make(bad));
        expect(() => parseConfig(input), JSON.stringify(bad)).toThrow(ConfigError);
        expect(() => parseConfig(input)).toThrow(formatPath(path));
      }
    },
  );

  it("refuses channel names with CR or LF", () => {
    for (const bad of CRLF) {
      const input = {
        channels: { [`oncall${bad}`]: { sns: "arn:aws:sns:us-east-1:123456789012:t" } },
      };
      expect(() => parseConfig(input)).toThrow(ConfigError);
      expect(() => parseConfig(input)).toThrow(/channels\./);
    }
  });

  it("refuses webhooks that are not https URLs", () => {
    for (const url of [
      "http://hooks.slack.com/services/x",
      "hooks.slack.com/services/x",
      "javascript:alert(1)",
      "https://",
    ]) {
      const input = withValue(["channels", "managers", "slackWebhook"], url);
      expect(() => parseConfig(input), url).toThrow("channels.managers.slackWebhook");
    }
  });

  it("refuses secrets from the environment that could split a request, without printing them", () => {
    const config = parseConfig(FULL);
    const secret = "https://hooks.slack.com/services/T000/B000/SECRET";
    for (const bad of CRLF) {
      for (const [name, env] of [
        ["slackWebhook", { SLACK_ONCALL_WEBHOOK: `${secret}${bad}`, PAGERDUTY_KEY: "k" }],
        [
          "pagerduty.routingKey",
          { SLACK_ONCALL_WEBHOOK: secret, PAGERDUTY_KEY: `SECRETKEY${bad}` },
        ],
      ] as const) {
        let error: unknown;
        try {
          resolveChannels(config.channels, env);
        } catch (caught) {
          error = caught;
        }
        expect(error, name).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain(`channels.oncall.${name}`);
        expect((error as Error).message).not.toMatch(/SECRET/);
      }
    }
    expect(
      resolveChannels(config.channels, { SLACK_ONCALL_WEBHOOK: secret, PAGERDUTY_KEY: "k" }).oncall,
    ).toMatchObject({
      slackWebhook: secret,
      pagerdutyRoutingKey: "k",
    });
  });
});

describe("patterns that backtrack", () => {
  it("takes repeated repetitions, now that patterns run in linear time, and refuses what RE2 cannot run", () => {
    const line = `${"a".repeat(5_000)}!`;
    for (const pattern of [
      "(a+)+$",
      "(a*)*b",
      "(\\w*\\s?)*x",
      "(x{2,})+y",
      "((ab)*)+c",
      "(?:a|b+)*c",
    ]) {
      const config = parseConfig(withValue(["rules", 2, "match", "message"], pattern));
      expect(config.rules[2]?.match.message, pattern).toBe(pattern);
      // A line that nearly matches: answered, not backtracked through (RE2 is linear).
      expect(compilePattern(pattern)(line), pattern).toBe(false);
      expect(() => parseMatcher(`message=${pattern}`), pattern).not.toThrow();
    }
    // Lookaround and backreferences have no linear-time engine: refused, naming the path.
    for (const pattern of ["(?=a)a", "(a)\\1"]) {
      expect(patternProblem(pattern), pattern).not.toBeNull();
      expect(
        () => parseConfig(withValue(["rules", 2, "match", "message"], pattern)),
        pattern,
      ).toThrow("rules[2].match.message");
    }
  });

  it("matches globs as the RegExp does, in linear time", () => {
    const glob = fc.stringMatching(/^[ab*?.]{0,8}$/);
    const value = fc.stringMatching(/^[ab.*?]{0,12}$/);
    fc.assert(
      fc.property(glob, value, (pattern, text) => {
        expect(globMatcher(pattern)(text)).toBe(globToRegExp(pattern).test(text));
      }),
      { numRuns: RUNS * 10 },
    );
    const started = Date.now();
    expect(globMatcher(`${"*a".repeat(200)}b`)("a".repeat(10_000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("property: the parsers under every ingress never throw anything but their refusal", () => {
  const policy = new Policy(parseConfig(shippedConfig));

  it("normalizeEvent: valid signals, or InvalidEventError", () => {
    fc.assert(
      fc.property(
        fc.oneof(mutatedFixture(LOCAL_FIXTURES), shapedEvent, fc.jsonValue()),
        (event) => {
          let signals: unknown[];
          try {
            signals = normalizeEvent(event, { policy, region: "us-east-1" }).signals;
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(InvalidEventError);
            expect((error as Error).message.length).toBeLessThanOrEqual(2_000);
            return;
          }
          for (const signal of signals) expect(SignalSchema.safeParse(signal).success).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("parseSlashCommand: a command, or help naming the problem", () => {
    const text = fc.oneof(
      oddString,
      fc.string({ unit: "binary" }),
      fc
        .tuple(
          fc.constantFrom(
            "ack",
            "resolve",
            "note",
            "show",
            "list",
            "approve",
            "silence",
            "unsilence",
          ),
          fc.array(fc.oneof(oddString, fc.constantFrom("K7Q2XPD", "a1", "1h", "alarmName=x*")), {
            maxLength: 4,
          }),
        )
        .map(([head, rest]) => [head, ...rest].join(" ")),
    );
    fc.assert(
      fc.property(text, (input) => {
        const command = parseSlashCommand(input);
        if (command.kind === "help" && command.problem !== null) {
          expect(command.problem.length).toBeLessThanOrEqual(500);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("verifySlackRequest and authenticateBearer: a verdict, or UnauthorizedError", () => {
    const tokens = [{ name: "t", token: "test-token-0123456789abcdef" }];
    const header = fc.option(
      fc.oneof(
        oddString,
        fc.constantFrom(...ODD_STRINGS).map((odd) => `Bearer ${odd}`),
      ),
    );
    fc.assert(
      fc.property(header, header, fc.string({ unit: "binary" }), (timestamp, signature, body) => {
        const verdict = verifySlackRequest({
          rawBody: body,
          timestamp: timestamp ?? undefined,
          signature: signature ?? undefined,
          signingSecret: "secret",
          now: Date.now(),
        });
        expect(verdict.ok).toBe(false);
        expect(() => authenticateBearer(signature ?? undefined, tokens)).toThrow(UnauthorizedError);
      }),
      { numRuns: RUNS },
    );
  });
});
