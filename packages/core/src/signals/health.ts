import type { HealthCategory, HealthEvent, HealthEventDetail } from "@firebreak/events";
import { AWS_REGION_CODE } from "@firebreak/events";
import type { Severity } from "../severity";
import { clip, MAX_DETAIL, MAX_TITLE, type Signal } from "../signal";
import { shortHash } from "./fingerprint";
import { displaySafe } from "./text";
import { canonicalTime } from "./time";

/** How many affected entities the detail names before it counts the rest. */
const NAMED_ENTITIES = 10;

/**
 * Default severities, after the AWS Health user guide's categories: an `issue` is a service
 * event that may affect you, critical when it is about your account's own resources
 * (`eventScopeCode` ACCOUNT_SPECIFIC, or affected entities named) and a warning when it is a
 * public event of the region; an `investigation` (AWS is looking into a possible issue) and a
 * `scheduledChange` (maintenance ahead, `upcoming`) are warnings; an `accountNotification`
 * (billing, certificate and policy notices) informs. Rules override all of them.
 */
export function healthSeverity(detail: HealthEventDetail): Severity {
  const category: HealthCategory = detail.eventTypeCategory;
  if (category === "accountNotification") return "info";
  if (category !== "issue") return "warning";
  const yours = detail.eventScopeCode === "ACCOUNT_SPECIFIC" || !!detail.affectedEntities?.length;
  return yours ? "critical" : "warning";
}

/**
 * An AWS Health event, keyed by account and event ARN: AWS says an event ARN "isn't unique to a
 * specific AWS account or Region", and an organizational view delivers one event per affected
 * account.
 */
export const healthFingerprint = (account: string, eventArn: string) =>
  `health:${account}:${eventArn}`;

function description(detail: HealthEventDetail): string {
  const english = detail.eventDescription.find(({ language }) => language.startsWith("en"));
  return (english ?? detail.eventDescription[0])?.latestDescription.trim() ?? "";
}

function affected(detail: HealthEventDetail): string {
  const entities = (detail.affectedEntities ?? []).map(({ entityValue }) => entityValue);
  if (entities.length === 0) return "";
  const named = entities.slice(0, NAMED_ENTITIES).join(", ");
  const more = entities.length - NAMED_ENTITIES;
  return ` Affected: ${named}${more > 0 ? ` (+${more} more)` : ""}.`;
}

/**
 * An "AWS Health Event": `open` and `upcoming` trigger, `closed` recovers what they started. The
 * delivery id is the event's state (account, ARN, status, `lastUpdatedTime`): AWS advises rules
 * in a backup region too, and sends public events to both, so the same update arrives twice
 * with different envelope ids.
 */
export function signalFromHealth(event: HealthEvent): Signal {
  const { detail } = event;
  const account = detail.affectedAccount ?? event.account;
  const region =
    detail.eventRegion && AWS_REGION_CODE.test(detail.eventRegion)
      ? detail.eventRegion
      : event.region;
  const status = detail.statusCode ?? "open";
  const text = description(detail);
  const version = detail.lastUpdatedTime ?? event.id;
  const url = detail.eventArn.startsWith("arn:aws:health:")
    ? `https://health.aws.amazon.com/health/home#/account/event-log?eventID=${encodeURIComponent(detail.eventArn)}`
    : undefined;
  return displaySafe({
    source: "health",
    kind: status === "closed" ? "recovery" : "trigger",
    deliveryId: `health:${shortHash([account, detail.eventArn, status, version].join("\n"))}`,
    fingerprint: healthFingerprint(account, detail.eventArn),
    title: clip(
      `${detail.service} ${detail.eventTypeCategory}: ${detail.eventTypeCode}`,
      MAX_TITLE,
    ),
    at: canonicalTime(event.time),
    attributes: {
      account,
      region,
      eventTypeCode: detail.eventTypeCode,
      ...(text ? { message: clip(text, MAX_DETAIL) } : {}),
    },
    suggestedSeverity: healthSeverity(detail),
    link: {
      label: clip(`AWS Health event ${detail.eventTypeCode}`, MAX_TITLE),
      arn: detail.eventArn,
      ...(url ? { url } : {}),
    },
    detail: clip(`${status}: ${text}${affected(detail)}`, MAX_DETAIL),
  });
}
