import type { ScheduleOverride, Silence } from "@firebreak/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// What the adapters' modules saw: loaded at all, and the calls their stores took.
const seen = vi.hoisted(() => ({ loaded: [] as string[], calls: [] as string[] }));

vi.mock("../lib/adapters/silences", () => {
  seen.loaded.push("silences");
  return {
    DynamoDbSilenceStore: class {
      constructor(_client: unknown, tableName: string) {
        seen.calls.push(`silences table ${tableName}`);
      }
      async listActive(now: number): Promise<Silence[]> {
        seen.calls.push(`listActive ${now}`);
        return [];
      }
    },
  };
});

vi.mock("../lib/adapters/overrides", () => {
  seen.loaded.push("overrides");
  return {
    DynamoDbOverrideStore: class {
      constructor(_client: unknown, tableName: string) {
        seen.calls.push(`overrides table ${tableName}`);
      }
      async list(schedule: string, from: number, to: number): Promise<ScheduleOverride[]> {
        seen.calls.push(`list ${schedule} ${from} ${to}`);
        return [];
      }
    },
  };
});

// The dispatcher's side and the member accounts' clients: the page budget must load neither.
vi.mock("../lib/adapters/responders", () => {
  seen.loaded.push("responders");
  return {};
});
vi.mock("../lib/adapters/accounts", () => {
  seen.loaded.push("accounts");
  return {};
});

const TABLE_NAME = process.env.TABLE_NAME;
beforeAll(() => {
  process.env.TABLE_NAME = "firebreak-test";
});
afterAll(() => {
  if (TABLE_NAME === undefined) delete process.env.TABLE_NAME;
  else process.env.TABLE_NAME = TABLE_NAME;
});

describe("AWS ports: silences and on-call overrides", () => {
  it("load their adapters (RE2 and luxon beneath them) on a store's first call, not when deps are built", async () => {
    const { awsPorts } = await import("../lib/aws");
    const [silences, overrides] = await Promise.all([awsPorts.silences(), awsPorts.overrides()]);
    expect(seen.loaded).toEqual([]);

    expect(await silences.listActive(1_000)).toEqual([]);
    expect(seen.loaded).toEqual(["silences"]);
    expect(await overrides.list("primary", 0, 10)).toEqual([]);
    expect(seen.loaded).toEqual(["silences", "overrides"]);

    // One store each, on the stage's table, taking every call.
    await silences.listActive(2_000);
    expect(seen.calls).toEqual([
      "silences table firebreak-test",
      "listActive 1000",
      "overrides table firebreak-test",
      "list primary 0 10",
      "listActive 2000",
    ]);
  });
});

describe("AWS ports: the page budget", () => {
  it("loads without the rest of the responders (gateway, accounts' roles, pager)", async () => {
    const { awsPorts } = await import("../lib/aws");
    const budget = await awsPorts.pageBudget?.();
    expect(budget?.constructor.name).toBe("PageBudgetKeeper");
    expect(seen.loaded).not.toContain("responders");
    expect(seen.loaded).not.toContain("accounts");
  });
});
