import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { envCredentials } from "../lib/credentials";

const LAMBDA_ENV = {
  AWS_ACCESS_KEY_ID: "ASIAEXAMPLEKEYID0001",
  AWS_SECRET_ACCESS_KEY: "example-secret-access-key",
  AWS_SESSION_TOKEN: "example-session-token",
};

describe("envCredentials", () => {
  it("hands a client the role's credentials as Lambda sets them, session token included", async () => {
    const client = new SQSClient({ region: "eu-west-1", credentials: envCredentials(LAMBDA_ENV) });
    await expect(client.config.credentials()).resolves.toMatchObject({
      accessKeyId: LAMBDA_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LAMBDA_ENV.AWS_SECRET_ACCESS_KEY,
      sessionToken: LAMBDA_ENV.AWS_SESSION_TOKEN,
    });
    client.destroy();
  });

  it("leaves the default chain to a client when the variables are not set", () => {
    expect(envCredentials({})).toBeUndefined();
    expect(envCredentials({ AWS_ACCESS_KEY_ID: "ASIAEXAMPLEKEYID0001" })).toBeUndefined();
  });

  it("omits the session token of long-term keys", () => {
    const { AWS_SESSION_TOKEN: _, ...keys } = LAMBDA_ENV;
    expect(envCredentials(keys)).toEqual({
      accessKeyId: keys.AWS_ACCESS_KEY_ID,
      secretAccessKey: keys.AWS_SECRET_ACCESS_KEY,
    });
  });
});
