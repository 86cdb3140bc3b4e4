import type { SentryEvent, SentryWebhook } from "@firebreak/events";
import { sentryProjectSlugFromUrl } from "@firebreak/events";
import { formatDuration } from "../duration";
import { clip, MAX_DETAIL, MAX_TITLE, normaliseLevel, type Signal } from "../signal";
import { sentryIssueFingerprint, sentryMetricAlertFingerprint } from "./fingerprint";
import { displaySafe } from "./text";
import { canonicalTime } from "./time";

export interface SentryDelivery {
  webhook: SentryWebhook;
  /** When Sentry sent it (`Sentry-Hook-Timestamp`, checked by {@link sentryHookTime}), ISO. */
  sentAt: string;
}

/** The trusted window around now, in ms (`incidents.trustedTime`). */
export interface TrustedWindow {
  past: number;
  future: number;
}

export type SentryHookTime = { ok: true; sentAt: string } | { ok: false; message: string };

/**
 * Sentry's send time from `Sentry-Hook-Timestamp` (Unix seconds), refused when missing,
 * malformed, or outside the trusted window around `now`. The header is not signed, so this
 * only turns away naive replays of old captures; what makes any replay harmless is the
 * delivery id taken from the signed body (see {@link signalFromSentry}).
 *
 * @example
 * const window = { past: 86_400_000, future: 300_000 };
 * sentryHookTime("1730815372", Date.parse("2024-11-05T14:03:00Z"), window);
 * // { ok: true, sentAt: "2024-11-05T14:02:52.000Z" }
 */
export function sentryHookTime(
  timestamp: string | undefined,
  now: number,
  window: TrustedWindow,
): SentryHookTime {
  const text = timestamp?.trim() ?? "";
  if (!/^\d{1,12}$/.test(text)) {
    return { ok: false, message: "Sentry-Hook-Timestamp is missing or not a number of seconds" };
  }
  const sent = Number(text) * 1000;
  if (sent < now - window.past || sent > now + window.future) {
    const trusted = `${formatDuration(window.past)} past to ${formatDuration(window.future)} ahead`;
    return { ok: false, message: `stale or future Sentry-Hook-Timestamp (trusted: ${trusted})` };
  }
  return { ok: true, sentAt: new Date(sent).toISOString() };
}

/**
 * A webhook's delivery id, from what its signed body identifies. `Request-ID` is not signed:
 * keyed by it, a captured webhook replayed with a fresh id would count again. Keyed by the
 * body, every copy of one notification is one delivery, which the correlator counts once.
 */
const deliveryIds = {
  /** An event (issue alert or error): two alert rules firing on one event are one occurrence. */
  event: (event: SentryEvent) => `sentry:event:${event.event_id.toLowerCase()}`,
  /** An issue change: the issue, the action and the issue's last event. */
  issue: (id: string, action: string, lastSeen: string) =>
    `sentry:issue:${id}:${action}:${canonicalTime(lastSeen)}`,
  /** A metric alert: the alert, the action and when it was detected (or closed). */
  metricAlert: (id: string, action: string, time: string | null | undefined) =>
    `sentry:metric-alert:${id}:${action}:${time ? canonicalTime(time) : "-"}`,
};

function fromEvent(event: SentryEvent, detail: string | null): Signal {
  const level = normaliseLevel(event.level);
  const project = sentryProjectSlugFromUrl(event.url);
  return displaySafe({
    source: "sentry",
    kind: "trigger",
    deliveryId: deliveryIds.event(event),
    fingerprint: sentryIssueFingerprint(event.issue_id),
    title: clip(event.title, MAX_TITLE),
    at: canonicalTime(event.datetime),
    attributes: {
      ...(level ? { level } : {}),
      message: clip(event.title, MAX_DETAIL),
      ...(project ? { project } : {}),
      ...(event.environment ? { environment: clip(event.environment, 256) } : {}),
    },
    link: { label: clip(`Sentry issue ${event.issue_id}`, MAX_TITLE), url: event.web_url },
    detail: detail ? clip(detail, MAX_DETAIL) : null,
  });
}

/**
 * A Sentry webhook as a signal, or null for what is not one (installation, comments, an issue
 * being assigned). Issues are keyed by issue id so `issue.resolved` closes what an
 * `event_alert` opened; metric alerts by alert rule id.
 */
export function signalFromSentry(delivery: SentryDelivery): Signal | null {
  const { webhook } = delivery;
  switch (webhook.resource) {
    case "event_alert": {
      const { event, triggered_rule } = webhook.body.data;
      return fromEvent(event, `Alert rule "${triggered_rule}": ${event.culprit ?? ""}`.trim());
    }
    case "error":
      return fromEvent(webhook.body.data.error, webhook.body.data.error.culprit ?? null);
    case "issue": {
      const { action } = webhook.body;
      const { issue } = webhook.body.data;
      if (action === "assigned") return null;
      const recovery = action === "resolved" || action === "archived" || action === "ignored";
      const level = normaliseLevel(issue.level);
      return displaySafe({
        source: "sentry",
        kind: recovery ? "recovery" : "trigger",
        deliveryId: deliveryIds.issue(issue.id, action, issue.lastSeen),
        fingerprint: sentryIssueFingerprint(issue.id),
        title: clip(issue.title, MAX_TITLE),
        at: recovery ? delivery.sentAt : canonicalTime(issue.lastSeen),
        attributes: {
          ...(level ? { level } : {}),
          message: clip(issue.title, MAX_DETAIL),
          project: issue.project.slug,
        },
        link: {
          label: clip(`Sentry ${issue.shortId}`, MAX_TITLE),
          ...(issue.permalink || issue.web_url ? { url: issue.permalink ?? issue.web_url } : {}),
        },
        detail: `Sentry issue ${action}${issue.culprit ? `: ${clip(issue.culprit, 500)}` : ""}`,
      });
    }
    case "metric_alert": {
      const { action, data } = webhook.body;
      const alert = data.metric_alert;
      const recovery = action === "resolved";
      return displaySafe({
        source: "sentry",
        kind: recovery ? "recovery" : "trigger",
        deliveryId: deliveryIds.metricAlert(
          alert.id,
          action,
          recovery ? alert.date_closed : (alert.date_detected ?? alert.date_started),
        ),
        fingerprint: sentryMetricAlertFingerprint(alert.alert_rule.id),
        title: clip(data.description_title, MAX_TITLE),
        // A trigger is when the alert changed status (warning, then critical): when it was sent.
        at: recovery ? canonicalTime(alert.date_closed ?? delivery.sentAt) : delivery.sentAt,
        attributes: {
          level: action === "critical" ? "fatal" : action === "warning" ? "warning" : "info",
          message: clip(data.description_title, MAX_DETAIL),
          ...(alert.projects?.[0] ? { project: alert.projects[0] } : {}),
        },
        link: {
          label: clip(`Sentry metric alert ${alert.alert_rule.name}`, MAX_TITLE),
          url: data.web_url,
        },
        detail: clip(data.description_text, MAX_DETAIL),
      });
    }
    default:
      return null;
  }
}
