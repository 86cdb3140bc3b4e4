import { describe, expect, it } from "vitest";
import {
  type HttpPost,
  type HttpPostResult,
  type PageContent,
  type PageTransport,
  resolvePeople,
  SLACK_POST_MESSAGE_URL,
  type SmsPublish,
  TransportPager,
} from "../src";
import { aRecord } from "../src/testing";

/** Answers posts from a script (200 `ok: true` unless told otherwise) and keeps what was sent. */
class FakeTransport implements PageTransport {
  readonly posts: HttpPost[] = [];
  readonly sms: SmsPublish[] = [];
  answers: HttpPostResult[] = [];
  async publishSns(): Promise<{ messageId: string }> {
    throw new Error("no topic here");
  }
  async publishSms(sms: SmsPublish): Promise<{ messageId: string }> {
    this.sms.push(sms);
    return { messageId: "m-1" };
  }
  async postJson(post: HttpPost): Promise<HttpPostResult> {
    this.posts.push(post);
    return this.answers.shift() ?? { status: 200, body: '{"ok":true,"channel":"D1","ts":"1.2"}' };
  }
}

const content: PageContent = {
  incident: aRecord({ title: "api-5xx <script>", severity: "critical" }).incident,
  kind: "escalation",
  note: "level 2 of 2",
  consoleUrl: null,
};

const people = resolvePeople(
  {
    dave: { slack: "U0DAVE001", phone: "+14155550100", pagerduty: { routingKey: "env:DAVE_PD" } },
    erin: { email: "erin@example.com" },
  },
  { DAVE_PD: "R0DAVE0000000000000000000000000A" },
);

describe("notifying people", () => {
  it("sends a Slack DM from the bot: chat.postMessage to the user id, with the bot token", async () => {
    const transport = new FakeTransport();
    const pager = new TransportPager(transport, {}, { people, slackBotToken: "xoxb-test" });
    const outcome = await pager.deliver({ transport: "slack", channel: "person:dave", content });
    expect(outcome).toEqual({ status: "sent", detail: "slack direct message" });
    expect(transport.posts[0]).toMatchObject({
      url: SLACK_POST_MESSAGE_URL,
      headers: { authorization: "Bearer xoxb-test" },
      body: { channel: "U0DAVE001", text: expect.stringContaining("api-5xx &lt;script&gt;") },
    });
  });

  it("reads Slack's ok: false as refused, and ratelimited as worth another try", async () => {
    const transport = new FakeTransport();
    transport.answers = [
      { status: 200, body: '{"ok":false,"error":"channel_not_found"}' },
      { status: 200, body: '{"ok":false,"error":"ratelimited"}' },
      { status: 429, retryAfterMs: 30_000 },
    ];
    const pager = new TransportPager(transport, {}, { people, slackBotToken: "xoxb-test" });
    const send = () => pager.deliver({ transport: "slack", channel: "person:dave", content });
    expect(await send()).toEqual({ status: "failed", detail: "slack channel_not_found" });
    expect(await send()).toEqual({ status: "retry", detail: "slack ratelimited" });
    expect(await send()).toMatchObject({ status: "retry", afterMs: 30_000 });
  });

  it("texts through SNS to the number and alerts the person's own PagerDuty service", async () => {
    const transport = new FakeTransport();
    transport.answers = [{ status: 202 }];
    const pager = new TransportPager(transport, {}, { people });
    expect(await pager.deliver({ transport: "sns", channel: "person:dave", content })).toEqual({
      status: "sent",
      detail: "SMS message m-1",
    });
    expect(transport.sms[0]?.phoneNumber).toBe("+14155550100");
    expect(transport.sms[0]?.message).toMatch(/^\[CRITICAL\] api-5xx <script>/);
    await pager.deliver({ transport: "pagerduty", channel: "person:dave", content });
    expect(transport.posts[0]?.body).toMatchObject({
      routing_key: "R0DAVE0000000000000000000000000A",
      event_action: "trigger",
    });
  });

  it("fails plainly without a bot token or a contact, sending nothing", async () => {
    const transport = new FakeTransport();
    const pager = new TransportPager(transport, {}, { people });
    expect(await pager.deliver({ transport: "slack", channel: "person:dave", content })).toEqual({
      status: "failed",
      detail: "no Slack bot token for direct messages",
    });
    expect(await pager.deliver({ transport: "sns", channel: "person:erin", content })).toEqual({
      status: "failed",
      detail: "erin has no phone number",
    });
    expect(transport.posts).toEqual([]);
    expect(transport.sms).toEqual([]);
  });

  it("names a missing routing key variable without its value", () => {
    expect(() => resolvePeople({ dave: { pagerduty: { routingKey: "env:NOPE" } } }, {})).toThrow(
      "people.dave.pagerduty.routingKey: environment variable NOPE is not set",
    );
  });
});
