import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { AccountNotConfiguredError } from "@firebreak/core";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterEach, describe, expect, it } from "vitest";
import {
  AccountAccess,
  type AssumeRoleInput,
  AwsSdkGateway,
  createSdkClient,
  type SdkClient,
  type StsApi,
} from "../src";

const MEMBER = "111122223333";
const ROLE = `arn:aws:iam::${MEMBER}:role/firebreak-remediation`;
const OWN = "999999999999";

/** STS that records each AssumeRole input and answers numbered sessions lasting 15 minutes. */
function recordingSts(now: () => number) {
  const assumed: AssumeRoleInput[] = [];
  let callerCalls = 0;
  let fail: Error | null = null;
  const sts: StsApi = {
    async assumeRole(input) {
      assumed.push(structuredClone(input));
      if (fail) throw fail;
      return {
        Credentials: {
          AccessKeyId: `ASIA${assumed.length}`,
          SecretAccessKey: "secret",
          SessionToken: `session-${assumed.length}`,
          Expiration: new Date(now() + 15 * 60_000),
        },
      };
    },
    async callerAccount() {
      callerCalls += 1;
      return OWN;
    },
  };
  return {
    sts,
    assumed,
    callerCalls: () => callerCalls,
    failWith: (error: Error | null) => {
      fail = error;
    },
  };
}

describe("AccountAccess", () => {
  it("assumes a member account's role with its ExternalId, and keeps the session until shortly before it expires", async () => {
    let now = Date.UTC(2026, 11, 2, 12);
    const recorded = recordingSts(() => now);
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE, externalId: "firebreak-7f3a" } },
      sts: recorded.sts,
      clock: () => now,
    });

    const route = await access.route(MEMBER);
    if (route.kind !== "role") throw new Error(`expected a role, got ${route.kind}`);
    const [first, concurrent] = await Promise.all([route.credentials(), route.credentials()]);
    now += 9 * 60_000;
    const stillValid = await route.credentials();
    // Ten minutes in, five are left: renewed before a call could start with a lapsing session.
    now += 60_000;
    const renewed = await route.credentials();

    expect(recorded.assumed).toEqual([
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
    expect(renewed).toMatchObject({ accessKeyId: "ASIA2", sessionToken: "session-2" });
    expect(route.roleArn).toBe(ROLE);
  });

  it("sends no ExternalId when the account has none, and assumes again after a failure", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const recorded = recordingSts(() => now);
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE } },
      sts: recorded.sts,
      sessionName: "firebreak-prod",
    });
    const route = await access.route(MEMBER);
    if (route.kind !== "role") throw new Error("expected a role");

    recorded.failWith(Object.assign(new Error("not authorized"), { name: "AccessDenied" }));
    await expect(route.credentials()).rejects.toThrow("not authorized");
    recorded.failWith(null);
    await expect(route.credentials()).resolves.toMatchObject({ sessionToken: "session-2" });

    expect(recorded.assumed[0]).toEqual({
      RoleArn: ROLE,
      RoleSessionName: "firebreak-prod",
      DurationSeconds: 900,
    });
  });

  it("knows its own account (GetCallerIdentity, once) and refuses accounts with no role", async () => {
    const recorded = recordingSts(() => 0);
    const access = new AccountAccess({ accounts: {}, sts: recorded.sts });

    expect(await access.route(undefined)).toEqual({ kind: "own" });
    expect(await access.route(OWN)).toEqual({ kind: "own" });
    expect(await access.route("444455556666")).toEqual({
      kind: "unknown",
      account: "444455556666",
    });
    expect(recorded.callerCalls()).toBe(1);
    expect(recorded.assumed).toEqual([]);
  });
});

describe("AwsSdkGateway in member accounts", () => {
  const ecs = mockClient(ECSClient);
  afterEach(() => ecs.reset());

  it("sends a member account's request with a client signed by its role, and Firebreak's own with its own", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const recorded = recordingSts(() => now);
    const access = new AccountAccess({
      accounts: { [MEMBER]: { roleArn: ROLE, externalId: "firebreak-7f3a" } },
      sts: recorded.sts,
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
    expect(recorded.assumed.map((call) => call.ExternalId)).toEqual(["firebreak-7f3a"]);
  });

  it("refuses an account with no role before any client exists", async () => {
    const recorded = recordingSts(() => 0);
    let built = 0;
    const gateway = new AwsSdkGateway({
      region: "eu-west-1",
      accounts: new AccountAccess({ accounts: {}, sts: recorded.sts }),
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
