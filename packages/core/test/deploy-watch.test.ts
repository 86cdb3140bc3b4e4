import { describe, expect, it } from "vitest";
import {
  type Change,
  deployWatchFor,
  type IncidentEvent,
  type IncidentRecord,
  newSilence,
  parseMatcher,
  planResponses,
  postmortemChanges,
  postmortemChangesMarkdown,
  watchedAlert,
} from "../src";
import { aChange, aConfig, aRecord, MemoryChangeStore } from "../src/testing";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const MINUTE = 60_000;
const iso = (time: number) => new Date(time).toISOString();
const opened: IncidentEvent[] = [{ type: "opened", at: iso(T0) }];
const lambda = { kind: "lambda-alias", functionName: "checkout-api", alias: "live" } as const;

const config = (watch: object, extra: object = {}) =>
  aConfig({
    rules: [{ name: "checkout", match: { alarmName: "checkout-*" }, severity: "critical" }],
    services: {
      checkout: {
        match: [{ source: "cloudwatch", alarmName: "checkout-*" }],
        changes: [{ functionName: "checkout-*" }],
        watch,
      },
    },
    ...extra,
  });

function incident(
  alarmName: string,
  severity: "critical" | "warning" = "critical",
): IncidentRecord {
  return aRecord({
    at: iso(T0),
    title: alarmName,
    fingerprint: `cloudwatch:123456789012:us-east-1:${alarmName}`,
    attributes: { alarmName, account: "123456789012", region: "us-east-1" },
    severity,
    rule: "checkout",
    service: "checkout",
  });
}

async function storeWith(...changes: Change[]) {
  const store = new MemoryChangeStore({ now: () => T0 }, 400 * 86_400_000);
  for (const change of changes) await store.record(change, { key: change.id, reusableAfter: null });
  return store;
}

const deploy = aChange({ id: "api:deploy-43", target: lambda, at: iso(T0 - 6 * MINUTE) });

describe("which incidents a deploy watch asks about", () => {
  it("an alarm in the list (globs), or any critical incident without a list", () => {
    const listed = config({ bake: "15m", alarms: ["checkout-5xx", "checkout-lat*"] });
    expect(watchedAlert(incident("checkout-5xx").incident, listed)).toBe("checkout-5xx");
    expect(watchedAlert(incident("checkout-latency").incident, listed)).toBe("checkout-latency");
    expect(watchedAlert(incident("checkout-cpu").incident, listed)).toBeNull();
    const any = config({ bake: "15m" });
    expect(watchedAlert(incident("checkout-cpu").incident, any)).toBe("checkout-cpu");
    expect(watchedAlert(incident("checkout-cpu", "warning").incident, any)).toBeNull();
  });

  it("finds the newest change within the bake window before the incident, on opening only", async () => {
    const older = aChange({
      id: "api:deploy-42",
      version: "42",
      target: lambda,
      at: iso(T0 - 10 * MINUTE),
    });
    const store = await storeWith(
      older,
      deploy,
      aChange({ id: "api:later", at: iso(T0 + MINUTE) }),
    );
    const watched = config({ bake: "15m", alarms: ["checkout-5xx"] });
    const record = incident("checkout-5xx");
    const caught = {
      change: deploy,
      alert: "checkout-5xx",
      alertStartedAt: record.incident.firstSeenAt,
    };
    expect(await deployWatchFor(store, record, opened, watched)).toEqual(caught);
    const retriggered: IncidentEvent[] = [{ type: "retriggered", at: iso(T0), count: 2 }];
    expect(await deployWatchFor(store, record, retriggered, watched)).toBeNull();
    const short = config({ bake: "5m", alarms: ["checkout-5xx"] });
    expect(await deployWatchFor(store, record, opened, short)).toBeNull();
    // The watched alarm joining an incident another alert opened is caught the same way...
    const joined: IncidentEvent[] = [{ type: "alert-joined", at: iso(T0), alert: "al2" }];
    expect(await deployWatchFor(store, record, joined, watched)).toEqual(caught);
    // ...once: not after the watch acted on the incident.
    const acted = planResponses(structuredClone(record), opened, {
      config: watched,
      now: T0,
      region: "us-east-1",
      deployWatch: caught,
    });
    expect(await deployWatchFor(store, acted, joined, watched)).toBeNull();
  });
});

describe("planning the rollback", () => {
  const plan = (record: IncidentRecord, settings: ReturnType<typeof config>, extra = {}) =>
    planResponses(record, opened, {
      config: settings,
      now: T0,
      region: "us-east-1",
      deployWatch: { change: deploy, alert: "checkout-5xx", alertStartedAt: iso(T0) },
      ...extra,
    });

  it("plans a last-change rollback of exactly that change, once, and says why", () => {
    const settings = config({ bake: "15m", alarms: ["checkout-5xx"] });
    const record = plan(incident("checkout-5xx"), settings);
    const rollbacks = record.actions.filter((action) => action.type === "rollback");
    expect(rollbacks).toEqual([
      expect.objectContaining({
        rule: "watch:checkout",
        trigger: "opened",
        status: "planned",
        dryRun: false,
        targetKey: "lambda-alias:us-east-1/checkout-api:live",
        reason:
          "rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window",
        spec: expect.objectContaining({
          type: "rollback",
          target: { ...lambda },
          change: { id: "api:deploy-43", version: "43", previousVersion: "42" },
        }),
      }),
    ]);
    expect(record.timeline.at(-1)).toMatchObject({
      type: "action",
      status: "planned",
      reason: "rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window",
    });
    // Planned again (a second reduction of the same opening): still one.
    const again = plan(record, settings);
    expect(again.actions.filter((action) => action.type === "rollback")).toHaveLength(1);
  });

  it("goes behind the guards: dry run, approval, a silence", () => {
    const dry = plan(
      incident("checkout-5xx"),
      config({ bake: "15m" }, { safety: { dryRun: true } }),
    );
    expect(dry.actions[0]).toMatchObject({ status: "planned", dryRun: true });

    const silence = newSilence({
      match: parseMatcher("alarmName=checkout-*"),
      matcher: "alarmName=checkout-*",
      reason: "deploying by hand",
      createdBy: "api:ops",
      duration: 3_600_000,
      now: T0 - MINUTE,
    });
    const held = plan(incident("checkout-5xx"), config({ bake: "15m" }), { silences: [silence] });
    expect(held.actions[0]).toMatchObject({ type: "rollback", status: "skipped" });
    expect(held.actions[0]?.reason).toMatch(/silenced/);
  });

  it("skips, saying why, a change with nothing to roll back to", () => {
    const record = planResponses(incident("checkout-5xx"), opened, {
      config: config({ bake: "15m" }),
      now: T0,
      region: "us-east-1",
      deployWatch: {
        change: { ...deploy, previousVersion: null },
        alert: "checkout-5xx",
        alertStartedAt: iso(T0),
      },
    });
    expect(record.actions[0]).toMatchObject({ type: "rollback", status: "skipped" });
    expect(record.actions[0]?.reason).toMatch(/no previous version/);
  });
});

describe("the post-mortem's changes", () => {
  it("says what changed before and what deploy watching rolled back", () => {
    const record = planResponses(incident("checkout-5xx"), opened, {
      config: config({ bake: "15m" }),
      now: T0,
      region: "us-east-1",
      deployWatch: { change: deploy, alert: "checkout-5xx", alertStartedAt: iso(T0) },
    });
    const [action] = record.actions;
    if (!action) throw new Error("no action planned");
    const before = postmortemChanges(record, record.timeline, [deploy]);
    expect(before.rolledBack).toEqual([]);
    action.status = "simulated";
    const section = postmortemChanges(record, record.timeline, [deploy]);
    expect(section).toEqual({
      before: ["changed 6 minutes before: checkout 42 → 43 by ci (commit abc123)"],
      rolledBack: [
        "rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window",
      ],
    });
    expect(postmortemChangesMarkdown(section, (text) => text.replace(/\*/g, "\\*"))).toEqual([
      "",
      "## Changes",
      "",
      "- **rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window**",
      "- changed 6 minutes before: checkout 42 → 43 by ci (commit abc123)",
    ]);
    expect(postmortemChangesMarkdown({ before: [], rolledBack: [] }, String)).toEqual([]);
  });
});
