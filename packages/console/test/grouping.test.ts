import { describe, expect, it } from "vitest";
import { metricChart } from "../app/components/metric-data";
import {
  changeLine,
  groupByService,
  httpUrl,
  ladderStep,
  markersOf,
  NO_SERVICE,
  servicesIn,
} from "../app/grouping";
import { forReading } from "../app/order";
import {
  type Action,
  ActionWire,
  type Alert,
  AlertWire,
  ChangeWire,
  type IncidentDetail,
  IncidentDetailWire,
  type IncidentItem,
  IncidentWire,
  MetricSeriesWire,
} from "../app/wire";

const T0 = "2026-12-02T12:00:00.000Z";

/** An incident as the API sends it, parsed by the console's own wire schema. */
function incident(fields: Partial<IncidentItem> & { id: string }): IncidentItem {
  return IncidentWire.parse({
    fingerprint: `fp-${fields.id}`,
    title: `incident ${fields.id}`,
    source: "cloudwatch",
    severity: "warning",
    status: "triggered",
    rule: null,
    count: 1,
    flapping: false,
    firstSeenAt: T0,
    lastSeenAt: T0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    sequence: 1,
    link: null,
    attributes: {},
    detail: null,
    silencedBy: null,
    service: null,
    runbook: null,
    mergedInto: null,
    ...fields,
  });
}

function action(fields: Partial<Action> & { id: string }): Action {
  return ActionWire.parse({
    type: "scale",
    rule: "availability",
    targetKey: "ecs-service:us-east-1/prod/checkout",
    trigger: "opened",
    status: "succeeded",
    reason: null,
    at: T0,
    plannedAt: T0,
    dryRun: false,
    requests: [],
    before: null,
    attempts: 1,
    approvedBy: null,
    verification: null,
    follows: null,
    ...fields,
  });
}

function alert(fields: Partial<Alert> & { id: string }): Alert {
  return AlertWire.parse({
    fingerprint: `fp-${fields.id}`,
    source: "cloudwatch",
    title: `alert ${fields.id}`,
    description: null,
    severity: "warning",
    status: "firing",
    count: 1,
    firstSeen: T0,
    lastSeen: T0,
    inhibitedBy: null,
    ...fields,
  });
}

function detail(
  item: IncidentItem,
  parts: { actions?: Action[]; alerts?: Alert[]; timeline?: IncidentDetail["timeline"] } = {},
): IncidentDetail {
  return IncidentDetailWire.parse({
    ...item,
    timeline: parts.timeline ?? [],
    actions: parts.actions ?? [],
    alerts: parts.alerts ?? [alert({ id: "al1" })],
    changes: [],
  });
}

describe("incidents grouped by service", () => {
  it("keeps the reading order inside each group; no service first, then services by name", () => {
    const items = forReading([
      incident({ id: "INFO001", severity: "info", service: "checkout" }),
      incident({ id: "WARN001", severity: "warning", service: "orders-db" }),
      incident({ id: "CRIT001", severity: "critical", service: null }),
      incident({ id: "CRIT002", severity: "critical", service: "checkout" }),
      incident({ id: "ACKD001", severity: "critical", status: "acknowledged", service: null }),
    ]);
    const groups = groupByService(items);
    expect(groups.map((group) => [group.label, group.items.map((item) => item.id)])).toEqual([
      [NO_SERVICE, ["CRIT001", "ACKD001"]],
      ["checkout", ["CRIT002", "INFO001"]],
      ["orders-db", ["WARN001"]],
    ]);
    expect(groups[0]?.service).toBeNull();
    // A new, more urgent incident does not move the groups.
    const more = groupByService(
      forReading([...items, incident({ id: "CRIT003", severity: "critical", service: null })]),
    );
    expect(more.map((group) => group.label)).toEqual([NO_SERVICE, "checkout", "orders-db"]);
    // Every incident is in exactly one group.
    expect(groups.flatMap((group) => group.items)).toHaveLength(items.length);
  });

  it("reads an older API's incidents (no service field) as having none", () => {
    const { service: _, ...older } = incident({ id: "OLDER01" });
    const groups = groupByService([IncidentWire.parse(older)]);
    expect(groups).toEqual([{ service: null, label: NO_SERVICE, items: [expect.anything()] }]);
  });

  it("offers every service seen so far in the filter, sorted", () => {
    const page = [
      incident({ id: "A000001", service: "orders-db" }),
      incident({ id: "A000002", service: null }),
      incident({ id: "A000003", service: "checkout" }),
    ];
    expect(servicesIn(page)).toEqual(["checkout", "orders-db"]);
    expect(servicesIn([], ["search"])).toEqual(["search"]);
  });
});

describe("markers", () => {
  it("counts the actions waiting for someone's approval", () => {
    const item = incident({ id: "APPR001" });
    const full = detail(item, {
      actions: [
        action({ id: "a1", type: "failover", status: "awaiting-approval" }),
        action({ id: "a2", type: "page", status: "succeeded" }),
        action({ id: "a3", type: "failover", status: "awaiting-approval" }),
      ],
    });
    expect(markersOf(item, full)).toEqual({ awaitingApproval: 2, hold: null });
    // Before its detail is read, only what the list carries shows.
    expect(markersOf(item)).toEqual({ awaitingApproval: 0, hold: null });
  });

  it("marks nothing on a resolved incident, whatever its actions say", () => {
    const item = incident({ id: "DONE001", status: "resolved", silencedBy: "S4K2PX" });
    const full = detail(item, {
      actions: [action({ id: "a1", status: "awaiting-approval" })],
    });
    expect(markersOf(item, full)).toEqual({ awaitingApproval: 0, hold: null });
  });

  it("says what holds an incident: a silence, an inhibiting incident, a maintenance window", () => {
    const silenced = incident({ id: "SILE001", silencedBy: "S4K2PX" });
    expect(markersOf(silenced).hold).toEqual({
      kind: "silence",
      text: "silenced by S4K2PX",
      incidentId: null,
    });

    const inhibited = incident({ id: "INHB001" });
    const byAlert = detail(inhibited, {
      alerts: [alert({ id: "al1" }), alert({ id: "al2", inhibitedBy: "DBDOWN1" })],
    });
    expect(markersOf(inhibited, byAlert).hold).toEqual({
      kind: "inhibition",
      text: "inhibited by incident DBDOWN1",
      incidentId: "DBDOWN1",
    });
    // A resolved alert no longer holds anything.
    const resolvedAlert = detail(inhibited, {
      alerts: [alert({ id: "al1", status: "resolved", inhibitedBy: "DBDOWN1" })],
    });
    expect(markersOf(inhibited, resolvedAlert).hold).toBeNull();

    const windowed = incident({ id: "MAIN001" });
    const held = detail(windowed, {
      actions: [
        action({
          id: "a1",
          status: "skipped",
          reason:
            "held by maintenance window db-patching until 2026-12-02T13:00:00.000Z (patching)",
        }),
      ],
    });
    expect(markersOf(windowed, held).hold).toEqual({
      kind: "maintenance",
      text: "held by maintenance window db-patching (patching)",
      incidentId: null,
    });
  });

  it("drops the hold once the timeline says it let go, and ignores other skips", () => {
    const item = incident({ id: "FREE001" });
    const heldAction = action({
      id: "a1",
      status: "skipped",
      reason: "inhibited by incident DBDOWN1 while it is open",
    });
    expect(markersOf(item, detail(item, { actions: [heldAction] })).hold).toMatchObject({
      kind: "inhibition",
      incidentId: "DBDOWN1",
    });
    const released = detail(item, {
      actions: [heldAction],
      timeline: [
        {
          type: "note",
          at: "2026-12-02T12:05:00.000Z",
          by: "hold",
          text: "no longer inhibited by incident DBDOWN1, and still open: responding now",
        },
      ],
    });
    expect(markersOf(item, released).hold).toBeNull();
    const cooldown = action({ id: "a2", status: "skipped", reason: "cooldown: scaled 3m ago" });
    expect(markersOf(item, detail(item, { actions: [cooldown] })).hold).toBeNull();
  });
});

describe("what an incident page says", () => {
  it("words a change as pages and the post-mortem do", () => {
    const change = ChangeWire.parse({
      id: "c1",
      service: "checkout",
      version: "43",
      previousVersion: "42",
      commit: "abc123",
      author: "ci",
      url: null,
      at: "2026-12-02T11:55:40.000Z",
      origin: "api",
    });
    expect(changeLine(change, Date.parse(T0))).toBe(
      "changed 4 minutes before: checkout 42 → 43 by ci (commit abc123)",
    );
    const bare = { ...change, previousVersion: null, author: null, commit: null };
    expect(changeLine(bare, Date.parse("2026-12-02T11:55:10.000Z"))).toBe(
      "changed 30 seconds after: checkout → 43",
    );
  });

  it("links only http(s) URLs", () => {
    expect(httpUrl("https://wiki.example.com/runbooks/checkout")).toBe(
      "https://wiki.example.com/runbooks/checkout",
    );
    expect(httpUrl("http://intranet/runbook")).toBe("http://intranet/runbook");
    for (const unsafe of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "//evil.example.com",
      "see the wiki",
      "",
      null,
    ]) {
      expect(httpUrl(unsafe)).toBeNull();
    }
  });

  it("names a ladder step by the action it follows", () => {
    expect(ladderStep(action({ id: "a4", follows: { action: "a3", root: "a1", step: 1 } }))).toBe(
      "step 2 of a1's ladder, after a3 was ineffective",
    );
    expect(ladderStep(action({ id: "a1" }))).toBeNull();
  });
});

describe("the alarm's metric chart", () => {
  const series = MetricSeriesWire.parse({
    alarmName: "checkout-5xx",
    label: "AWS/ApplicationELB HTTPCode_Target_5XX_Count (Sum, 60s)",
    periodSeconds: 60,
    statistic: "Sum",
    threshold: 50,
    comparison: "GreaterThanThreshold",
    unit: null,
    points: [
      { at: "2026-12-02T11:58:00.000Z", value: 5 },
      { at: "2026-12-02T12:01:00.000Z", value: 120 },
      { at: "2026-12-02T12:00:00.000Z", value: 80 },
      { at: "2026-12-02T12:06:00.000Z", value: 10 },
    ],
  });
  const range = { start: Date.parse(T0) - 3_600_000, end: Date.parse("2026-12-02T12:10:00Z") };

  it("orders the points and keeps the threshold and the peak on the value axis", () => {
    const data = metricChart(series, [], range);
    expect(data.points.map((point) => point.value)).toEqual([5, 80, 120, 10]);
    expect(data.min).toBe(0);
    expect(data.max).toBeGreaterThan(120);
    expect(data.threshold).toBe(50);
    const low = metricChart({ ...series, threshold: 500 }, [], range);
    expect(low.max).toBeGreaterThan(500);
  });

  it("marks the actions that ran, not pages nor ones still waiting", () => {
    const data = metricChart(
      series,
      [
        action({ id: "a1", at: "2026-12-02T12:02:00.000Z", status: "succeeded" }),
        action({ id: "a2", type: "page", at: "2026-12-02T12:00:10.000Z" }),
        action({ id: "a3", type: "failover", status: "awaiting-approval" }),
        action({ id: "a4", type: "rollback", at: "2026-12-02T12:04:00.000Z", status: "failed" }),
      ],
      range,
    );
    expect(data.marks.map((mark) => mark.title)).toEqual([
      "a1 scale succeeded",
      "a4 rollback failed",
    ]);
  });

  it("draws an empty series without failing", () => {
    const data = metricChart({ ...series, points: [], threshold: null }, [], range);
    expect(data).toMatchObject({ points: [], min: 0 });
    expect(data.max).toBeGreaterThan(data.min);
  });
});
