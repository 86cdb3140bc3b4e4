import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ConfigError,
  DEPLOYED_POLICY_FORMAT,
  deployedPolicyJson,
  loadDeployedPolicy,
  type MonitoringConfig,
  parseConfig,
} from "@firebreak/core";
import { afterAll, describe, expect, it } from "vitest";
import monitoringConfig from "../../monitoring.config";

const dir = mkdtempSync(path.join(tmpdir(), "firebreak-deployed-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileWith = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe("the deployed policy file", () => {
  it("gives the functions exactly the config the deploy parsed, without parsing it again", async () => {
    const parsed = parseConfig(monitoringConfig);
    const file = fileWith("deployed.json", deployedPolicyJson(parsed));
    const loaded = await loadDeployedPolicy(file);
    expect(loaded).toEqual(parsed);
    // Parsed values (durations in ms), which the schema's input form does not accept.
    expect(loaded.incidents.trustedTime).toEqual(parsed.incidents.trustedTime);
  });

  it("validates a policy written by hand in full, naming the bad path", async () => {
    const good = fileWith("hand.json", JSON.stringify(monitoringConfig));
    expect(await loadDeployedPolicy(good)).toEqual(parseConfig(monitoringConfig));
    const bad = fileWith(
      "bad.json",
      JSON.stringify({ ...monitoringConfig, rules: [{ name: "x", match: { nope: 1 } }] }),
    );
    await expect(loadDeployedPolicy(bad)).rejects.toThrowError(/rules\[0\]/);
    await expect(loadDeployedPolicy(bad)).rejects.toBeInstanceOf(ConfigError);
  });

  it("refuses a file of another format version as a deployed one: it is validated instead", async () => {
    const parsed = parseConfig(monitoringConfig);
    const older = fileWith(
      "older.json",
      JSON.stringify({ format: `${DEPLOYED_POLICY_FORMAT}-old`, config: parsed }),
    );
    await expect(loadDeployedPolicy(older)).rejects.toBeInstanceOf(ConfigError);
  });

  it("fails with the file's name when it is missing or not JSON", async () => {
    const missing = path.join(dir, "missing.json");
    await expect(loadDeployedPolicy(missing)).rejects.toThrowError(missing);
    await expect(loadDeployedPolicy(fileWith("broken.json", "{"))).rejects.toBeInstanceOf(
      ConfigError,
    );
  });

  it("refuses to write a config that would not come back from JSON as it is", () => {
    const parsed = parseConfig(monitoringConfig);
    const withDate = { ...parsed, default: { ...parsed.default, since: new Date(0) } };
    expect(() => deployedPolicyJson(withDate as unknown as MonitoringConfig)).toThrowError(
      "config.default.since is a Date",
    );
    const withInfinity = { ...parsed, incidents: { ...parsed.incidents, retention: Infinity } };
    expect(() => deployedPolicyJson(withInfinity)).toThrowError(
      "config.incidents.retention is Infinity",
    );
  });
});
