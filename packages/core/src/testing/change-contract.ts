import { beforeEach, describe, expect, it } from "vitest";
import type { Change } from "../changes/model";
import type { ChangeStore } from "../changes/store";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const MINUTE = 60_000;
/** The retention the contract's stores are made with. */
export const CHANGE_RETENTION_MS = 30 * 86_400_000;

export function aChange(overrides: Partial<Change> = {}): Change {
  return {
    id: "api:0123456789abcdef01234567",
    service: "checkout",
    version: "43",
    previousVersion: "42",
    target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" },
    commit: "abc123",
    author: "ci",
    url: "https://ci.example.com/runs/1",
    at: new Date(NOW - 5 * MINUTE).toISOString(),
    origin: "api",
    account: null,
    ...overrides,
  };
}

/**
 * The behaviour every ChangeStore must have (memory fake and DynamoDB alike). `makeStore` gets a
 * clock the test moves and must use `CHANGE_RETENTION_MS`.
 */
export function describeChangeStoreContract(
  name: string,
  makeStore: (clock: { now(): number }) => Promise<ChangeStore>,
): void {
  describe(`ChangeStore contract: ${name}`, () => {
    let store: ChangeStore;
    let now: number;
    beforeEach(async () => {
      now = NOW;
      store = await makeStore({ now: () => now });
    });

    it("stores a change once per key: a repeat returns the first change and stores nothing", async () => {
      const first = aChange();
      expect(await store.record(first, { key: "codedeploy:d-1", reusableAfter: null })).toEqual({
        change: first,
        created: true,
      });
      const again = aChange({ id: "api:other", version: "44" });
      expect(await store.record(again, { key: "codedeploy:d-1", reusableAfter: null })).toEqual({
        change: first,
        created: false,
      });
      const page = await store.list({ services: ["checkout"], limit: 10 });
      expect(page).toEqual({ items: [first], nextCursor: null });
    });

    it("lets a reusable key record a new change once its time has passed", async () => {
      const first = aChange({ id: "api:first" });
      await store.record(first, { key: "api:body", reusableAfter: now + 60 * MINUTE });
      const retry = aChange({ id: "api:retry", at: new Date(now).toISOString() });
      expect((await store.record(retry, { key: "api:body", reusableAfter: null })).created).toBe(
        false,
      );
      now += 61 * MINUTE;
      const redeploy = aChange({ id: "api:redeploy", at: new Date(now).toISOString() });
      const recorded = await store.record(redeploy, {
        key: "api:body",
        reusableAfter: now + 60 * MINUTE,
      });
      expect(recorded).toEqual({ change: redeploy, created: true });
      const ids = (await store.list({ services: ["checkout"], limit: 10 })).items.map((c) => c.id);
      expect(ids).toEqual(["api:redeploy", "api:first"]);
    });

    it("lists the services asked for, newest first, by time range and page by page", async () => {
      const at = (minutesAgo: number) => new Date(NOW - minutesAgo * MINUTE).toISOString();
      const changes = [
        aChange({ id: "a", service: "checkout", at: at(50) }),
        aChange({ id: "b", service: "orders-db", at: at(40) }),
        aChange({ id: "c", service: "checkout", at: at(30) }),
        aChange({ id: "d", service: "search", at: at(20) }),
        aChange({ id: "e", service: "checkout", at: at(10) }),
        aChange({ id: "f", service: "checkout", at: at(10) }),
        aChange({ id: "g", service: "checkout", at: at(90) }),
      ];
      for (const change of changes)
        await store.record(change, { key: change.id, reusableAfter: null });

      const services = ["checkout", "orders-db"];
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ services, since: at(60), limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((change) => change.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      // Same time: the higher id first (the sort key is `<at>#<id>`).
      expect(seen).toEqual(["f", "e", "c", "b", "a"]);

      const until = await store.list({ services, until: at(30), limit: 10 });
      expect(until.items.map((change) => change.id)).toEqual(["c", "b", "a", "g"]);
      expect(await store.list({ services: ["nothing"], limit: 10 })).toEqual({
        items: [],
        nextCursor: null,
      });
    });

    it("treats changes older than the retention as gone", async () => {
      const old = aChange({ id: "old", at: new Date(NOW - MINUTE).toISOString() });
      await store.record(old, { key: "old", reusableAfter: null });
      now = NOW + CHANGE_RETENTION_MS;
      expect((await store.list({ services: ["checkout"], limit: 10 })).items).toEqual([]);
      // Its key is free again: a deploy id seen before the retention is a new change now.
      const reused = aChange({ id: "reused", at: new Date(now).toISOString() });
      expect((await store.record(reused, { key: "old", reusableAfter: null })).created).toBe(true);
    });

    it("refuses a cursor it did not hand out", async () => {
      await expect(
        store.list({ services: ["checkout"], limit: 10, cursor: "bm90LWEtY3Vyc29y" }),
      ).rejects.toThrow(/cursor is not valid/);
    });
  });
}
