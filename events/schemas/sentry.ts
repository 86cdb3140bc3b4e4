import * as z from "zod";

// Sentry integration-platform webhooks, after getsentry/sentry-docs
// `docs/organization/integrations/integration-platform/webhooks*.mdx`. Bodies use stripping
// objects (Sentry adds fields); the fields Firebreak keys and routes on are validated tightly.

/** The `Sentry-Hook-Resource` values the integration platform documents. */
export const SentryResourceSchema = z.enum([
  "installation",
  "event_alert",
  "issue",
  "metric_alert",
  "error",
  "comment",
]);
export type SentryResource = z.infer<typeof SentryResourceSchema>;

/** Sentry sends `uuid4().hex` (no dashes); a dashed UUID is accepted as well. */
const RequestIdSchema = z
  .string()
  .regex(
    /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
    "Expected a UUID (Sentry sends 32 hex digits)",
  );

type HeaderValue = string | readonly string[] | undefined;

function lowerCaseHeaders(headers: Record<string, HeaderValue>): Record<string, HeaderValue> {
  const lowered: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(headers)) {
    // A repeated header arrives as an array: unwrap a single value, let several fail validation.
    lowered[name.toLowerCase()] = Array.isArray(value) && value.length === 1 ? value[0] : value;
  }
  return lowered;
}

/**
 * The Sentry webhook headers, from a header record in any letter case (Node and API Gateway v2
 * lower-case names, API Gateway v1 keeps them as sent). Issues name the lower-case header.
 * `resource` stays a plain string: newer resources (Seer, preprod artifacts) should be
 * acknowledged after the signature check, then ignored; {@link parseSentryWebhook} decides.
 *
 * @example
 * ```ts
 * const headers = SentryHeadersSchema.parse(event.headers);
 * verify(rawBody, headers.signature); // hex HMAC-SHA256 of the raw body
 * ```
 */
export const SentryHeadersSchema = z
  .record(z.string(), z.union([z.string(), z.array(z.string())]).optional())
  .transform(lowerCaseHeaders)
  .pipe(
    z.object({
      "request-id": RequestIdSchema,
      "sentry-hook-resource": z.string().min(1),
      "sentry-hook-timestamp": z.string().regex(/^\d+$/, "Expected Unix seconds"),
      "sentry-hook-signature": z
        .string()
        .regex(/^[0-9a-f]{64}$/i, "Expected a hex HMAC-SHA256 digest"),
    }),
  )
  .transform((headers) => ({
    requestId: headers["request-id"],
    resource: headers["sentry-hook-resource"],
    /** Unix seconds at send time, for replay windows. */
    timestamp: Number(headers["sentry-hook-timestamp"]),
    signature: headers["sentry-hook-signature"].toLowerCase(),
  }));
export type SentryHeaders = z.infer<typeof SentryHeadersSchema>;

const SentryLevelSchema = z.enum(["fatal", "error", "warning", "info", "debug"]);

const NumericIdSchema = z.string().regex(/^\d+$/, "Expected a numeric id string");

/** Sentry datetimes: `2019-08-19T21:06:17.677000Z` (microseconds, always UTC). */
const SentryDateTimeSchema = z.iso.datetime({ offset: true });

const SentryActorSchema = z.object({
  type: z.enum(["user", "application"]),
  // "sentry" for Sentry itself, the app's UUID for an integration, a number for a user.
  id: z.union([z.string(), z.number()]),
  name: z.string(),
});

/**
 * What every Sentry webhook body has: `action`, `installation.uuid`, `data`, `actor`.
 * The resource-specific schemas below narrow `action` and `data`.
 */
export const SentryWebhookBodySchema = z.object({
  action: z.string().min(1),
  installation: z.object({ uuid: z.string().min(1) }),
  data: z.record(z.string(), z.unknown()),
  actor: SentryActorSchema,
});
export type SentryWebhookBody = z.infer<typeof SentryWebhookBodySchema>;

const API_EVENT_URL = /\/api\/0\/projects\/([^/]+)\/([^/]+)\/events\/[^/]+\/?$/;

/**
 * The project slug from an event's API `url` (`.../api/0/projects/{org}/{slug}/events/{id}/`).
 * `event_alert` and `error` payloads carry only the numeric project id otherwise.
 *
 * @example
 * ```ts
 * sentryProjectSlugFromUrl("https://sentry.io/api/0/projects/acme/checkout/events/ab12/");
 * // "checkout"
 * ```
 */
export function sentryProjectSlugFromUrl(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const slug = API_EVENT_URL.exec(pathname)?.[2];
  return slug === undefined ? undefined : decodeURIComponent(slug);
}

const SentryStackFrameSchema = z.object({
  filename: z.string().nullish(),
  abs_path: z.string().nullish(),
  module: z.string().nullish(),
  function: z.string().nullish(),
  lineno: z.number().nullish(),
  colno: z.number().nullish(),
  in_app: z.boolean().nullish(),
});

const SentryExceptionSchema = z.object({
  values: z
    .array(
      z.object({
        type: z.string().nullish(),
        value: z.string().nullish(),
        module: z.string().nullish(),
        mechanism: z
          .object({ type: z.string().nullish(), handled: z.boolean().nullish() })
          .nullish(),
        stacktrace: z.object({ frames: z.array(SentryStackFrameSchema).nullish() }).nullish(),
      }),
    )
    .nullish(),
});

/**
 * `data.event` of an `event_alert` and `data.error` of an `error` webhook. `issue_id` is a
 * string, `project` the numeric project id; the slug is only in `url`.
 */
export const SentryEventSchema = z.object({
  event_id: z.string().regex(/^[0-9a-f]{32}$/i, "Expected a 32-hex-digit event id"),
  issue_id: NumericIdSchema,
  issue_url: z.url(),
  web_url: z.url(),
  url: z.url().refine((url) => sentryProjectSlugFromUrl(url) !== undefined, {
    message: "Expected the API event URL .../api/0/projects/{org}/{slug}/events/{event_id}/",
  }),
  title: z.string(),
  level: SentryLevelSchema,
  culprit: z.string().nullish(),
  platform: z.string(),
  project: z.number().int(),
  datetime: SentryDateTimeSchema,
  /** Unix seconds with a fraction. */
  timestamp: z.number(),
  fingerprint: z.array(z.string()),
  exception: SentryExceptionSchema.nullish(),
  tags: z.array(z.tuple([z.string(), z.string()])).nullish(),
  release: z.string().nullish(),
  environment: z.string().nullish(),
});
export type SentryEvent = z.infer<typeof SentryEventSchema>;

/** `Sentry-Hook-Resource: event_alert`: an issue alert rule fired. */
export const SentryEventAlertBodySchema = SentryWebhookBodySchema.extend({
  action: z.literal("triggered"),
  data: z.object({
    event: SentryEventSchema,
    triggered_rule: z.string(),
    // Documented as an object, sent as a list of { name, value } in the sample: take either.
    issue_alert: z
      .object({
        title: z.string(),
        settings: z
          .union([
            z.array(z.object({ name: z.string(), value: z.unknown() })),
            z.record(z.string(), z.unknown()),
          ])
          .nullish(),
      })
      .optional(),
  }),
});
export type SentryEventAlertBody = z.infer<typeof SentryEventAlertBodySchema>;

/** `Sentry-Hook-Resource: error`: a new error event (Business plan). */
export const SentryErrorBodySchema = SentryWebhookBodySchema.extend({
  action: z.literal("created"),
  data: z.object({ error: SentryEventSchema }),
});
export type SentryErrorBody = z.infer<typeof SentryErrorBodySchema>;

/** `issue` webhook actions; `ignored` is what older Sentry sends for `archived`. */
export const SentryIssueActionSchema = z.enum([
  "created",
  "resolved",
  "assigned",
  "archived",
  "unresolved",
  "ignored",
]);

/** `data.issue` of an `issue` webhook. `count` is a string, `userCount` a number. */
export const SentryIssueSchema = z.object({
  id: NumericIdSchema,
  shortId: z.string().min(1),
  title: z.string(),
  culprit: z.string().nullish(),
  level: SentryLevelSchema,
  status: z.enum(["resolved", "unresolved", "ignored"]),
  substatus: z
    .enum([
      "archived_until_escalating",
      "archived_until_condition_met",
      "archived_forever",
      "escalating",
      "ongoing",
      "regressed",
      "new",
    ])
    .nullish(),
  statusDetails: z.record(z.string(), z.unknown()).nullish(),
  count: NumericIdSchema,
  userCount: z.number().int().nonnegative(),
  firstSeen: SentryDateTimeSchema,
  lastSeen: SentryDateTimeSchema,
  permalink: z.url().nullish(),
  url: z.url().optional(),
  web_url: z.url().optional(),
  project_url: z.url().optional(),
  platform: z.string().nullish(),
  project: z.object({
    id: NumericIdSchema,
    name: z.string(),
    slug: z.string().min(1),
    platform: z.string().nullish(),
  }),
});
export type SentryIssue = z.infer<typeof SentryIssueSchema>;

/** `Sentry-Hook-Resource: issue`: an issue was created or changed state. */
export const SentryIssueBodySchema = SentryWebhookBodySchema.extend({
  action: SentryIssueActionSchema,
  data: z.object({ issue: SentryIssueSchema }),
});
export type SentryIssueBody = z.infer<typeof SentryIssueBodySchema>;

/**
 * `data.metric_alert` of a `metric_alert` webhook: a Sentry incident, snake-cased. `id` and
 * `identifier` are strings; `status` is Sentry's numeric incident status.
 */
export const SentryMetricAlertSchema = z.object({
  id: NumericIdSchema,
  identifier: NumericIdSchema,
  status: z.number().int(),
  title: z.string(),
  date_started: SentryDateTimeSchema.optional(),
  date_detected: SentryDateTimeSchema.optional(),
  date_closed: SentryDateTimeSchema.nullish(),
  projects: z.array(z.string()).optional(),
  alert_rule: z.object({
    id: NumericIdSchema,
    name: z.string(),
    aggregate: z.string().optional(),
    query: z.string().optional(),
    dataset: z.string().optional(),
    environment: z.string().nullish(),
    time_window: z.number().optional(),
    projects: z.array(z.string()).optional(),
    triggers: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
});
export type SentryMetricAlert = z.infer<typeof SentryMetricAlertSchema>;

/** `Sentry-Hook-Resource: metric_alert`: a metric alert went critical, warning or resolved. */
export const SentryMetricAlertBodySchema = SentryWebhookBodySchema.extend({
  action: z.enum(["critical", "warning", "resolved"]),
  data: z.object({
    metric_alert: SentryMetricAlertSchema,
    description_title: z.string(),
    description_text: z.string(),
    web_url: z.url(),
  }),
});
export type SentryMetricAlertBody = z.infer<typeof SentryMetricAlertBodySchema>;

/** `Sentry-Hook-Resource: installation`: the integration was installed or removed. */
export const SentryInstallationBodySchema = SentryWebhookBodySchema.extend({
  action: z.enum(["created", "deleted"]),
  data: z.object({
    installation: z.object({
      uuid: z.string().min(1),
      status: z.string(),
      organization: z.object({ slug: z.string().min(1) }),
      app: z.object({ uuid: z.string().min(1), slug: z.string().min(1) }),
      code: z.string().optional(),
    }),
  }),
});
export type SentryInstallationBody = z.infer<typeof SentryInstallationBodySchema>;

/** `Sentry-Hook-Resource: comment`: `issue_id` and `comment_id` are numbers here. */
export const SentryCommentBodySchema = SentryWebhookBodySchema.extend({
  action: z.enum(["created", "updated", "deleted"]),
  data: z.object({
    comment: z.string(),
    project_slug: z.string(),
    comment_id: z.union([z.number().int(), NumericIdSchema]),
    issue_id: z.union([z.number().int(), NumericIdSchema]),
    timestamp: SentryDateTimeSchema,
  }),
});
export type SentryCommentBody = z.infer<typeof SentryCommentBodySchema>;

/** A webhook body paired with the resource named by its `Sentry-Hook-Resource` header. */
export const SentryWebhookSchema = z.discriminatedUnion("resource", [
  z.object({ resource: z.literal("event_alert"), body: SentryEventAlertBodySchema }),
  z.object({ resource: z.literal("error"), body: SentryErrorBodySchema }),
  z.object({ resource: z.literal("issue"), body: SentryIssueBodySchema }),
  z.object({ resource: z.literal("metric_alert"), body: SentryMetricAlertBodySchema }),
  z.object({ resource: z.literal("installation"), body: SentryInstallationBodySchema }),
  z.object({ resource: z.literal("comment"), body: SentryCommentBodySchema }),
]);
export type SentryWebhook = z.infer<typeof SentryWebhookSchema>;

/**
 * Parses a webhook body against the schema its `Sentry-Hook-Resource` names. An unknown
 * resource is an issue at `resource`; body issues are under `body`.
 * Verify the signature on the raw bytes first: this takes the already-parsed JSON.
 *
 * @example
 * ```ts
 * const parsed = parseSentryWebhook(headers.resource, JSON.parse(rawBody));
 * if (parsed.success && parsed.data.resource === "issue") parsed.data.body.data.issue.id;
 * ```
 */
export function parseSentryWebhook(resource: string, body: unknown) {
  return SentryWebhookSchema.safeParse({ resource, body });
}
