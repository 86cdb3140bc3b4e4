import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { AccountNotConfiguredError } from "@firebreak/core";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountAccess, AwsSdkGateway, createSdkClient, type SdkClient, sdkSts } from "../src";

const MEMBER = "111122223333";
const ROLE = `arn:aws:iam::${MEMBER}:role/firebreak-remediation`;
const OWN = "999999999999";

// AccountAccess on the real STS client (`sdkSts`); only the client's `send` is mocked, so the
// tests see the exact AssumeRole and GetCallerIdentity commands.
const sts = mockClient(STSClient);

/** STS answers numbered sessions lasting 15 minutes from `now()`, and knows Firebreak's account. */
function answerSessions(now: () => number) {
  let sessions = 0;
  sts.on(AssumeRoleCommand).callsFake(() => {
    sessions += 1;
    return {
      Credentials: {
        AccessKeyId: `ASIA${sessions}`,
        SecretAccessKey: "secret",
        SessionToken: `session-${sessions}`,
        Expiration: new Date(now() + 15 * 60_000),
      },
    };
  });
  sts.on(GetCallerIdentityCommand).resolves({ Account: OWN, Arn: `arn:aws:iam::${OWN}:role/fb` });
}

const assumeRoleInputs = () =>
  sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);

beforeEach(() => sts.reset());

describe("AccountAccess", () => {
  it("assumes a member account's role with its ExternalId, and keeps the session until shortly before it expires", async () => {
    let now = Date.UTC(2026, 11, 2, 12);
    answerSessions(() => now);
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE, externalId: "firebreak-7f3a" } },
      sts: sdkSts("eu-west-1"),
      clock: () => now,
    });

    const route = await access.route(MEMBER);
    if (route.kind !== "role") throw new Error(`expected a role, got ${route.kind}`);
    const [first, concurrent] = await Promise.all([route.credentials(), route.credentials()]);
    // The session expires 15 minutes in; it serves until 5 minutes before that, and no longer,
    // so that no call starts with a session that lapses on its way.
    now += 10 * 60_000 - 1;
    const stillValid = await route.credentials();
    now += 1;
    const renewed = await route.credentials();
    const renewedAgain = await route.credentials();

    expect(assumeRoleInputs()).toEqual([
      {
        RoleArn: ROLE,
        RoleSessionName: "firebreak",
        ExternalId: "firebreak-7f3a",
        DurationSeconds: 900,
      },
      {
        RoleArn: ROLE,
        RoleSessionName: "firebreak",
        ExternalId: "firebreak-7f3a",
        DurationSeconds: 900,
      },
    ]);
    expect([first, concurrent, stillValid].map((c) => c.sessionToken)).toEqual([
      "session-1",
      "session-1",
      "session-1",
    ]);
    expect(renewed).toEqual({
      accessKeyId: "ASIA2",
      secretAccessKey: "secret",
      sessionToken: "session-2",
      expiration: new Date(now + 15 * 60_000),
    });
    expect(renewedAgain).toBe(renewed);
    expect(route.roleArn).toBe(ROLE);
  });

  it("sends no ExternalId when the account has none, and assumes again after a failure", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const denied = Object.assign(new Error("not authorized"), { name: "AccessDenied" });
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(denied)
      .resolvesOnce({
        Credentials: {
          AccessKeyId: "ASIA2",
          SecretAccessKey: "secret",
          SessionToken: "session-2",
          Expiration: new Date(now + 60 * 60_000),
        },
      });
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE } },
      sts: sdkSts("eu-west-1"),
      sessionName: "firebreak-prod",
      durationSeconds: 3600,
    });
    const route = await access.route(MEMBER);
    if (route.kind !== "role") throw new Error("expected a role");

    await expect(route.credentials()).rejects.toThrow("not authorized");
    await expect(route.credentials()).resolves.toMatchObject({ sessionToken: "session-2" });

    const input = { RoleArn: ROLE, RoleSessionName: "firebreak-prod", DurationSeconds: 3600 };
    expect(assumeRoleInputs()).toEqual([input, input]);
  });

  it("knows its own account (GetCallerIdentity, once) and refuses accounts with no role", async () => {
    answerSessions(() => 0);
    const access = new AccountAccess({ accounts: {}, sts: sdkSts("eu-west-1") });

    expect(await access.route(undefined)).toEqual({ kind: "own" });
    expect(await access.route(OWN)).toEqual({ kind: "own" });
    expect(await access.route("444455556666")).toEqual({
      kind: "unknown",
      account: "444455556666",
    });
    expect(sts.commandCalls(GetCallerIdentityCommand).map((call) => call.args[0].input)).toEqual([
      {},
    ]);
    expect(assumeRoleInputs()).toEqual([]);
  });
});

describe("AwsSdkGateway in member accounts", () => {
  const ecs = mockClient(ECSClient);
  afterEach(() => ecs.reset());

  it("sends a member account's request with a client signed by its role, and Firebreak's own with its own", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    answerSessions(() => now);
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE, externalId: "firebreak-7f3a" } },
      sts: sdkSts("eu-west-1"),
      clock: () => now,
    });
    const clients: Array<{ credentialed: boolean; client: SdkClient }> = [];
    const gateway = new AwsSdkGateway({
      region: "eu-west-1",
      accounts: access,
      clientFactory: async (service, region, credentials) => {
        const client = await createSdkClient(service, region, credentials);
        clients.push({ credentialed: credentials !== undefined, client });
        return client;
      },
    });
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({ services: [] });

    const input = { cluster: "prod", service: "checkout", desiredCount: 6 };
    await gateway.send({ service: "ecs", operation: "UpdateService", account: MEMBER, input });
    await gateway.send({
      service: "ecs",
      operation: "DescribeServices",
      account: MEMBER,
      input: { cluster: "prod", services: ["checkout"] },
    });
    await gateway.send({ service: "ecs", operation: "UpdateService", input });

    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, input);
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    // Two clients: the member's (kept for its second request) and Firebreak's own.
    expect(clients.map((entry) => entry.credentialed)).toEqual([true, false]);
    const member = clients[0]?.client as ECSClient;
    expect(await member.config.credentials()).toMatchObject({
      accessKeyId: "ASIA1",
      sessionToken: "session-1",
    });
    expect(assumeRoleInputs()).toEqual([
      {
        RoleArn: ROLE,
        RoleSessionName: "firebreak",
        ExternalId: "firebreak-7f3a",
        DurationSeconds: 900,
      },
    ]);
  });

  it("refuses an account with no role before any client exists", async () => {
    answerSessions(() => 0);
    let built = 0;
    const gateway = new AwsSdkGateway({
      region: "eu-west-1",
      accounts: new AccountAccess({ accounts: {}, sts: sdkSts("eu-west-1") }),
      clientFactory: async (service, region) => {
        built += 1;
        return createSdkClient(service, region);
      },
    });

    const sent = gateway.send({
      service: "ecs",
      operation: "UpdateService",
      account: "444455556666",
      input: { cluster: "prod", service: "checkout", desiredCount: 6 },
    });

    await expect(sent).rejects.toBeInstanceOf(AccountNotConfiguredError);
    await expect(sent).rejects.toMatchObject({ account: "444455556666", retryable: false });
    expect(built).toBe(0);
    expect(ecs).not.toHaveReceivedAnyCommand();
  });
});
