import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  formatDuration,
  globToRegExp,
  incidentId,
  loadConfigFile,
  Policy,
  parseConfig,
  parseDuration,
  parseIncidentId,
} from "../src";
import { aSignal } from "../src/testing";

const example = {
  rules: [
    {
      name: "checkout-errors",
      match: { source: "sentry", project: "checkout", level: ["fatal", "error"] },
      severity: "critical",
    },
    {
      name: "api-latency",
      match: { source: "cloudwatch", alarmName: "api-*-latency" },
      severity: "warning",
    },
    {
      name: "lambda-timeouts",
      match: { source: "logs", logGroup: "/aws/lambda/*", message: "Task timed out" },
      severity: "critical",
    },
  ],
  default: { severity: "info" },
};

describe("config", () => {
  it("accepts the documented example and fills defaults", () => {
    const config = parseConfig(example);
    expect(config.rules).toHaveLength(3);
    expect(config.incidents).toEqual({
      flapping: { transitions: 3, window: 30 * 60_000 },
      dedupWindow: 15 * 60_000,
      groupWindow: 5 * 60_000,
      timelineSignals: 20,
      autoResolve: { logs: 30 * 60_000, sentry: 24 * 3_600_000, security: false, health: false },
      trustedTime: { past: 24 * 3_600_000, future: 5 * 60_000 },
      retention: 400 * 86_400_000,
    });
    expect(config.safety).toEqual({ dryRun: false, cooldown: 10 * 60_000, maxActionsPerHour: 6 });
    expect(config.logs.minLevel).toBe("error");
  });

  it.each([
    [
      { rules: [{ name: "x", match: { alarmNam: "a" }, severity: "info" }] },
      "rules[0].match.alarmNam: unknown key",
    ],
    [{ rules: [{ name: "x", match: {}, severity: "urgent" }] }, "rules[0].severity"],
    [
      { rules: [{ name: "x", match: { message: "(" }, severity: "info" }] },
      "rules[0].match.message: not a valid regular expression",
    ],
    [
      { rules: [{ name: "x", match: { level: "loud" }, severity: "info" }] },
      'rules[0].match.level: "loud" is not a level',
    ],
    [
      { incidents: { dedupWindow: "ten minutes" } },
      'incidents.dedupWindow: "ten minutes" is not a duration',
    ],
    [{ defaults: { severity: "info" } }, "defaults: unknown key"],
    [
      {
        rules: [
          { name: "x", match: {}, severity: "info" },
          { name: "x", match: {}, severity: "info" },
        ],
      },
      'rules[1].name: duplicate rule name "x"',
    ],
  ])("names the bad path: %j", (input, expected) => {
    expect(() => parseConfig(input, "test.json")).toThrowError(ConfigError);
    expect(() => parseConfig(input, "test.json")).toThrowError(expected);
  });

  it("loads JSON and TypeScript files, and names the file when it is wrong", async () => {
    const dir = await mkdtemp(join(tmpdir(), "firebreak-config-"));
    const json = join(dir, "policy.json");
    await writeFile(json, JSON.stringify(example));
    expect((await loadConfigFile(json)).rules[0]?.name).toBe("checkout-errors");

    const ts = join(dir, "policy.ts");
    await writeFile(ts, `export default ${JSON.stringify(example)} as const;\n`);
    expect((await loadConfigFile(ts)).rules).toHaveLength(3);

    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ rules: [{ name: "x" }] }));
    await expect(loadConfigFile(bad)).rejects.toThrowError(`${bad}: rules[0].match`);
    await writeFile(bad, "{ not json");
    await expect(loadConfigFile(bad)).rejects.toThrowError(/Cannot read monitoring config/);
    await expect(loadConfigFile(join(dir, "missing.json"))).rejects.toThrowError(ConfigError);
  });
});

describe("policy", () => {
  const policy = new Policy(parseConfig(example));

  it("takes the first matching rule", () => {
    const latency = aSignal({ attributes: { alarmName: "api-checkout-latency" } });
    expect(policy.classify(latency)).toMatchObject({
      severity: "warning",
      rule: { name: "api-latency" },
    });
  });

  it("falls back to the default", () => {
    const other = aSignal({ attributes: { alarmName: "db-cpu" } });
    expect(policy.classify(other)).toEqual({ severity: "info", rule: null });
  });

  it("requires every given key to match", () => {
    const sentry = (attributes: object) =>
      policy.classify(aSignal({ source: "sentry", attributes: { ...attributes } }));
    expect(sentry({ project: "checkout", level: "error" }).rule?.name).toBe("checkout-errors");
    expect(sentry({ project: "checkout", level: "warning" }).rule).toBeNull();
    expect(sentry({ project: "search", level: "fatal" }).rule).toBeNull();
    expect(sentry({ level: "fatal" }).rule).toBeNull();
  });

  it("matches log groups by glob and messages by regular expression", () => {
    const line = (logGroup: string, message: string) =>
      policy.classify(aSignal({ source: "logs", attributes: { logGroup, message } }));
    expect(line("/aws/lambda/checkout", "Task timed out after 6.01 seconds").severity).toBe(
      "critical",
    );
    expect(line("/ecs/checkout", "Task timed out after 6.01 seconds").severity).toBe("info");
    expect(line("/aws/lambda/checkout", "all good").severity).toBe("info");
  });

  it("keeps error log lines and lines a rule picks by content, drops the rest", () => {
    const line = (level: "info" | "error" | undefined, message: string) =>
      policy.keepsLogLine(
        aSignal({ source: "logs", attributes: { logGroup: "/aws/lambda/a", level, message } }),
      );
    expect(line("error", "boom")).toBe(true);
    expect(line("info", "Task timed out after 3.00 seconds")).toBe(true);
    expect(line("info", "GET /health 200")).toBe(false);
    expect(line(undefined, "START RequestId: 1")).toBe(false);
  });
});

describe("globs, durations and ids", () => {
  it("globs match literally apart from * and ?", () => {
    expect(globToRegExp("api-*-latency").test("api-checkout-latency")).toBe(true);
    expect(globToRegExp("api-*-latency").test("api-checkout-errors")).toBe(false);
    expect(globToRegExp("a.b?").test("a.bc")).toBe(true);
    expect(globToRegExp("a.b?").test("axbc")).toBe(false);
    expect(globToRegExp("(x)[y]").test("(x)[y]")).toBe(true);
  });

  it("parses and prints durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("5 minutes")).toBeUndefined();
    expect(formatDuration(272_000)).toBe("4m 32s");
    expect(formatDuration(3 * 3_600_000 + 20 * 60_000)).toBe("3h 20m");
  });

  it("property: incident ids are stable, 7 typeable characters, read back in any case", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), (fingerprint, sequence) => {
        const id = incidentId(fingerprint, sequence + 1);
        expect(id).toBe(incidentId(fingerprint, sequence + 1));
        expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{7}$/);
        expect(parseIncidentId(id.toLowerCase())).toBe(id);
      }),
    );
    expect(parseIncidentId("k7q2xpo")).toBe("K7Q2XP0");
    expect(parseIncidentId("nope")).toBeUndefined();
  });
});
