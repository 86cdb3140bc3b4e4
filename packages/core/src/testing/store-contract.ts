import { beforeEach, describe, expect, it } from "vitest";
import type { SweepPolicy } from "../actions/due";
import { InvalidInputError, NotFoundError, VersionConflictError } from "../errors";
import { resolveByPerson } from "../incidents/human";
import type { IncidentRecord } from "../incidents/model";
import { loadIncident } from "../incidents/retention";
import { type Clock, type IncidentStore, StaleRecordError } from "../ports";
import { aConfig, aRecord } from "./builders";
import { manualClock } from "./clock";

/** What a store under contract is built with: the contract moves the clock. */
export interface StoreContractOptions {
  clock: Clock;
  config: SweepPolicy;
}

const DAY = 86_400_000;
/** The contract's policy keeps resolved incidents 30 days. */
const RETENTION = 30 * DAY;
const START = Date.parse("2026-11-23T00:00:00.000Z");

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
  makeStore: (options: StoreContractOptions) => Promise<IncidentStore>,
): void {
  describe(`IncidentStore contract: ${name}`, () => {
    let store: IncidentStore;
    const clock = manualClock(START);
    const config = aConfig({ incidents: { retention: "30d" } });
    beforeEach(async () => {
      clock.time = START;
      store = await makeStore({ clock, config });
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

    it("tells a lost write which record won, the expiry changed or not", async () => {
      const record = aRecord({ fingerprint: "fp:lost" });
      await store.save(record, null);
      const winner = nextVersion(record, (next) => {
        next.incident.count = 2;
      });
      await store.save(winner, null);
      const lost = await store
        .save(
          nextVersion(record, () => {}),
          null,
        )
        .catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(StaleRecordError);
      expect((lost as StaleRecordError).current).toEqual(winner);

      // A resolve changes the item's expiry: the write still goes through once, and only once.
      const resolved = resolveByPerson(winner, "api:test", "2026-11-22T23:00:00.000Z", null).record;
      await store.save(resolved, null);
      const late = await store.save(resolved, null).catch((e: unknown) => e);
      expect((late as StaleRecordError).current).toEqual(resolved);
      expect(await store.get(record.incident.id)).toEqual(resolved);
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

    it("remembers a recovery on a pointer with no incident, then keeps it as the pointer moves on", async () => {
      const until = START + DAY;
      await store.rememberRecovery("fp:recovery", "2026-11-22T23:00:00.000Z", null, until);
      expect(await store.getFingerprint("fp:recovery")).toEqual({
        record: null,
        recoveredAt: "2026-11-22T23:00:00.000Z",
      });
      // Not older than the one kept, and not while the pointer leads elsewhere.
      await expect(
        store.rememberRecovery("fp:recovery", "2026-11-22T22:00:00.000Z", null, until),
      ).rejects.toBeInstanceOf(VersionConflictError);
      const record = aRecord({ fingerprint: "fp:recovery" });
      await store.save(record, null);
      await store.setCurrent("fp:recovery", record.incident.id, 1);
      await expect(
        store.rememberRecovery("fp:recovery", "2026-11-22T23:30:00.000Z", null, until),
      ).rejects.toBeInstanceOf(VersionConflictError);
      const state = await store.getFingerprint("fp:recovery");
      expect(state.record?.incident.id).toBe(record.incident.id);
      expect(state.recoveredAt).toBe("2026-11-22T23:00:00.000Z");
      await store.rememberRecovery(
        "fp:recovery",
        "2026-11-22T23:30:00.000Z",
        record.incident.id,
        until,
      );
      expect((await store.getFingerprint("fp:recovery")).recoveredAt).toBe(
        "2026-11-22T23:30:00.000Z",
      );
    });

    it("reads many fingerprints at once as it reads them one by one", async () => {
      // More than one batched read holds (100 keys), with every kind of pointer among them.
      const fingerprints = Array.from({ length: 130 }, (_, index) => `fp:many-${index}`);
      await Promise.all(
        fingerprints.map(async (fingerprint, index) => {
          if (index % 3 === 0) {
            const record = aRecord({ fingerprint });
            await store.save(record, null);
            await store.setCurrent(fingerprint, record.incident.id, 1);
            if (index % 2 === 0) {
              const at = "2026-11-22T23:00:00.000Z";
              await store.rememberRecovery(fingerprint, at, record.incident.id, START + DAY);
            }
          } else if (index % 3 === 1) {
            await store.rememberRecovery(
              fingerprint,
              "2026-11-22T23:00:00.000Z",
              null,
              START + DAY,
            );
          }
        }),
      );
      const states = await store.getFingerprints([...fingerprints, "fp:many-0"]);
      expect([...states.keys()].sort()).toEqual([...fingerprints].sort());
      for (const fingerprint of fingerprints) {
        expect(states.get(fingerprint)).toEqual(await store.getFingerprint(fingerprint));
      }
      expect(states.get("fp:many-0")?.recoveredAt).toBe("2026-11-22T23:00:00.000Z");
      expect(states.get("fp:many-3")?.record?.incident.fingerprint).toBe("fp:many-3");
      expect(states.get("fp:many-4")).toEqual({
        record: null,
        recoveredAt: "2026-11-22T23:00:00.000Z",
      });
      expect(states.get("fp:many-5")).toEqual({ record: null, recoveredAt: null });
    });

    it("forgets a recovery kept alone once its time has passed, and remembers anew", async () => {
      await store.rememberRecovery("fp:forget", "2026-11-22T23:00:00.000Z", null, START + DAY);
      clock.time = START + DAY + 1000;
      expect(await store.getFingerprint("fp:forget")).toEqual({ record: null, recoveredAt: null });
      await store.rememberRecovery("fp:forget", "2026-11-23T12:00:00.000Z", null, START + 2 * DAY);
      expect((await store.getFingerprint("fp:forget")).recoveredAt).toBe(
        "2026-11-23T12:00:00.000Z",
      );
    });

    it("archives delivery marks per fingerprint until their time, idempotently", async () => {
      const marks = Array.from({ length: 130 }, (_, index) => ({
        mark: `m${index}`,
        until: START + (index % 2 === 0 ? DAY : 2 * DAY),
      }));
      await store.archiveMarks("fp:marks", marks);
      await store.archiveMarks("fp:marks", marks.slice(0, 10));
      const asked = [...marks.map(({ mark }) => mark), "unknown"];
      expect((await store.findArchivedMarks("fp:marks", asked)).size).toBe(130);
      expect((await store.findArchivedMarks("fp:other", asked)).size).toBe(0);
      clock.time = START + DAY + 1000;
      const left = await store.findArchivedMarks("fp:marks", asked);
      expect([...left].sort()).toEqual(
        marks
          .filter((_, index) => index % 2 === 1)
          .map(({ mark }) => mark)
          .sort(),
      );
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
              // Sentry's are the checkout service's; CloudWatch's have no service.
              service: source === "sentry" ? "checkout" : null,
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

      it("filters by service, alone and with status", async () => {
        const checkout = await store.list({ limit: 100, service: "checkout" });
        expect(checkout.items.map((item) => item.service)).toEqual([
          "checkout",
          "checkout",
          "checkout",
        ]);
        expect(checkout.items.map((item) => item.source)).toEqual(["sentry", "sentry", "sentry"]);
        const open = await store.list({ limit: 2, status: "open", service: "checkout" });
        expect(open.items).toHaveLength(2);
        expect(open.nextCursor).not.toBeNull();
        expect((await store.list({ limit: 100, service: "orders-db" })).items).toEqual([]);
        const unassigned = await store.list({ limit: 100, source: "cloudwatch" });
        expect(unassigned.items.map((item) => item.service)).toEqual([null, null, null]);
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

    describe("retention", () => {
      /** A resolved incident with one timeline page, its fingerprint pointing at it. */
      async function resolvedIncident(fingerprint: string, at: string) {
        const record = aRecord({ fingerprint, at });
        const { id } = record.incident;
        await store.save(record, null);
        await store.setCurrent(fingerprint, id, 1);
        const paged = nextVersion(record, (next) => {
          next.timelinePages = 1;
        });
        await store.save(paged, { incidentId: id, page: 0, entries: record.timeline });
        const resolved = resolveByPerson(paged, "api:test", at, null).record;
        await store.save(resolved, null);
        return resolved;
      }
      const resolvedAt = "2026-11-22T12:00:00.000Z";
      const expiry = Date.parse(resolvedAt) + RETENTION;

      it("keeps a resolved incident until its retention has passed, then it is gone", async () => {
        const record = await resolvedIncident("fp:expire", resolvedAt);
        const { id } = record.incident;
        clock.time = expiry - 1000;
        expect(await store.get(id)).toEqual(record);
        expect((await store.getCurrent("fp:expire"))?.incident.id).toBe(id);
        expect(await store.getTimelinePages(id)).toHaveLength(1);
        expect(await store.expiredAt(id)).toBeNull();
        expect((await store.list({ limit: 10, status: "resolved" })).items).toHaveLength(1);

        clock.time = expiry;
        expect(await store.get(id)).toBeNull();
        expect(await store.getCurrent("fp:expire")).toBeNull();
        expect(await store.getTimelinePages(id)).toEqual([]);
        expect(await store.list({ limit: 10 })).toEqual({ items: [], nextCursor: null });
        expect(await store.list({ limit: 10, status: "resolved" })).toEqual({
          items: [],
          nextCursor: null,
        });
        expect(await store.expiredAt(id)).toBe(new Date(expiry).toISOString());
      });

      it("answers a report of an expired incident with a 404 that says why", async () => {
        const record = await resolvedIncident("fp:report", resolvedAt);
        const { id } = record.incident;
        expect(await loadIncident(store, id)).toEqual(record);
        clock.time = expiry + DAY;
        const error = await loadIncident(store, id).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as NotFoundError).message).toBe(
          `incident ${id} expired at ${new Date(expiry).toISOString()} under the retention policy (incidents.retention)`,
        );
        await expect(loadIncident(store, "ZZZZZZZ")).rejects.toThrow("no incident ZZZZZZZ");
      });

      it("lets the fingerprint start again at sequence 1 over its expired incident", async () => {
        const old = await resolvedIncident("fp:again", resolvedAt);
        clock.time = expiry + DAY;
        const fresh = aRecord({ fingerprint: "fp:again", at: new Date(clock.time).toISOString() });
        expect(fresh.incident.id).toBe(old.incident.id);
        await store.save(fresh, null);
        await expect(store.save(fresh, null)).rejects.toBeInstanceOf(VersionConflictError);
        await store.setCurrent("fp:again", fresh.incident.id, 1);
        expect(await store.getCurrent("fp:again")).toEqual(fresh);
        // The expired incident's page is not the new incident's.
        expect(await store.getTimelinePages(fresh.incident.id)).toEqual([]);
        expect((await store.list({ limit: 10 })).items.map((item) => item.id)).toEqual([
          fresh.incident.id,
        ]);
      });

      it("drops the expiry when a resolved incident is reopened", async () => {
        const resolved = await resolvedIncident("fp:reopen", resolvedAt);
        const reopened = nextVersion(resolved, (next) => {
          Object.assign(next.incident, { status: "triggered", resolvedAt: null, resolvedBy: null });
        });
        await store.save(reopened, null);
        clock.time = expiry + DAY;
        expect(await store.get(reopened.incident.id)).toEqual(reopened);
        expect((await store.getCurrent("fp:reopen"))?.incident.id).toBe(reopened.incident.id);
        expect(await store.getTimelinePages(reopened.incident.id)).toHaveLength(1);
      });
    });

    describe("due work", () => {
      const at = "2026-11-22T23:00:00.000Z";
      const quiet = 30 * 60_000;

      it("lists incidents the sweep has work for at a time, earliest first, and no others", async () => {
        const logs = aRecord({ fingerprint: "fp:due:logs", source: "logs", at });
        const later = aRecord({
          fingerprint: "fp:due:sentry",
          source: "sentry",
          at: "2026-11-22T23:10:00.000Z",
        });
        const alarm = aRecord({ fingerprint: "fp:due:alarm", source: "cloudwatch", at });
        for (const record of [later, alarm, logs]) await store.save(record, null);
        const received = (record: IncidentRecord) => Date.parse(record.lastReceivedAt as string);

        expect(await store.listDue(received(logs) + quiet - 1)).toEqual([]);
        expect(await store.listDue(received(logs) + quiet)).toEqual([logs.incident.id]);
        // Sentry's auto-resolve is 24h by default; the alarm has nothing due ever.
        expect(await store.listDue(received(later) + DAY)).toEqual([
          logs.incident.id,
          later.incident.id,
        ]);
        const resolved = resolveByPerson(logs, "api:test", at, null).record;
        await store.save(resolved, null);
        expect(await store.listDue(received(later) + DAY)).toEqual([later.incident.id]);
      });
    });

    it("says since when the longest-waiting planned action has been due", async () => {
      expect(await store.oldestPendingSince()).toBeNull();
      const waiting = (fingerprint: string, plannedAt: string, notBefore: string | null) =>
        nextVersion(aRecord({ fingerprint, at: plannedAt }), (next) => {
          next.actions.push({
            id: "a1",
            type: "page",
            rule: null,
            spec: { channel: "oncall" },
            targetKey: "page:oncall",
            trigger: "opened",
            status: "planned",
            reason: null,
            plannedAt,
            at: plannedAt,
            dryRun: false,
            requests: [],
            before: null,
            attempts: 0,
            notBefore,
            claim: null,
            approvedBy: null,
            followUp: null,
            page: null,
          } as unknown as IncidentRecord["actions"][number]);
        });
      const older = waiting("fp:pending:1", "2026-11-22T10:00:00.000Z", null);
      // Planned earlier, but backing off until later: it has waited less.
      const backingOff = waiting(
        "fp:pending:2",
        "2026-11-22T09:00:00.000Z",
        "2026-11-22T11:00:00.000Z",
      );
      for (const record of [older, backingOff]) {
        await store.save({ ...record, version: 1 }, null);
      }
      expect(await store.oldestPendingSince()).toBe("2026-11-22T10:00:00.000Z");
      const done = nextVersion({ ...older, version: 1 }, (next) => {
        for (const action of next.actions) action.status = "succeeded";
      });
      await store.save(done, null);
      expect(await store.oldestPendingSince()).toBe("2026-11-22T11:00:00.000Z");
    });

    it("lists many incidents across shards newest first, paging exactly", async () => {
      for (let index = 0; index < 30; index++) {
        const minute = String(index % 12).padStart(2, "0");
        const record = aRecord({
          fingerprint: `fp:many:${index}`,
          at: `2026-11-21T10:${minute}:00.000Z`,
        });
        await store.save(record, null);
        if (index % 5 === 0) {
          await store.save(resolveByPerson(record, "api:t", at(record), null).record, null);
        }
      }
      const all = await store.list({ limit: 100 });
      expect(all.items).toHaveLength(30);
      const open = all.items.filter((item) => item.status !== "resolved");
      expect(all.items.slice(0, open.length)).toEqual(open);
      for (const group of [open, all.items.slice(open.length)]) {
        const keys = group.map((item) => `${item.firstSeenAt}#${item.id}`);
        expect(keys).toEqual([...keys].sort().reverse());
      }
      for (const limit of [1, 4, 7, 30]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ limit, cursor });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((item) => item.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual(all.items.map((item) => item.id));
      }
    });
  });
}

const at = (record: IncidentRecord) => record.incident.firstSeenAt;
