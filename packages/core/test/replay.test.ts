import { loadEvent, parseSentryWebhook } from "@firebreak/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SLACK_MAX_SKEW_SECONDS,
  sentryHookTime,
  signalFromSentry,
  signSlackRequest,
  slackRequestClaim,
  verifySlackRequest,
} from "../src";
import { MemoryReplayGuard } from "../src/testing";

const T0 = Date.parse("2025-03-01T12:00:00Z");

describe("MemoryReplayGuard", () => {
  it("lets a key through once until it expires, then once again", async () => {
    let now = T0;
    const guard = new MemoryReplayGuard({ now: () => now });
    expect(await guard.firstTime("a", T0 + 1000)).toBe(true);
    expect(await guard.firstTime("a", T0 + 1000)).toBe(false);
    expect(await guard.firstTime("b", T0 + 1000)).toBe(true);
    now = T0 + 999;
    expect(await guard.firstTime("a", T0 + 5000)).toBe(false);
    now = T0 + 1000;
    expect(await guard.firstTime("a", T0 + 5000)).toBe(true);
    expect(await guard.firstTime("a", T0 + 5000)).toBe(false);
  });
});

describe("slackRequestClaim", () => {
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";

  it("remembers every request verifySlackRequest accepts for as long as it would accept it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
        fc.integer({ min: -SLACK_MAX_SKEW_SECONDS * 1000 - 5000, max: 5000 }),
        fc.string(),
        (seconds, offsetMs, body) => {
          const timestamp = String(seconds);
          const signature = signSlackRequest(secret, timestamp, body);
          // A replay arrives at any time after the request was signed.
          const now = seconds * 1000 - offsetMs;
          const verdict = verifySlackRequest({
            rawBody: body,
            timestamp,
            signature,
            signingSecret: secret,
            now,
          });
          const claim = slackRequestClaim(timestamp, signature);
          if (verdict.ok) expect(claim.until).toBeGreaterThan(now);
          expect(claim.key).toBe(`slack-request#${signature}`);
        },
      ),
    );
  });

  it("gives one key per signed request: same bytes, same key; another body or time, another", () => {
    const body = "team_id=T0001&user_id=U0000000001&command=%2Fincident&text=note+K7Q2XPD+ok";
    const claim = slackRequestClaim("1740830400", signSlackRequest(secret, "1740830400", body));
    expect(
      slackRequestClaim(" 1740830400", ` ${signSlackRequest(secret, "1740830400", body)}`),
    ).toEqual(claim);
    expect(
      slackRequestClaim("1740830401", signSlackRequest(secret, "1740830401", body)).key,
    ).not.toBe(claim.key);
    expect(
      slackRequestClaim("1740830400", signSlackRequest(secret, "1740830400", `${body}!`)).key,
    ).not.toBe(claim.key);
  });
});

describe("sentryHookTime", () => {
  const window = { past: 86_400_000, future: 300_000 };
  const at = (offsetMs: number) => String(Math.floor((T0 + offsetMs) / 1000));

  it("takes a timestamp within 24 h past and 5 min ahead, as Sentry's send time", () => {
    expect(sentryHookTime(at(0), T0, window)).toEqual({
      ok: true,
      sentAt: new Date(T0).toISOString(),
    });
    expect(sentryHookTime(at(-86_400_000), T0, window).ok).toBe(true);
    expect(sentryHookTime(at(300_000), T0, window).ok).toBe(true);
  });

  it.each([
    ["24 h ahead", at(86_400_000)],
    ["5 min and a second ahead", at(301_000)],
    ["24 h and a second old", at(-86_401_000)],
  ])("refuses a timestamp %s", (_, timestamp) => {
    expect(sentryHookTime(timestamp, T0, window)).toEqual({
      ok: false,
      message: "stale or future Sentry-Hook-Timestamp (trusted: 1d past to 5m ahead)",
    });
  });

  it.each([undefined, "", "soon", "1.7e9", "-1", "2025-03-01T12:00:00Z"])(
    "refuses a missing or malformed timestamp (%s)",
    (timestamp) => {
      expect(sentryHookTime(timestamp, T0, window)).toMatchObject({
        ok: false,
        message: "Sentry-Hook-Timestamp is missing or not a number of seconds",
      });
    },
  );
});

describe("Sentry delivery ids come from the signed body", () => {
  const headers = loadEvent("sentry/headers.json") as Record<
    string,
    { "Sentry-Hook-Resource": string }
  >;
  const signalOf = (file: string, sentAt: string, edit: (body: never) => void = () => {}) => {
    const body = structuredClone(loadEvent(`sentry/${file}`)) as never;
    edit(body);
    const parsed = parseSentryWebhook(headers[file]?.["Sentry-Hook-Resource"] as string, body);
    if (!parsed.success) throw parsed.error;
    return signalFromSentry({ webhook: parsed.data, sentAt });
  };
  const incidentFiles = Object.keys(headers).filter((file) => file !== "installation-created.json");

  it("is the same for every copy of a webhook, whenever it is sent", () => {
    for (const file of incidentFiles) {
      const first = signalOf(file, "2024-11-05T16:30:00.000Z");
      const replay = signalOf(file, "2025-03-01T12:00:00.000Z");
      expect(replay?.deliveryId, file).toBe(first?.deliveryId);
    }
  });

  it("tells different notifications apart", () => {
    const ids = incidentFiles.map((file) => signalOf(file, "2024-11-05T16:30:00.000Z")?.deliveryId);
    expect(new Set(ids).size).toBe(incidentFiles.length);
    expect(signalOf("issue-resolved.json", "2024-11-05T16:30:00.000Z")?.deliveryId).toBe(
      "sentry:issue:5873421906:resolved:2024-11-05T14:31:07.904Z",
    );
    expect(signalOf("metric-alert-critical.json", "2024-11-05T16:30:00.000Z")?.deliveryId).toBe(
      "sentry:metric-alert:412907:critical:2024-11-05T14:04:00.000Z",
    );
    // The same issue seen again later is a new delivery.
    const later = signalOf(
      "issue-unresolved.json",
      "2024-11-05T16:30:00.000Z",
      (body: { data: { issue: { lastSeen: string } } }) => {
        body.data.issue.lastSeen = "2024-11-09T10:00:00.000000Z";
      },
    );
    expect(later?.deliveryId).not.toBe(
      signalOf("issue-unresolved.json", "2024-11-05T16:30:00.000Z")?.deliveryId,
    );
  });

  it("is the event id for an issue alert and an error webhook of the same event", () => {
    const alert = signalOf("event-alert-triggered.json", "2024-11-05T16:30:00.000Z");
    expect(alert?.deliveryId).toBe("sentry:event:e52b9c0f7d6a4e81b3c2a1f09d8e7c6b");
    const error = signalOf(
      "error-created.json",
      "2024-11-05T16:30:00.000Z",
      (body: { data: { error: { event_id: string } } }) => {
        body.data.error.event_id = "E52B9C0F7D6A4E81B3C2A1F09D8E7C6B";
      },
    );
    expect(error?.deliveryId).toBe(alert?.deliveryId);
  });
});
