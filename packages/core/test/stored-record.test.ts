import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ActionRecord, type IncidentRecord, IncidentRecordSchema, storedRecord } from "../src";
import { anAction, aRecord } from "../src/testing";

const AT = "2026-11-26T10:00:00.000Z";
const LATER = "2026-11-26T10:05:00.000Z";
const link = { label: "Sentry issue 1", url: "https://sentry.io/organizations/acme/issues/1/" };

/** A planned page to `channel`, as the planner writes it. */
const aPage = (channel: string): ActionRecord =>
  anAction({
    type: "page",
    rule: "errors",
    spec: { channel, kind: "page" },
    targetKey: `page:${channel}`,
    status: "planned",
    reason: null,
    plannedAt: AT,
    at: AT,
    page: {
      channel,
      kind: "page",
      text: "",
      deliveries: { sns: { status: "pending", attempts: 0, detail: null, notBefore: null } },
    },
  });

const readBack = (record: IncidentRecord) =>
  IncidentRecordSchema.parse(JSON.parse(JSON.stringify(storedRecord(record))));

describe("an incident record as stored", () => {
  it("leaves out what its incident already says, and reads back whole", () => {
    const record = aRecord({ link, rule: "errors" });
    record.actions.push(aPage("oncall"));
    const stored = JSON.parse(JSON.stringify(storedRecord(record)));
    // The one alert repeats its incident: only its own id and status are written.
    expect(stored.alerts).toEqual([{ id: "al1", status: "firing" }]);
    expect(stored.incident).not.toHaveProperty("acknowledgedAt");
    expect(stored).not.toHaveProperty("opens");
    expect(stored.actions[0]).not.toHaveProperty("spec");
    expect(stored.actions[0]).not.toHaveProperty("claim");
    expect(stored.actions[0].page.deliveries.sns).toEqual({ status: "pending" });
    expect(stored.timeline[0]).not.toHaveProperty("flapping");
    expect(JSON.stringify(stored).length).toBeLessThan(0.7 * JSON.stringify(record).length);
    expect(readBack(record)).toStrictEqual(record);
  });

  it("reads back any record whole, whichever fields differ from their usual value", () => {
    const maybe = <T>(value: T) => fc.option(fc.constant(value), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          acknowledged: maybe(LATER),
          detail: maybe(null),
          incidentLink: fc.option(fc.constant(link), { nil: null }),
          alertLink: fc.option(fc.constant(link), { nil: null }),
          alertTitle: maybe("another title"),
          alertRule: maybe(null),
          alertCount: maybe(7),
          secondAlert: fc.boolean(),
          lastTriggerAt: maybe(LATER),
          lastSignalEntryAt: maybe(null),
          opens: maybe([AT, LATER]),
          page: fc.constantFrom("none", "page", "remediation", "odd spec"),
          escalation: maybe({ repeats: 1, nextAt: LATER }),
          entryReason: fc.option(fc.constant("sent via sns"), { nil: null }),
          flapping: fc.boolean(),
          delivery: maybe({ attempts: 2, detail: "local outbox", notBefore: LATER }),
        }),
        (choice) => {
          const record = aRecord({ link: choice.incidentLink, rule: "errors" });
          const [alert] = record.alerts as [IncidentRecord["alerts"][number]];
          if (choice.acknowledged) {
            record.incident.acknowledgedAt = choice.acknowledged;
            record.incident.acknowledgedBy = "ana";
          }
          if (choice.detail === null) record.incident.detail = null;
          alert.link = choice.alertLink;
          if (choice.alertTitle) alert.title = choice.alertTitle;
          if (choice.alertRule === null) alert.rule = null;
          if (choice.alertCount) alert.count = choice.alertCount;
          if (choice.secondAlert) record.alerts.push({ ...alert, id: "al2", fingerprint: "other" });
          if (choice.lastTriggerAt) record.lastTriggerAt = choice.lastTriggerAt;
          if (choice.lastSignalEntryAt === null) record.lastSignalEntryAt = null;
          if (choice.opens) record.opens = choice.opens;
          if (choice.escalation) record.escalation = choice.escalation;
          const opened = record.timeline[0];
          if (opened?.type === "opened") opened.flapping = choice.flapping;
          record.timeline.push({
            type: "action",
            at: LATER,
            id: "a1",
            action: "page",
            target: "page:oncall",
            status: "succeeded",
            reason: choice.entryReason,
          });
          if (choice.page !== "none") {
            const action = aPage("oncall");
            if (choice.delivery && action.page?.deliveries.sns) {
              Object.assign(action.page.deliveries.sns, choice.delivery);
            }
            if (choice.page === "remediation") {
              Object.assign(action, { type: "scale", spec: { target: "x" }, page: null });
              action.targetKey = "ecs-service:us-east-1/prod/api";
            }
            if (choice.page === "odd spec")
              action.spec = { channel: "oncall", kind: "page", extra: 1 };
            record.actions.push(action);
          }
          expect(readBack(record)).toStrictEqual(record);
        },
      ),
    );
  });
});
