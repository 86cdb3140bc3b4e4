import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  GetParameterCommand,
  ParameterNotFound,
  SSMClient,
  ThrottlingException,
} from "@aws-sdk/client-ssm";
import { ConfigError } from "@firebreak/core";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSecretReader, secretParameterName } from "../lib/secrets";

const ssm = mockClient(SSMClient);

/** What Parameter Store answers for a SecureString read with decryption. */
const parameter = (name: string, value: string) => ({
  Parameter: {
    Name: name,
    Type: "SecureString" as const,
    Value: value,
    Version: 1,
    ARN: `arn:aws:ssm:eu-west-1:123456789012:parameter${name}`,
    DataType: "text",
  },
});

const notFound = () =>
  new ParameterNotFound({ message: "ParameterNotFound", $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  ssm.reset();
});

describe("secrets from Parameter Store", () => {
  it("reads a secret by its environment name: one GetParameter, decrypted, named per stage", async () => {
    ssm
      .on(GetParameterCommand, { Name: "/firebreak/prod/SentryClientSecret", WithDecryption: true })
      .resolves(parameter("/firebreak/prod/SentryClientSecret", "sentry-client-secret"));
    const secrets = createSecretReader({ path: "/firebreak/prod", client: new SSMClient({}) });

    await expect(secrets.read("SENTRY_CLIENT_SECRET")).resolves.toBe("sentry-client-secret");
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: "/firebreak/prod/SentryClientSecret",
      WithDecryption: true,
    });
    expect(secretParameterName("/firebreak/prod", "PAGERDUTY_ONCALL_KEY")).toBe(
      "/firebreak/prod/PagerdutyOncallKey",
    );
  });

  it("keeps what it read: a second read of the same secret does not call SSM again", async () => {
    ssm
      .on(GetParameterCommand, { Name: "/firebreak/ci/ApiTokens" })
      .resolves(parameter("/firebreak/ci/ApiTokens", "ci:0123456789abcdef0123"));
    ssm
      .on(GetParameterCommand, { Name: "/firebreak/ci/SlackSigningSecret" })
      .resolves(parameter("/firebreak/ci/SlackSigningSecret", "slack-signing-secret"));
    const secrets = createSecretReader({ path: "/firebreak/ci", client: new SSMClient({}) });

    const reads = await Promise.all([
      secrets.read("API_TOKENS"),
      secrets.read("SLACK_SIGNING_SECRET"),
    ]);
    expect(reads).toEqual(["ci:0123456789abcdef0123", "slack-signing-secret"]);
    await expect(secrets.read("API_TOKENS")).resolves.toBe("ci:0123456789abcdef0123");
    await expect(secrets.read("SLACK_SIGNING_SECRET")).resolves.toBe("slack-signing-secret");
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  it("a value older than its maximum age is read again (a rotated secret reaches new reads)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      ssm
        .on(GetParameterCommand)
        .resolvesOnce(parameter("/firebreak/ci/ApiTokens", "ci:old-token-0123456789ab"))
        .resolvesOnce(parameter("/firebreak/ci/ApiTokens", "ci:new-token-0123456789ab"));
      const secrets = createSecretReader({
        path: "/firebreak/ci",
        client: new SSMClient({}),
        maxAgeSeconds: 60,
      });
      await expect(secrets.read("API_TOKENS")).resolves.toBe("ci:old-token-0123456789ab");
      vi.advanceTimersByTime(59_000);
      await expect(secrets.read("API_TOKENS")).resolves.toBe("ci:old-token-0123456789ab");
      vi.advanceTimersByTime(2_000);
      await expect(secrets.read("API_TOKENS")).resolves.toBe("ci:new-token-0123456789ab");
      expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a missing parameter fails by name, with the command that creates it, and no value", async () => {
    ssm.on(GetParameterCommand).rejects(notFound());
    const secrets = createSecretReader({ path: "/firebreak/prod", client: new SSMClient({}) });

    const failure = await secrets.read("PAGERDUTY_ONCALL_KEY").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect(String(failure)).toMatch(
      /secret PAGERDUTY_ONCALL_KEY: SSM parameter \/firebreak\/prod\/PagerdutyOncallKey does not exist.*aws ssm put-parameter --type SecureString --name \/firebreak\/prod\/PagerdutyOncallKey/,
    );
    // A failure is not kept: once the parameter exists, the next read finds it.
    ssm.on(GetParameterCommand).resolves(parameter("/firebreak/prod/PagerdutyOncallKey", "pd-key"));
    await expect(secrets.read("PAGERDUTY_ONCALL_KEY")).resolves.toBe("pd-key");
  });

  it("other SSM failures (throttling, access denied) propagate as such, not as a missing secret", async () => {
    ssm.on(GetParameterCommand).rejects(
      new ThrottlingException({
        message: "Rate exceeded",
        Message: "Rate exceeded",
        $metadata: {},
      }),
    );
    const secrets = createSecretReader({ path: "/firebreak/prod", client: new SSMClient({}) });
    const failure = await secrets.read("API_TOKENS").catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(ConfigError);
    expect(String(failure)).toContain("Rate exceeded");
  });
});

describe("secrets from the environment (the local stack)", () => {
  it("without a path, reads the environment variable and never calls SSM", async () => {
    const secrets = createSecretReader({ env: { SENTRY_CLIENT_SECRET: "from-the-environment" } });
    await expect(secrets.read("SENTRY_CLIENT_SECRET")).resolves.toBe("from-the-environment");
    await expect(secrets.read("NOT_SET_ANYWHERE")).rejects.toThrow(
      /secret NOT_SET_ANYWHERE: environment variable is not set/,
    );
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });
});

describe("the AWS ports", () => {
  const work = mkdtempSync(path.join(tmpdir(), "firebreak-secrets-"));
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("read exactly their own parameters under SECRETS_PATH, the dispatcher only its channels'", async () => {
    const policyFile = path.join(work, "firebreak.config.json");
    writeFileSync(
      policyFile,
      JSON.stringify({
        channels: {
          oncall: {
            pagerduty: { routingKey: "env:PAGERDUTY_ONCALL_KEY" },
            slackWebhook: "env:SLACK_ONCALL_WEBHOOK",
          },
          managers: { pagerduty: { routingKey: "env:PAGERDUTY_ONCALL_KEY" } },
        },
      }),
    );
    Object.assign(process.env, {
      SECRETS_PATH: "/firebreak/test",
      MONITORING_CONFIG: policyFile,
      TABLE_NAME: "firebreak-test",
    });
    const values: Record<string, string> = {
      "/firebreak/test/ApiTokens": "ci:0123456789abcdef0123",
      "/firebreak/test/SentryClientSecret": "sentry-client-secret",
      "/firebreak/test/SlackSigningSecret": "slack-signing-secret",
      "/firebreak/test/PagerdutyOncallKey": "R0UT1NGKEY0123456789012345678901",
      "/firebreak/test/SlackOncallWebhook": "https://hooks.slack.com/services/T0/B0/x",
    };
    for (const [name, value] of Object.entries(values)) {
      ssm
        .on(GetParameterCommand, { Name: name, WithDecryption: true })
        .resolves(parameter(name, value));
    }
    // Imported here: the ports read SECRETS_PATH on their first use, once per cold start.
    const { awsPorts } = await import("../lib/aws");

    await expect(awsPorts.apiTokens()).resolves.toHaveLength(1);
    await expect(awsPorts.sentryClientSecret()).resolves.toBe("sentry-client-secret");
    await expect(awsPorts.slackSigningSecret()).resolves.toBe("slack-signing-secret");
    const responders = await awsPorts.responders();
    expect(responders.mode).toBe("live");

    const asked = ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input);
    expect(asked.map((input) => input.Name).sort()).toEqual(Object.keys(values).sort());
    expect(asked.every((input) => input.WithDecryption === true)).toBe(true);
  });
});
