import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { listEvents, loadEvent, loadRawEvent } from "../fixtures";
import {
  parseSentryWebhook,
  SentryHeadersSchema,
  SentryResourceSchema,
  type SentryWebhook,
  sentryProjectSlugFromUrl,
} from "../schemas/sentry";
import { breakFixture, issuePaths, REMOVE } from "./helpers";

const SECRET = "0f3c9b2e7d1a4c8f9e6b5a4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f";

const HeadersFileSchema = z.record(
  z.string(),
  z.object({ "Sentry-Hook-Resource": SentryResourceSchema, "Request-ID": z.string() }),
);
const deliveries = HeadersFileSchema.parse(loadEvent("sentry/headers.json"));
const bodies = listEvents("sentry").filter((name) => name !== "sentry/headers.json");

const fileOf = (name: string) => name.replace(/^sentry\//, "");
const resourceOf = (name: string) =>
  deliveries[fileOf(name)]?.["Sentry-Hook-Resource"] ?? expect.unreachable(name);

/** Parses a body fixture against the resource headers.json names for it. */
function webhook(name: string): SentryWebhook {
  const result = parseSentryWebhook(resourceOf(name), loadEvent(name));
  if (!result.success) throw new Error(`${name}: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** The full header set Sentry would send for a fixture, signed over the file's exact bytes. */
function signedHeaders(name: string): Record<string, string> {
  const delivery = deliveries[fileOf(name)] ?? expect.unreachable(name);
  return {
    "Content-Type": "application/json",
    "Request-ID": delivery["Request-ID"],
    "Sentry-Hook-Resource": delivery["Sentry-Hook-Resource"],
    "Sentry-Hook-Timestamp": "1730815372",
    "Sentry-Hook-Signature": createHmac("sha256", SECRET).update(loadRawEvent(name)).digest("hex"),
  };
}

const lowerCased = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

describe("sentry fixtures", () => {
  it("names a resource and Request-ID in headers.json for every body, and only those", () => {
    expect(Object.keys(deliveries).sort()).toEqual(bodies.map(fileOf));
  });

  it.each(bodies)("%s parses against the resource its headers name", (name) => {
    expect(webhook(name).resource).toBe(resourceOf(name));
  });

  it.each(bodies)("%s arrives with headers that parse, in either letter case", (name) => {
    const headers = signedHeaders(name);
    const expected = {
      requestId: headers["Request-ID"],
      resource: resourceOf(name),
      timestamp: 1730815372,
      signature: headers["Sentry-Hook-Signature"],
    };
    expect(SentryHeadersSchema.parse(headers)).toEqual(expected);
    expect(SentryHeadersSchema.parse(lowerCased(headers))).toEqual(expected);
  });

  it("keeps Sentry's raw bytes: re-serialised JSON would not verify", () => {
    const raw = loadRawEvent("sentry/error-created.json");
    expect(raw).toContain("\\u00cele-de-France");
    const reserialised = JSON.stringify(JSON.parse(raw));
    const sign = (body: string) => createHmac("sha256", SECRET).update(body).digest("hex");
    expect(sign(reserialised)).not.toBe(
      signedHeaders("sentry/error-created.json")["Sentry-Hook-Signature"],
    );
  });

  it("folds the issue alert, the error and the issue lifecycle onto one Sentry issue", () => {
    const issueIds = [
      "event-alert-triggered",
      "error-created",
      "issue-created",
      "issue-resolved",
      "issue-unresolved",
      "issue-archived",
    ].map((file) => {
      const { resource, body } = webhook(`sentry/${file}.json`);
      if (resource === "event_alert") return body.data.event.issue_id;
      if (resource === "error") return body.data.error.issue_id;
      if (resource === "issue") return body.data.issue.id;
      return expect.unreachable(resource);
    });
    expect(new Set(issueIds)).toEqual(new Set(["5873421906"]));
  });

  it("finds the project slug only in the event's API url", () => {
    const { resource, body } = webhook("sentry/event-alert-triggered.json");
    if (resource !== "event_alert") expect.unreachable();
    expect(body.data.event.project).toBeTypeOf("number");
    expect(sentryProjectSlugFromUrl(body.data.event.url)).toBe("checkout");
  });

  it("shares one alert rule and one Sentry incident across the metric alert states", () => {
    const alerts = ["warning", "critical", "resolved"].map((action) => {
      const { resource, body } = webhook(`sentry/metric-alert-${action}.json`);
      if (resource !== "metric_alert") expect.unreachable();
      expect(body.action).toBe(action);
      return body.data.metric_alert;
    });
    expect(new Set(alerts.map((alert) => alert.alert_rule.id))).toEqual(new Set(["84213"]));
    expect(new Set(alerts.map((alert) => alert.identifier)).size).toBe(1);
  });

  it("accepts the older 'ignored' action without a substatus", () => {
    const { resource, body } = webhook("sentry/issue-ignored.json");
    if (resource !== "issue") expect.unreachable();
    expect(body.action).toBe("ignored");
    expect(body.data.issue.substatus).toBeUndefined();
  });
});

describe("sentryProjectSlugFromUrl", () => {
  it.each([
    ["https://sentry.io/api/0/projects/acme/checkout/events/e52b9c0f7d6a4e81/", "checkout"],
    ["https://sentry.example.com/api/0/projects/acme/check%20out/events/ab/", "check out"],
    ["https://sentry.io/api/0/projects/acme/checkout/events/ab", "checkout"],
  ])("reads %s", (url, slug) => {
    expect(sentryProjectSlugFromUrl(url)).toBe(slug);
  });

  it.each([
    "https://sentry.io/organizations/acme/issues/5873421906/events/ab/",
    "https://sentry.io/api/0/issues/5873421906/",
    "not a url",
  ])("returns undefined for %s", (url) => {
    expect(sentryProjectSlugFromUrl(url)).toBeUndefined();
  });
});

describe("broken Sentry deliveries name the broken field", () => {
  it("an unknown resource", () => {
    const result = parseSentryWebhook("seer", loadEvent("sentry/issue-created.json"));
    expect(issuePaths(result)).toEqual(["resource"]);
  });

  it("a body sent under the wrong resource", () => {
    const result = parseSentryWebhook("issue", loadEvent("sentry/metric-alert-critical.json"));
    expect(issuePaths(result)).toContain("body.action");
  });

  it.each([
    ["issue-created", ["data", "issue", "id"], REMOVE, "body.data.issue.id"],
    ["issue-resolved", ["action"], "closed", "body.action"],
    ["issue-created", ["data", "issue", "count"], 1, "body.data.issue.count"],
    [
      "event-alert-triggered",
      ["data", "event", "issue_id"],
      5873421906,
      "body.data.event.issue_id",
    ],
    [
      "event-alert-triggered",
      ["data", "event", "url"],
      "https://sentry.io/organizations/acme/issues/5873421906/",
      "body.data.event.url",
    ],
    ["error-created", ["data", "error", "project"], "checkout", "body.data.error.project"],
    [
      "metric-alert-critical",
      ["data", "metric_alert", "alert_rule"],
      REMOVE,
      "body.data.metric_alert.alert_rule",
    ],
    ["installation-created", ["installation"], REMOVE, "body.installation"],
    ["issue-archived", ["actor", "type"], "robot", "body.actor.type"],
  ] as const)("%s with %j broken", (file, path, value, expected) => {
    const name = `sentry/${file}.json`;
    const result = parseSentryWebhook(resourceOf(name), breakFixture(name, path, value));
    expect(issuePaths(result)).toEqual([expected]);
  });

  it.each([
    ["Sentry-Hook-Signature", undefined, "sentry-hook-signature"],
    ["Sentry-Hook-Signature", "sha256=abc", "sentry-hook-signature"],
    ["Sentry-Hook-Timestamp", "2024-11-05T14:02:52Z", "sentry-hook-timestamp"],
    ["Request-ID", "req-1", "request-id"],
  ])("headers with %s = %j", (header, value, expected) => {
    const headers: Record<string, string | undefined> = signedHeaders("sentry/issue-created.json");
    headers[header] = value;
    expect(issuePaths(SentryHeadersSchema.safeParse(headers))).toEqual([expected]);
  });

  it("headers with a repeated signature", () => {
    const headers = { ...lowerCased(signedHeaders("sentry/issue-created.json")) };
    const repeated = {
      ...headers,
      "sentry-hook-signature": [headers["sentry-hook-signature"] ?? "", "00"],
    };
    expect(issuePaths(SentryHeadersSchema.safeParse(repeated))).toEqual(["sentry-hook-signature"]);
  });
});
