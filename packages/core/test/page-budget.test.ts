import { describe, expect, it } from "vitest";
import { digestText, PageBudgetKeeper, type PageRequest } from "../src";
import { MemoryVersionedItems } from "../src/testing";

const AT = Date.parse("2026-11-26T10:01:30.000Z");
const limits = { perMinute: 20, perHour: 200 };
const request = (index: number, overrides: Partial<PageRequest> = {}): PageRequest => ({
  channel: "oncall",
  ref: `INC${index}/a1`,
  incidentId: `INC${index}`,
  title: `alarm-${index}`,
  now: AT,
  limits,
  ...overrides,
});

describe("PageBudgetKeeper", () => {
  it("pages exactly perMinute of 100 concurrent pages on one channel and folds the rest", async () => {
    // Separate keepers over one store: dispatchers in separate Lambda instances.
    const items = new MemoryVersionedItems();
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, index) => new PageBudgetKeeper(items).take(request(index))),
    );
    expect(decisions.filter((decision) => decision.paged)).toHaveLength(20);
    const folded = decisions.filter((decision) => !decision.paged);
    expect(folded).toHaveLength(80);
    expect(folded[0]).toEqual({
      paged: false,
      reason: "page budget for oncall spent: 20 pages this minute",
      digestAfter: "2026-11-26T10:02:00.000Z",
    });
    // Another channel has its own budget.
    expect(await new PageBudgetKeeper(items).take(request(0, { channel: "managers" }))).toEqual({
      paged: true,
    });
  });

  it("writes one item for a batch of pages that all go out, two when some fold", async () => {
    const items = new MemoryVersionedItems();
    const puts: string[] = [];
    const put = items.put.bind(items);
    items.put = async (key, value, version) => {
      puts.push(key.split(":").slice(0, 3).join(":"));
      return put(key, value, version);
    };
    const budget = new PageBudgetKeeper(items);
    const take = (from: number, count: number) =>
      Promise.all(Array.from({ length: count }, (_, index) => budget.take(request(from + index))));
    expect((await take(0, 10)).every((decision) => decision.paged)).toBe(true);
    expect(puts).toEqual(["page-budget:oncall:hour"]);
    const decisions = await take(10, 20);
    expect(decisions.filter((decision) => decision.paged)).toHaveLength(10);
    expect(puts).toEqual([
      "page-budget:oncall:hour",
      "page-budget:oncall:hour",
      "page-budget:oncall:minute",
    ]);
  });

  it("gives every item of a window an expiry a day after the window began, for the table's TTL", async () => {
    const items = new MemoryVersionedItems();
    const budget = new PageBudgetKeeper(items);
    // 30 pages in one minute: 20 sent, 10 folded into the minute's item; then its digest.
    await Promise.all(Array.from({ length: 30 }, (_, index) => budget.take(request(index))));
    const [digest] = await budget.claimDigests("oncall", AT + 60_000, 1);
    if (!digest) throw new Error("the folded minute owes a digest");
    await budget.markSent(digest, AT + 60_000);
    const day = 24 * 3_600;
    const expiries = Object.fromEntries(
      [...items.items].map(([key, { expiresAt }]) => [key.split(":")[2], expiresAt]),
    );
    expect(expiries).toEqual({
      hour: Date.parse("2026-11-26T10:00:00.000Z") / 1000 + day,
      minute: Date.parse("2026-11-26T10:01:00.000Z") / 1000 + day,
    });
  });

  it("counts a retried page once", async () => {
    const budget = new PageBudgetKeeper(new MemoryVersionedItems());
    const tight = { perMinute: 1, perHour: 10 };
    expect((await budget.take(request(1, { limits: tight }))).paged).toBe(true);
    expect((await budget.take(request(1, { limits: tight }))).paged).toBe(true);
    expect((await budget.take(request(2, { limits: tight }))).paged).toBe(false);
    expect((await budget.take(request(2, { limits: tight }))).paged).toBe(false);
  });

  it("holds a page taken as a claim for everyone else until the claim lapses", async () => {
    const items = new MemoryVersionedItems();
    const claim = (until: number, now = AT) =>
      new PageBudgetKeeper(items).take(request(1, { claimUntil: until, now }));
    expect(await claim(AT + 120_000)).toEqual({ paged: true });
    // A redelivered record's dispatcher, and a classic retry: neither sends it meanwhile.
    const held = { paged: false, held: true, until: "2026-11-26T10:03:30.000Z" };
    expect(await claim(AT + 130_000, AT + 5_000)).toEqual(held);
    expect(await new PageBudgetKeeper(items).take(request(1, { now: AT + 5_000 }))).toEqual(held);
    // Another page still pages: the claim counts as one sent.
    expect(await claim(AT + 120_000)).toEqual(held);
    expect(await new PageBudgetKeeper(items).take(request(2))).toEqual({ paged: true });
  });

  it("refuses a claim on a page taken before without one, which the caller then claims itself", async () => {
    const budget = new PageBudgetKeeper(new MemoryVersionedItems());
    expect(await budget.take(request(1))).toEqual({ paged: true });
    expect(await budget.take(request(1, { claimUntil: AT + 120_000 }))).toEqual({
      paged: false,
      held: true,
      until: new Date(AT).toISOString(),
    });
    // Counted once, as any retry of it.
    expect(await budget.take(request(1))).toEqual({ paged: true });
  });

  it("keeps its items small whatever the storm: marks of pages sent, folds in items of 50", async () => {
    const items = new MemoryVersionedItems();
    const budget = new PageBudgetKeeper(items);
    const wide = { perMinute: 1000, perHour: 10_000 };
    const storm = (from: number, count: number, overrides: Partial<PageRequest> = {}) =>
      Promise.all(
        Array.from({ length: count }, (_, index) =>
          budget.take(request(from + index, { limits: wide, ...overrides })),
        ),
      );
    // A thousand pages, claimed as the dispatcher takes them, then 3,000 folded.
    const claimed = await storm(0, 1000, { claimUntil: AT + 120_000 });
    expect(claimed.every((decision) => decision.paged)).toBe(true);
    expect((await storm(1000, 3000)).every((decision) => !decision.paged)).toBe(true);
    const sizes = [...items.items].map(([key, { value }]) => [key, JSON.stringify(value).length]);
    const hour = sizes.find(([key]) => String(key).includes(":hour:"));
    // 8 characters a page: 1,000 refs listed took 13 KB, and as much again for their claims.
    expect(hour?.[1]).toBeLessThan(8_400);
    const minutes = sizes.filter(([key]) => String(key).includes(":minute:"));
    expect(minutes).toHaveLength(60);
    expect(Math.max(...minutes.map(([, size]) => Number(size)))).toBeLessThan(3_000);
    // A retry in the next item of one folded in the first is named once.
    await new PageBudgetKeeper(items).take(request(1000, { limits: wide }));
    await budget.take(request(4000, { limits: wide }));
    const [digest] = await new PageBudgetKeeper(items).claimDigests("oncall", AT + 60_000, 1);
    expect(digest?.folded).toHaveLength(2000);
    expect(digest?.unlisted).toBe(1001);
    expect(digest?.folded[0]).toEqual({
      ref: "INC1000/a1",
      incidentId: "INC1000",
      title: "alarm-1000",
    });
    // Once their claims lapsed, the pages are still counted, and a retry still counts once.
    const later = AT + 130_000;
    expect(await budget.take(request(5, { limits: wide, now: later }))).toEqual({ paged: true });
    expect(
      await budget.take(request(5, { limits: wide, now: later, claimUntil: later + 1 })),
    ).toEqual({
      paged: false,
      held: true,
      until: new Date(later).toISOString(),
    });
    // The next write moves the lapsed claims among the pages sent.
    expect(await budget.take(request(6000, { limits: wide, now: later }))).toEqual({ paged: true });
    const stored = items.items.get("page-budget:oncall:hour:2026-11-26T10:00:00.000Z")?.value;
    expect(stored).toMatchObject({ claimed: [], sent: expect.stringMatching(/^.{8008}$/) });
  });

  it("folds concurrent dispatchers' pages into full items, each page named once", async () => {
    const items = new MemoryVersionedItems();
    const tight = { perMinute: 1, perHour: 10 };
    await new PageBudgetKeeper(items).take(request(0, { limits: tight }));
    // Eight dispatchers (Lambda instances) fold 60 pages each at once, some of them twice.
    await Promise.all(
      Array.from({ length: 8 }, (_, keeper) => {
        const budget = new PageBudgetKeeper(items);
        return Promise.all(
          Array.from({ length: 60 }, (_, index) =>
            budget.take(request(1 + ((keeper * 60 + index) % 400), { limits: tight })),
          ),
        );
      }),
    );
    const minutes = [...items.items].filter(([key]) => key.includes(":minute:"));
    const sizes = minutes.map(([, { value }]) => (value as { entries: unknown[] }).entries.length);
    expect(sizes.slice(0, -1).every((size) => size === 50)).toBe(true);
    const [digest] = await new PageBudgetKeeper(items).claimDigests("oncall", AT + 60_000, 1);
    const named = digest?.folded.map((entry) => entry.incidentId) ?? [];
    expect(new Set(named).size).toBe(400);
    expect(named).toHaveLength(400);
  });

  it("reads the items written before marks and split minutes", async () => {
    const items = new MemoryVersionedItems();
    const hour = "page-budget:oncall:hour:2026-11-26T10:00:00.000Z";
    await items.put(
      hour,
      {
        sent: ["INC1/a1", "INC2/a1"],
        minutes: {
          "2026-11-26T10:01:00.000Z": {
            sent: ["INC1/a1", "INC2/a1"],
            claims: { "INC2/a1": "2026-11-26T10:03:00.000Z" },
          },
        },
      },
      1,
    );
    await items.put(
      "page-budget:oncall:minute:2026-11-26T10:01:00.000Z",
      {
        folded: [{ ref: "INC3/a1", incidentId: "INC3", title: "alarm-3" }],
        unlisted: 4,
        digest: null,
      },
      1,
    );
    const budget = new PageBudgetKeeper(items);
    const tight = { perMinute: 3, perHour: 10 };
    expect(await budget.take(request(1, { limits: tight }))).toEqual({ paged: true });
    expect(await budget.take(request(2, { limits: tight }))).toEqual({
      paged: false,
      held: true,
      until: "2026-11-26T10:03:00.000Z",
    });
    expect(await budget.take(request(4, { limits: tight }))).toEqual({ paged: true });
    expect((await budget.take(request(5, { limits: tight }))).paged).toBe(false);
    const [digest] = await budget.claimDigests("oncall", AT + 60_000, 1);
    expect(digest?.folded.map((entry) => entry.incidentId)).toEqual(["INC3", "INC5"]);
    expect(digest?.unlisted).toBe(4);
  });

  it("holds the hourly budget across minutes, folding into each minute's digest", async () => {
    const budget = new PageBudgetKeeper(new MemoryVersionedItems());
    const small = { perMinute: 3, perHour: 5 };
    const minute = (n: number) => Date.parse("2026-11-26T10:00:00.000Z") + n * 60_000;
    const paged: boolean[] = [];
    for (let index = 0; index < 9; index++) {
      const at = minute(Math.floor(index / 3));
      paged.push((await budget.take(request(index, { limits: small, now: at }))).paged);
    }
    expect(paged).toEqual([true, true, true, true, true, false, false, false, false]);
    const hour = await budget.take(request(99, { limits: small, now: minute(3) }));
    expect(hour).toMatchObject({
      paged: false,
      reason: expect.stringContaining("5 pages this hour"),
    });
    const digests = await budget.claimDigests("oncall", minute(4), 5);
    expect(
      digests.map((digest) => [digest.window, digest.folded.map((f) => f.incidentId)]),
    ).toEqual([
      ["2026-11-26T10:01:00.000Z", ["INC5"]],
      ["2026-11-26T10:02:00.000Z", ["INC6", "INC7", "INC8"]],
      ["2026-11-26T10:03:00.000Z", ["INC99"]],
    ]);
  });

  it("reads the lookback's minutes in one request where the store can, and claims only those owing", async () => {
    const items = new MemoryVersionedItems();
    const small = { perMinute: 1, perHour: 50 };
    const minute = (n: number) => Date.parse("2026-11-26T10:00:00.000Z") + n * 60_000;
    // Minute 1 folds one page; minutes 0 and 2 to 4 page all they take.
    await new PageBudgetKeeper(items).take(request(0, { limits: small, now: minute(1) }));
    await new PageBudgetKeeper(items).take(request(1, { limits: small, now: minute(1) }));
    const gets: string[] = [];
    const get = items.get.bind(items);
    items.get = async (key) => {
      gets.push(key);
      return get(key);
    };
    const budget = new PageBudgetKeeper(items);
    const digests = await budget.claimDigests("oncall", minute(5), 5);
    expect(
      digests.map((digest) => [digest.window, digest.folded.map((f) => f.incidentId)]),
    ).toEqual([["2026-11-26T10:01:00.000Z", ["INC1"]]]);
    // One request for the five minutes' heads; then the owing minute alone is read, claimed and
    // its pages listed.
    expect(items.manyReads).toHaveLength(1);
    expect(items.manyReads[0]).toHaveLength(5);
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((key) => key.startsWith("page-budget:oncall:minute:2026-11-26T10:01:"))).toBe(
      true,
    );
    // Claimed: the next sweep reads the heads again and claims nothing.
    expect(await budget.claimDigests("oncall", minute(5), 5)).toEqual([]);
    expect(items.manyReads).toHaveLength(2);
  });

  it("reads the lookback's minutes side by side: one round trip, digests still oldest first", async () => {
    const items = new MemoryVersionedItems();
    const small = { perMinute: 1, perHour: 50 };
    const minute = (n: number) => Date.parse("2026-11-26T10:00:00.000Z") + n * 60_000;
    for (let index = 0; index < 8; index++) {
      await new PageBudgetKeeper(items).take(
        request(index, { limits: small, now: minute(Math.floor(index / 2)) }),
      );
    }
    // Every read waits until all five minutes' heads have been asked for.
    const asked: string[] = [];
    let release = () => {};
    const allAsked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = {
      get: async (key: string) => {
        asked.push(key);
        if (asked.length === 5) release();
        await allAsked;
        return items.get(key);
      },
      put: (key: string, value: unknown, version: number) => items.put(key, value, version),
    };
    const digests = await new PageBudgetKeeper(slow).claimDigests("oncall", minute(5), 5);
    // Read one after another, the first would wait for the fifth forever.
    expect(new Set(asked.slice(0, 5)).size).toBe(5);
    expect(
      digests.map((digest) => [digest.window, digest.folded.map((f) => f.incidentId)]),
    ).toEqual([
      ["2026-11-26T10:00:00.000Z", ["INC1"]],
      ["2026-11-26T10:01:00.000Z", ["INC3"]],
      ["2026-11-26T10:02:00.000Z", ["INC5"]],
      ["2026-11-26T10:03:00.000Z", ["INC7"]],
    ]);
  });

  it("hands each closed minute's digest to one sender, and never again once sent", async () => {
    const items = new MemoryVersionedItems();
    const tight = { perMinute: 1, perHour: 10 };
    for (let index = 0; index < 3; index++) {
      await new PageBudgetKeeper(items).take(request(index, { limits: tight }));
    }
    // The minute has not turned: nothing to send yet.
    expect(await new PageBudgetKeeper(items).claimDigests("oncall", AT, 5)).toEqual([]);
    const later = AT + 60_000;
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => new PageBudgetKeeper(items).claimDigests("oncall", later, 5)),
    );
    const won = claims.flat();
    expect(won).toHaveLength(1);
    expect(won[0]?.folded.map((entry) => entry.incidentId)).toEqual(["INC1", "INC2"]);
    await new PageBudgetKeeper(items).markSent(won[0] as (typeof won)[number], later);
    // Sent: not even a lapsed claim brings it back.
    expect(await new PageBudgetKeeper(items).claimDigests("oncall", later + 600_000, 15)).toEqual(
      [],
    );
  });

  it("reclaims a digest whose sender died, once its claim lapses", async () => {
    const budget = new PageBudgetKeeper(new MemoryVersionedItems());
    const tight = { perMinute: 1, perHour: 10 };
    await budget.take(request(1, { limits: tight }));
    await budget.take(request(2, { limits: tight }));
    const later = AT + 60_000;
    expect(await budget.claimDigests("oncall", later, 5)).toHaveLength(1);
    expect(await budget.claimDigests("oncall", later + 60_000, 5)).toHaveLength(0);
    expect(await budget.claimDigests("oncall", later + 121_000, 5)).toHaveLength(1);
  });
});

describe("digestText", () => {
  it("counts and names the folded incidents", () => {
    const text = digestText({
      channel: "oncall",
      window: "2026-11-26T10:01:00.000Z",
      incidents: [
        { incidentId: "K7Q2XPD", title: "api-5xx" },
        { incidentId: "A1XXN09", title: "orders-db-writer-down" },
      ],
      unlisted: 35,
    });
    expect(text).toBe(
      "37 more incidents in the last minute on oncall (from 10:01 UTC, page budget spent): K7Q2XPD api-5xx; A1XXN09 orders-db-writer-down; and 35 more",
    );
  });
});
