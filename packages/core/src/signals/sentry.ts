import type { SentryEvent, SentryWebhook } from "@firebreak/events";
import { sentryProjectSlugFromUrl } from "@firebreak/events";
import { clip, MAX_DETAIL, MAX_TITLE, normaliseLevel, type Signal } from "../signal";
import { sentryIssueFingerprint, sentryMetricAlertFingerprint } from "./fingerprint";
import { displaySafe } from "./text";
import { canonicalTime } from "./time";

export interface SentryDelivery {
  webhook: SentryWebhook;
  /** The `Request-ID` header: the delivery's identity. */
  requestId: string;
  /** When Sentry sent it (`Sentry-Hook-Timestamp`), canonical ISO. */
  sentAt: string;
}

function fromEvent(event: SentryEvent, delivery: SentryDelivery, detail: string | null): Signal {
  const level = normaliseLevel(event.level);
  const project = sentryProjectSlugFromUrl(event.url);
  return displaySafe({
    source: "sentry",
    kind: "trigger",
    deliveryId: delivery.requestId,
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
      return fromEvent(
        event,
        delivery,
        `Alert rule "${triggered_rule}": ${event.culprit ?? ""}`.trim(),
      );
    }
    case "error":
      return fromEvent(webhook.body.data.error, delivery, webhook.body.data.error.culprit ?? null);
    case "issue": {
      const { action } = webhook.body;
      const { issue } = webhook.body.data;
      if (action === "assigned") return null;
      const recovery = action === "resolved" || action === "archived" || action === "ignored";
      const level = normaliseLevel(issue.level);
      return displaySafe({
        source: "sentry",
        kind: recovery ? "recovery" : "trigger",
        deliveryId: delivery.requestId,
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
        deliveryId: delivery.requestId,
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
