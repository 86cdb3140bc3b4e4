import { afterEach, describe, expect, it } from "vitest";
import { readSecret, secretEnvironment } from "../lib/secrets";

describe("secrets", () => {
  afterEach(() => {
    delete process.env.SST_RESOURCES_JSON;
    delete process.env.SENTRY_CLIENT_SECRET;
  });

  it("reads a secret SST linked to the function, by its environment name", () => {
    // What SST hands a function: its linked resources, by SST name (here as JSON, as sst/resource
    // also accepts; deployed, they come decrypted from the bundle's resource.enc).
    process.env.SST_RESOURCES_JSON = JSON.stringify({
      SentryClientSecret: { type: "sst.sst.Secret", value: "linked-sentry-secret" },
      PagerdutyOncallKey: { type: "sst.sst.Secret", value: "linked-pagerduty-key" },
    });
    process.env.SENTRY_CLIENT_SECRET = "from-the-environment";
    expect(readSecret("SENTRY_CLIENT_SECRET")).toBe("linked-sentry-secret");
    expect(secretEnvironment().PAGERDUTY_ONCALL_KEY).toBe("linked-pagerduty-key");
  });

  it("falls back to the environment where nothing is linked (the local stack)", () => {
    process.env.SENTRY_CLIENT_SECRET = "from-the-environment";
    expect(readSecret("SENTRY_CLIENT_SECRET")).toBe("from-the-environment");
    expect(readSecret("NOT_SET_ANYWHERE")).toBeUndefined();
  });
});
