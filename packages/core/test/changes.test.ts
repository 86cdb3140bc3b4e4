import { loadEvent } from "@firebreak/events";
import { describe, expect, it } from "vitest";
import {
  apiChangeIdentity,
  type Change,
  ChangeInputSchema,
  ChangeRecorder,
  changeFromEvent,
  changeLine,
  changesBefore,
  functionNameOf,
  InvalidEventError,
  InvalidInputError,
  isChangeEvent,
  parseConfig,
  serviceOfTarget,
  watchRollbackLine,
} from "../src";
import { aChange, aConfig, MemoryChangeStore } from "../src/testing";

const event = (name: string) => loadEvent(`changes/${name}.json`) as Record<string, unknown>;
const MINUTE = 60_000;

const config = aConfig({
  services: {
    checkout: {
      match: [{ source: "cloudwatch", alarmName: "checkout-*" }],
      dependsOn: ["orders-db"],
      changes: [{ functionName: "checkout-*" }, { cluster: "default", ecsService: "servicetest" }],
    },
    "orders-db": {
      match: [{ source: "cloudwatch", alarmName: "orders-db-*" }],
      changes: [{ application: "myApplication", deploymentGroup: "myDeploymentGroup" }],
    },
    search: { match: [{ source: "cloudwatch", alarmName: "search-*" }] },
  },
});

function recorder(now = Date.parse("2026-12-01T10:00:00Z")) {
  const clock = { now: () => now };
  const store = new MemoryChangeStore(clock, config.incidents.retention);
  return { store, recorder: new ChangeRecorder({ store, config, clock }) };
}

describe("deploy events become changes (AWS's samples, exactly)", () => {
  it("CodeDeploy SUCCESS: the deployment, on its group", () => {
    expect(changeFromEvent(event("codedeploy-deployment-success"))).toEqual({
      note: null,
      draft: {
        id: "codedeploy:d-123456789",
        version: "d-123456789",
        previousVersion: null,
        target: {
          kind: "codedeploy",
          application: "myApplication",
          deploymentGroup: "myDeploymentGroup",
          region: "us-east-1",
        },
        commit: null,
        author: null,
        url: "https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-123456789?region=us-east-1",
        at: "2016-06-30T22:06:31.000Z",
        origin: "codedeploy",
        account: "123456789012",
      },
    });
  });

  it("ECS SERVICE_DEPLOYMENT_COMPLETED: the deployment, on the service of resources[0]", () => {
    expect(changeFromEvent(event("ecs-deployment-completed"))).toEqual({
      note: null,
      draft: {
        id: "ecs:ecs-svc/123",
        version: "ecs-svc/123",
        previousVersion: null,
        target: {
          kind: "ecs-service",
          cluster: "default",
          service: "servicetest",
          region: "us-west-2",
        },
        commit: null,
        author: null,
        url: null,
        at: "2020-05-23T11:11:11.000Z",
        origin: "ecs",
        account: "111122223333",
      },
    });
  });

  it("Lambda UpdateAlias: the new version, the function by name or ARN, the CI role as author", () => {
    expect(changeFromEvent(event("lambda-update-alias"))).toEqual({
      note: null,
      draft: {
        id: "lambda:b2d4f6a8-0c1e-4a3b-9d5f-7e9a1c3b5d7f",
        version: "43",
        previousVersion: null,
        target: {
          kind: "lambda-alias",
          functionName: "checkout-api",
          alias: "live",
          region: "us-east-1",
        },
        commit: null,
        author: "ci-deployer/GitHubActions",
        url: null,
        at: "2026-11-30T14:27:23.000Z",
        origin: "lambda",
        account: "123456789012",
      },
    });
    const byArn = changeFromEvent(event("lambda-update-alias-arn")).draft;
    expect(byArn?.target).toEqual({
      kind: "lambda-alias",
      functionName: "checkout-api",
      alias: "live",
      region: "us-east-1",
    });
    expect(byArn?.author).toBe("AWSReservedSSO_Deployer_0123456789abcdef/alice@example.com");
  });

  it.each([
    ["codedeploy-deployment-start", "CodeDeploy d-123456789 START"],
    ["ecs-deployment-in-progress", "ECS ecs-svc/123 SERVICE_DEPLOYMENT_IN_PROGRESS"],
    ["ecs-deployment-failed", "ECS ecs-svc/123 SERVICE_DEPLOYMENT_FAILED"],
  ])("%s deploys nothing: accepted with a note", (name, note) => {
    expect(changeFromEvent(event(name))).toEqual({ draft: null, note });
  });

  it("ignores other Lambda calls, failed calls and alias moves to $LATEST or to no version", () => {
    const alias = event("lambda-update-alias");
    const detail = alias.detail as Record<string, unknown>;
    const publish = { ...alias, detail: { ...detail, eventName: "PublishVersion20150331" } };
    expect(changeFromEvent(publish).note).toBe("ignored PublishVersion20150331");
    const failed = { ...alias, detail: { ...detail, errorCode: "ResourceConflictException" } };
    expect(changeFromEvent(failed).note).toBe(
      "UpdateAlias20150331 failed: ResourceConflictException",
    );
    const described = {
      ...alias,
      detail: { ...detail, requestParameters: { functionName: "checkout-api", name: "live" } },
    };
    expect(changeFromEvent(described).note).toBe("alias live now on the same version");
  });

  it("refuses a broken event of a deploy source, naming the field", () => {
    const broken = structuredClone(event("ecs-deployment-completed"));
    broken.resources = ["arn:aws:ecs:us-west-2:111122223333:task/default/abc"];
    expect(() => changeFromEvent(broken)).toThrow(InvalidEventError);
    expect(() => changeFromEvent(broken)).toThrow(/resources\[0\]/);
    expect(isChangeEvent(event("ecs-deployment-completed"))).toBe(true);
    expect(isChangeEvent(loadEvent("cloudwatch/eventbridge-alarm.json"))).toBe(false);
  });

  it("reads a function's name from a name, a partial or a full ARN", () => {
    expect(functionNameOf("checkout-api")).toBe("checkout-api");
    expect(functionNameOf("123456789012:function:checkout-api")).toBe("checkout-api");
    expect(functionNameOf("arn:aws:lambda:eu-west-1:123456789012:function:checkout-api:live")).toBe(
      "checkout-api",
    );
  });
});

describe("which service a deploy belongs to", () => {
  it("is the first service with a matching changes entry", () => {
    const lambda = { kind: "lambda-alias", functionName: "checkout-api", alias: "live" } as const;
    expect(serviceOfTarget(config.services, lambda)).toBe("checkout");
    const group = {
      kind: "codedeploy",
      application: "myApplication",
      deploymentGroup: "other",
    } as const;
    expect(serviceOfTarget(config.services, group)).toBeNull();
  });

  it("rejects an empty changes entry in the config", () => {
    expect(() =>
      parseConfig({ services: { a: { match: [{ source: "cloudwatch" }], changes: [{}] } } }),
    ).toThrow("services.a.changes[0]: name at least one key");
  });
});

describe("recording changes", () => {
  it("stores an event's change once, and finds the alias's version before in history", async () => {
    const { store, recorder: changes } = recorder();
    const first = await changes.fromEvent(event("lambda-update-alias"));
    expect(first.recorded?.change).toMatchObject({
      service: "checkout",
      version: "43",
      previousVersion: null,
    });
    expect((await changes.fromEvent(event("lambda-update-alias"))).recorded?.created).toBe(false);
    const second = await changes.fromEvent(event("lambda-update-alias-arn"));
    expect(second.recorded?.change).toMatchObject({ version: "44", previousVersion: "43" });
    expect((await store.list({ services: ["checkout"], limit: 10 })).items).toHaveLength(2);
  });

  it("records nothing for a deploy no service claims, and says so", async () => {
    const { recorder: changes } = recorder();
    const alias = event("lambda-update-alias");
    const detail = alias.detail as { requestParameters: Record<string, unknown> };
    const other = {
      ...alias,
      detail: {
        ...detail,
        requestParameters: { ...detail.requestParameters, functionName: "billing" },
      },
    };
    expect(await changes.fromEvent(other)).toEqual({
      recorded: null,
      note: "no service's changes entry matches lambda-alias billing:live",
    });
  });

  it("derives a POSTed change's id from its body: the same body twice is one change", async () => {
    const { recorder: changes } = recorder();
    const body = ChangeInputSchema.parse({
      service: "checkout",
      version: "43",
      previousVersion: "42",
      author: "ci",
      commit: "abc123",
      at: "2026-12-01T09:55:00+00:00",
    });
    const first = await changes.fromApi(body);
    expect(first.created).toBe(true);
    expect(first.change.id).toMatch(/^api:[0-9a-f]{24}$/);
    expect(first.change.at).toBe("2026-12-01T09:55:00.000Z");
    const reordered = ChangeInputSchema.parse({ ...body, at: "2026-12-01T10:55:00+01:00" });
    expect(await changes.fromApi(reordered)).toEqual({ change: first.change, created: false });
  });

  it("without at, a repeat within the hour is a retry, and a redeploy after it", () => {
    const body = ChangeInputSchema.parse({ service: "checkout", version: "43" });
    const now = Date.parse("2026-12-01T10:00:00Z");
    const first = apiChangeIdentity(body, now);
    expect(first.at).toBe("2026-12-01T10:00:00.000Z");
    expect(first.dedupe).toEqual({
      key: expect.stringMatching(/^api:/),
      reusableAfter: now + 60 * MINUTE,
    });
    const later = apiChangeIdentity(body, now + 90 * MINUTE);
    expect(later.dedupe.key).toBe(first.dedupe.key);
    expect(later.id).not.toBe(first.id);
  });

  it("refuses an unknown service, listing the services", async () => {
    const { recorder: changes } = recorder();
    const body = ChangeInputSchema.parse({ service: "billing", version: "1" });
    await expect(changes.fromApi(body)).rejects.toThrow(InvalidInputError);
    await expect(changes.fromApi(body)).rejects.toThrow(
      'service: unknown service "billing" (services: checkout, orders-db, search)',
    );
  });
});

describe("an incident's changes", () => {
  it("are its service's and its dependencies' in the hour before it started, newest first", async () => {
    const start = Date.parse("2026-12-01T10:00:00Z");
    const { store } = recorder(start);
    const at = (minutesBefore: number) => new Date(start - minutesBefore * MINUTE).toISOString();
    const changes: Change[] = [
      aChange({ id: "own", service: "checkout", at: at(4) }),
      aChange({ id: "dependency", service: "orders-db", at: at(30) }),
      aChange({ id: "unrelated", service: "search", at: at(2) }),
      aChange({ id: "too-early", service: "checkout", at: at(61) }),
      aChange({ id: "after", service: "checkout", at: at(-1) }),
    ];
    for (const change of changes)
      await store.record(change, { key: change.id, reusableAfter: null });
    const found = await changesBefore(store, config, { service: "checkout", firstSeenAt: at(0) });
    expect(found.map((change) => change.id)).toEqual(["own", "dependency"]);
    expect(await changesBefore(store, config, { service: null, firstSeenAt: at(0) })).toEqual([]);
  });

  it("read as one line each", () => {
    const start = Date.parse("2026-12-01T10:00:00Z");
    const change = aChange({ at: new Date(start - 4 * MINUTE - 50_000).toISOString() });
    expect(changeLine(change, start)).toBe(
      "changed 4 minutes before: checkout 42 → 43 by ci (commit abc123)",
    );
    const bare = aChange({
      previousVersion: null,
      author: null,
      commit: null,
      at: new Date(start + 30_000).toISOString(),
    });
    expect(changeLine(bare, start)).toBe("changed 30 seconds after: checkout → 43");
    const hourAgo = aChange({ at: new Date(start - 60 * MINUTE).toISOString() });
    expect(changeLine(hourAgo, start)).toMatch(/^changed 60 minutes before/);
    expect(
      watchRollbackLine(
        aChange({ at: new Date(start - 6 * MINUTE).toISOString() }),
        start,
        "checkout-5xx",
      ),
    ).toBe("rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window");
  });
});
