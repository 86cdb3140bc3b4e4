import { AuthorizationErrorException, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { SLACK_POST_MESSAGE_URL, SMS_MAX_BYTES, utf8Length } from "@firebreak/core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FetchPageTransport } from "../src";

describe("FetchPageTransport.publishSms", () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());

  it("publishes to the phone number, no topic, as a Transactional SMS", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const sms = { phoneNumber: "+14155550100", message: "[CRITICAL] api-5xx (K7Q2XPD) opened" };
    const result = await new FetchPageTransport({ region: "eu-west-1" }).publishSms(sms);
    expect(result).toStrictEqual({ messageId: "m-1" });
    expect(sns.call(0).args[0].input).toStrictEqual({
      PhoneNumber: "+14155550100",
      Message: "[CRITICAL] api-5xx (K7Q2XPD) opened",
      MessageAttributes: {
        "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
      },
    });
  });

  it("keeps an SMS within its bytes, and never names the number in an error", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-2" });
    const transport = new FetchPageTransport({ region: "eu-west-1" });
    await transport.publishSms({ phoneNumber: "+14155550100", message: "é".repeat(1000) });
    const sent = sns.call(0).args[0].input as { Message: string };
    expect(utf8Length(sent.Message)).toBeLessThanOrEqual(SMS_MAX_BYTES);

    sns
      .on(PublishCommand)
      .rejects(new AuthorizationErrorException({ message: "not authorized", $metadata: {} }));
    const error = await transport
      .publishSms({ phoneNumber: "+14155550100", message: "x" })
      .catch((caught: Error) => caught);
    expect((error as Error).message).toMatch(/^SNS SMS failed: AuthorizationError/);
    expect((error as Error).message).not.toContain("4155550100");
  });
});

describe("FetchPageTransport.postJson to Slack's Web API", () => {
  it("sends the bot token as a bearer header and keeps the JSON content type", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(
      async () => new Response('{"ok":true}', { status: 200 }),
    );
    const result = await new FetchPageTransport({ region: "eu-west-1", fetch }).postJson({
      url: SLACK_POST_MESSAGE_URL,
      headers: { authorization: "Bearer xoxb-test", "content-type": "text/plain" },
      body: { channel: "U0DAVE001", text: "hi" },
    });
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(fetch.mock.calls[0]?.[1]?.headers).toStrictEqual({
      authorization: "Bearer xoxb-test",
      "content-type": "application/json",
    });
  });
});
