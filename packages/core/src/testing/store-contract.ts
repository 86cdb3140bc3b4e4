import { beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError, VersionConflictError } from "../errors";
import { resolveByPerson } from "../incidents/human";
import type { IncidentRecord } from "../incidents/model";
import type { IncidentStore } from "../ports";
import { aRecord } from "./builders";

/** Saves the next version of a record after `change` edits a copy of it. */
function nextVersion(record: IncidentRecord, change: (next: IncidentRecord) => void) {
  const next = structuredClone(record);
  change(next);
  next.version += 1;
  return next;
}

/**
 * The behaviour every IncidentStore must have. Run against the in-memory fake and against
 * DynamoDB (embedded), so the fake the core tests rely on cannot drift from the real store.
 */
export function describeIncidentStoreContract(
  name: string,
  makeStore: () => Promise<IncidentStore>,
): void {
  describe(`IncidentStore contract: ${name}`, () => {
    let store: IncidentStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("finds nothing for an unknown fingerprint or id", async () => {
      expect(await store.getCurrent("cloudwatch:nobody")).toBeNull();
      expect(await store.get("ZZZZZZZ")).toBeNull();
    });

    it("creates version 1 only once", async () => {
      const record = aRecord({ fingerprint: "fp:create" });
      await store.save(record, null);
      await expect(store.save(record, null)).rejects.toBeInstanceOf(VersionConflictError);
      expect(await store.get(record.incident.id)).toEqual(record);
    });

    it("replaces version n-1 with version n and refuses anything else", async () => {
      const record = aRecord({ fingerprint: "fp:cas" });
      await store.save(record, null);
      const second = nextVersion(record, (next) => {
        next.incident.count = 2;
      });
      await store.save(second, null);
      await expect(store.save(second, null)).rejects.toBeInstanceOf(VersionConflictError);
      const skipping = nextVersion(second, () => {});
      skipping.version += 1;
      await expect(store.save(skipping, null)).rejects.toBeInstanceOf(VersionConflictError);
      expect((await store.get(record.incident.id))?.incident.count).toBe(2);
    });

    it("points a fingerprint at its current incident and never back", async () => {
      const first = aRecord({ fingerprint: "fp:pointer" });
      await store.save(first, null);
      await store.setCurrent("fp:pointer", first.incident.id, 1);
      expect((await store.getCurrent("fp:pointer"))?.incident.id).toBe(first.incident.id);

      const second = structuredClone(first);
      second.incident.id = "SECOND0";
      second.incident.sequence = 2;
      await store.save(second, null);
      await store.setCurrent("fp:pointer", "SECOND0", 2);
      await store.setCurrent("fp:pointer", first.incident.id, 1);
      expect((await store.getCurrent("fp:pointer"))?.incident.id).toBe("SECOND0");
    });

    it("keeps timeline pages in order, and rewriting a page is harmless", async () => {
      const record = aRecord({ fingerprint: "fp:pages" });
      const entries = record.timeline;
      await store.save(record, { incidentId: record.incident.id, page: 1, entries });
      const next = nextVersion(record, () => {});
      await store.save(next, { incidentId: record.incident.id, page: 0, entries });
      await store.save(
        nextVersion(next, () => {}),
        {
          incidentId: record.incident.id,
          page: 0,
          entries,
        },
      );
      const pages = await store.getTimelinePages(record.incident.id);
      expect(pages.map((page) => page.page)).toEqual([0, 1]);
      expect(pages[0]?.entries).toEqual(entries);
    });

    it("round-trips hostile text exactly", async () => {
      const record = aRecord({
        fingerprint: "fp:text",
        title: `<img src=x onerror=alert(1)> "quotes" 'single' \\ émoji 🔥 \u0000`,
      });
      await store.save(record, null);
      expect((await store.get(record.incident.id))?.incident.title).toBe(record.incident.title);
    });

    describe("list", () => {
      const times = [
        "2026-11-20T08:00:00.000Z",
        "2026-11-21T08:00:00.000Z",
        "2026-11-22T08:00:00.000Z",
      ];
      let records: IncidentRecord[];
      beforeEach(async () => {
        records = [];
        for (const [index, at] of times.entries()) {
          for (const source of ["cloudwatch", "sentry"] as const) {
            const record = aRecord({
              fingerprint: `fp:list:${index}:${source}`,
              at,
              source,
              severity: index === 2 ? "critical" : "warning",
            });
            await store.save(record, null);
            records.push(record);
          }
        }
        // The oldest cloudwatch one is resolved.
        const resolved = resolveByPerson(
          records[0] as IncidentRecord,
          "api:test",
          times[1] as string,
          null,
        );
        await store.save(resolved.record, null);
      });

      const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

      it("lists open incidents first, newest first", async () => {
        const page = await store.list({ limit: 100 });
        expect(page.items).toHaveLength(6);
        expect(page.items.at(-1)?.id).toBe(records[0]?.incident.id);
        const open = page.items.slice(0, 5).map((item) => item.firstSeenAt);
        expect(open).toEqual([...open].sort().reverse());
        expect(page.nextCursor).toBeNull();
      });

      it("filters by status, severity, source and time", async () => {
        expect(await store.list({ limit: 100, status: "resolved" })).toMatchObject({
          items: [{ id: records[0]?.incident.id, status: "resolved" }],
        });
        expect((await store.list({ limit: 100, status: "open" })).items).toHaveLength(5);
        expect((await store.list({ limit: 100, status: "triggered" })).items).toHaveLength(5);
        expect((await store.list({ limit: 100, status: "acknowledged" })).items).toHaveLength(0);
        const critical = await store.list({ limit: 100, severity: "critical" });
        expect(critical.items.every((item) => item.severity === "critical")).toBe(true);
        expect(critical.items).toHaveLength(2);
        const sentry = await store.list({ limit: 100, source: "sentry", status: "open" });
        expect(sentry.items.map((item) => item.source)).toEqual(["sentry", "sentry", "sentry"]);
        const window = await store.list({
          limit: 100,
          since: "2026-11-21T00:00:00.000Z",
          until: "2026-11-21T23:59:59.999Z",
        });
        expect(window.items.map((item) => item.firstSeenAt)).toEqual([times[1], times[1]]);
      });

      it("pages through everything exactly once with the cursor", async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.list({ limit: 4, cursor });
          seen.push(...ids(page.items));
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        expect(seen).toHaveLength(6);
        expect(new Set(seen).size).toBe(6);
        const all = await store.list({ limit: 100 });
        expect(seen).toEqual(ids(all.items));
      });

      it("refuses a cursor it did not make", async () => {
        await expect(store.list({ limit: 2, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
      });
    });
  });
}
