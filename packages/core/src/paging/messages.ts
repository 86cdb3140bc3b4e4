import type { ActionRecord, PageKind, Transport } from "../actions/model";
import { type ChannelConfig, isWebhookUrl } from "../actions/schema";
import { ConfigError } from "../errors";
import type { Incident } from "../incidents/model";
import { clip } from "../signal";
import { incidentButtons } from "../slack/buttons";
import {
  clipUtf8,
  type HttpPost,
  SNS_MESSAGE_MAX_BYTES,
  type SnsPublish,
  snsSubject,
  utf8Length,
} from "./transport";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** A channel with its secrets read: where each transport delivers. */
export interface ResolvedChannel {
  sns?: string;
  slackWebhook?: string;
  pagerdutyRoutingKey?: string;
}

/**
 * Reads `env:NAME` references in channel secrets, so config files hold no secrets.
 * @throws ConfigError naming the channel and the missing variable
 */
export function resolveChannels(
  channels: Record<string, ChannelConfig>,
  env: Record<string, string | undefined>,
): Record<string, ResolvedChannel> {
  const secret = (value: string | undefined, path: string, valid: (found: string) => boolean) => {
    if (value === undefined || !value.startsWith("env:")) return value;
    const name = value.slice(4);
    const found = env[name];
    if (!found) throw new ConfigError(`channels.${path}: environment variable ${name} is not set`);
    // Checked as the config checks a value written in place; the message never shows the value.
    if (!valid(found)) {
      throw new ConfigError(
        `channels.${path}: environment variable ${name} holds whitespace, control characters or (for a webhook) no https:// URL`,
      );
    }
    return found;
  };
  const printable = (found: string) => /^[^\s\p{Cc}]+$/u.test(found);
  return Object.fromEntries(
    Object.entries(channels).map(([name, channel]) => [
      name,
      {
        sns: channel.sns,
        slackWebhook: secret(channel.slackWebhook, `${name}.slackWebhook`, isWebhookUrl),
        pagerdutyRoutingKey: secret(
          channel.pagerduty?.routingKey,
          `${name}.pagerduty.routingKey`,
          printable,
        ),
      },
    ]),
  );
}

/** The transports a channel delivers through. */
export const transportsOf = (channel: ResolvedChannel): Transport[] => [
  ...(channel.sns ? (["sns"] as const) : []),
  ...(channel.slackWebhook ? (["slack"] as const) : []),
  ...(channel.pagerdutyRoutingKey ? (["pagerduty"] as const) : []),
];

export interface PageContent {
  incident: Incident;
  kind: PageKind;
  /** Why this page, beyond the incident itself (an action waiting for approval, a failure...). */
  note: string | null;
  /** Where people can look at it (the API's incident URL), when known. */
  consoleUrl: string | null;
  /** The incident's actions, for the page's buttons (Approve for those waiting); none: no Approve. */
  actions?: ReadonlyArray<ActionRecord>;
  /**
   * A digest of the pages a channel's budget folded in one minute. `incident` is then the first
   * folded one (for links); the text names them all.
   */
  digest?: DigestSummary;
}

/** What a page digest says: the channel's minute and the incidents folded into it. */
export interface DigestSummary {
  channel: string;
  /** The minute's start (ISO). */
  window: string;
  incidents: ReadonlyArray<{ incidentId: string; title: string }>;
  /** Folded beyond those named. */
  unlisted: number;
}

/**
 * The digest's line: `37 more incidents in the last minute on oncall (from 10:01 UTC, page
 * budget spent): K7Q2XPD api-5xx; ...`.
 */
export function digestText(digest: DigestSummary): string {
  const count = digest.incidents.length + digest.unlisted;
  const named = digest.incidents.map(({ incidentId, title }) => `${incidentId} ${title}`);
  if (digest.unlisted > 0) named.push(`and ${digest.unlisted} more`);
  const noun = count === 1 ? "incident" : "incidents";
  return `${count} more ${noun} in the last minute on ${digest.channel} (from ${digest.window.slice(11, 16)} UTC, page budget spent): ${named.join("; ")}`;
}

/** What the team wrote about the alarm (`AlarmDescription`), when the incident carries it. */
const descriptionOf = (incident: Incident) => incident.attributes.description ?? null;

/** The runbook of the incident's service, when it is an http(s) link (the config checks it). */
const runbookOf = (incident: Incident) =>
  incident.runbook && httpUrl(incident.runbook) ? incident.runbook : null;

/** The URL itself when it is a well-formed http(s) URL, else null. */
function httpUrl(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? text : null;
  } catch {
    return null;
  }
}

/** Text for Slack mrkdwn: the three characters Slack reserves, escaped as Slack asks. */
const escapeSlack = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Candidate links in prose: an http(s) scheme up to whitespace or a character that would end a
 * Slack link (`<`, `>`, `|`) or a quote; trailing sentence punctuation is not part of it.
 */
const URL_IN_TEXT = /https?:\/\/[^\s<>|"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/**
 * Slack mrkdwn for text from outside (an alarm's description): escaped as everything is, with
 * only its http(s) URLs made links (`<url|url>`). Any other scheme, a `<!channel>`, a `<@U1>`
 * stays inert text; blocks that carry it set `verbatim` so Slack links nothing by itself.
 *
 * @example
 * slackLinkified("See https://wiki.example.com/rb?a=1&b=2. <!channel>");
 * // "See <https://wiki.example.com/rb?a=1&amp;b=2|https://wiki.example.com/rb?a=1&amp;b=2>. &lt;!channel&gt;"
 */
export function slackLinkified(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const start = match.index;
    const candidate = match[0].replace(TRAILING_PUNCTUATION, "");
    const url = httpUrl(candidate);
    if (url === null) continue;
    out += escapeSlack(text.slice(last, start));
    out += `<${escapeSlack(url)}|${escapeSlack(url)}>`;
    last = start + candidate.length;
  }
  return out + escapeSlack(text.slice(last));
}

const KIND_WORDS: Record<PageKind, string> = {
  page: "opened",
  escalation: "still unacknowledged",
  acknowledged: "acknowledged",
  resolved: "resolved",
};

/**
 * One line for people, naming the AWS account when the incident has one (an organization's
 * alarms and findings reach one Firebreak):
 * `[CRITICAL] api-checkout-5xx-errors (K7Q2XPD) opened, 3 signals, account 123456789012`.
 */
export function pageText({ incident, kind, note, digest }: PageContent): string {
  if (digest) return digestText(digest);
  const count = incident.count === 1 ? "1 signal" : `${incident.count} signals`;
  const who =
    kind === "acknowledged" && incident.acknowledgedBy ? ` by ${incident.acknowledgedBy}` : "";
  const account = incident.attributes.account ? `, account ${incident.attributes.account}` : "";
  const line = `[${incident.severity.toUpperCase()}] ${incident.title} (${incident.id}) ${KIND_WORDS[kind]}${who}, ${count}${account}`;
  return note ? `${line}: ${note}` : line;
}

/**
 * An SNS Publish within SNS's limits, whatever the title and note hold: an ASCII subject of
 * under 100 characters, and a JSON message of at most 262,144 UTF-8 bytes. When the message would
 * be larger, every string in it is cut to one byte budget (between characters, each cut marked
 * "… [truncated]"), the largest budget that fits, and `truncated: true` says so.
 */
export function snsPublish(topicArn: string, content: PageContent): SnsPublish {
  const { incident } = content;
  const text = pageText(content);
  const description = descriptionOf(incident);
  const runbook = runbookOf(incident);
  const message = (maxFieldBytes?: number) => {
    const cut = (value: string) =>
      maxFieldBytes === undefined ? value : clipUtf8(value, maxFieldBytes);
    const link = incident.link?.url ?? incident.link?.arn ?? null;
    return JSON.stringify(
      {
        text: cut(text),
        kind: content.kind,
        ...(maxFieldBytes === undefined ? {} : { truncated: true }),
        incident: {
          id: cut(incident.id),
          title: cut(incident.title),
          severity: incident.severity,
          status: incident.status,
          source: cut(incident.source),
          count: incident.count,
          firstSeenAt: incident.firstSeenAt,
          link: link === null ? null : cut(link),
          service: incident.service === null ? null : cut(incident.service),
          description: description === null ? null : cut(description),
          runbook: runbook === null ? null : cut(runbook),
        },
        consoleUrl: content.consoleUrl === null ? null : cut(content.consoleUrl),
      },
      null,
      2,
    );
  };
  const subject = snsSubject(text);
  const whole = message();
  if (utf8Length(whole) <= SNS_MESSAGE_MAX_BYTES) return { topicArn, subject, message: whole };
  // The serialised size grows with the budget (escapes included), so a binary search finds the
  // largest budget that fits; a budget of 0 leaves only marks, far below the limit.
  let fits = 0;
  let tooBig = SNS_MESSAGE_MAX_BYTES;
  while (tooBig - fits > 1) {
    const budget = Math.floor((fits + tooBig) / 2);
    if (utf8Length(message(budget)) <= SNS_MESSAGE_MAX_BYTES) fits = budget;
    else tooBig = budget;
  }
  return { topicArn, subject, message: message(fits) };
}

/**
 * A Slack incoming-webhook message: plain text plus Block Kit, all text escaped, with the
 * incident's buttons (Acknowledge, Resolve, Approve: `incidentButtons`) while it is open. A
 * digest names many incidents and gets none.
 */
export function slackWebhookPost(url: string, content: PageContent): HttpPost {
  const { incident } = content;
  const text = escapeSlack(pageText(content));
  const link = incident.link?.url;
  return {
    url,
    body: {
      text,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `*${text}*` } },
        ...(content.digest ? [] : slackContextBlocks(incident)),
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: escapeSlack(
                `${incident.source} · ${incident.status} · first seen ${incident.firstSeenAt}${incident.rule ? ` · rule ${incident.rule}` : ""}`,
              ),
            },
            ...(link ? [{ type: "mrkdwn", text: `<${link}|origin>` }] : []),
          ],
        },
        ...(content.digest ? [] : incidentButtons(incident, content.actions ?? [])),
      ],
    },
  };
}

/**
 * What the team already wrote, under the page's line: the alarm's description (its http(s)
 * links clickable, nothing else) and the service's runbook.
 */
export function slackContextBlocks(incident: Incident) {
  const description = descriptionOf(incident);
  const runbook = runbookOf(incident);
  const runbookLine = runbook
    ? `Runbook: <${escapeSlack(runbook)}|${escapeSlack(incident.service ?? "runbook")}>`
    : null;
  const lines = [
    ...(description
      ? [slackText(description, SLACK_SECTION_MAX - (runbookLine?.length ?? 0) - 1)]
      : []),
    ...(runbookLine ? [runbookLine] : []),
  ];
  if (lines.length === 0) return [];
  return [
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n"), verbatim: true } },
  ] as const;
}

/** Slack refuses a section whose text is longer than this. */
const SLACK_SECTION_MAX = 3000;

/**
 * {@link slackLinkified} within `max` characters: escaping and links lengthen text, so the
 * description is cut (between characters, marked) until what Slack gets fits whole; a cut made
 * afterwards could split an escape or leave a link open.
 */
function slackText(text: string, max: number): string {
  let source = text;
  let shown = slackLinkified(source);
  while (shown.length > max) {
    source = clip(source, Math.floor(source.length * 0.8));
    shown = slackLinkified(source);
  }
  return shown;
}

const PD_SEVERITY = { critical: "critical", warning: "warning", info: "info" } as const;

/**
 * A PagerDuty Events v2 event. One dedup_key per incident, so the trigger, the acknowledge and
 * the resolve all act on one PagerDuty alert, and repeats of the trigger fold into it.
 */
export function pagerDutyEvent(routingKey: string, content: PageContent): HttpPost {
  const { incident, kind } = content;
  const eventAction =
    kind === "resolved" ? "resolve" : kind === "acknowledged" ? "acknowledge" : "trigger";
  const body: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: eventAction,
    // A digest is its own alert: it must not fold into (or resolve) its first incident's.
    dedup_key: clip(
      content.digest
        ? `firebreak/digest/${content.digest.channel}/${content.digest.window}`
        : `firebreak/${incident.id}`,
      255,
    ),
  };
  if (eventAction === "trigger") {
    body.payload = {
      summary: clip(pageText(content), 1024),
      source: clip(
        incident.attributes.alarmName ??
          incident.attributes.logGroup ??
          incident.attributes.project ??
          incident.source,
        255,
      ),
      severity: PD_SEVERITY[incident.severity],
      timestamp: incident.firstSeenAt,
      component: incident.source,
      custom_details: {
        incident: incident.id,
        fingerprint: incident.fingerprint,
        count: incident.count,
        rule: incident.rule,
        ...(incident.service ? { service: incident.service } : {}),
        ...(descriptionOf(incident) ? { description: descriptionOf(incident) } : {}),
      },
    };
    const runbook = runbookOf(incident);
    const links = [
      ...(incident.link?.url ? [{ href: incident.link.url, text: incident.link.label }] : []),
      ...(runbook ? [{ href: runbook, text: "Runbook" }] : []),
      ...(content.consoleUrl ? [{ href: content.consoleUrl, text: "Firebreak" }] : []),
    ];
    if (links.length) body.links = links;
  }
  return { url: PAGERDUTY_EVENTS_URL, body };
}
