import { isAbsolute } from "node:path";
import { describe, expect, it } from "vitest";
import { eventPath, listEvents, loadEvent, loadRawEvent } from "../fixtures";

describe("fixture loader", () => {
  it("resolves names relative to events/, whatever the cwd", () => {
    const path = eventPath("cloudwatch/eventbridge-alarm.json");
    expect(isAbsolute(path)).toBe(true);
    expect(path.endsWith("/events/cloudwatch/eventbridge-alarm.json")).toBe(true);
  });

  it("loads the exact bytes and the parsed JSON of the same file", () => {
    const name = "sentry/issue-created.json";
    expect(loadEvent(name)).toEqual(JSON.parse(loadRawEvent(name)));
  });

  it("lists a folder as sorted names loadEvent accepts", () => {
    const names = listEvents("sentry/");
    expect(names).toContain("sentry/headers.json");
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(() => loadEvent(name)).not.toThrow();
  });

  it.each(["../package.json", "/etc/hostname", "cloudwatch/../../package.json"])(
    "refuses %s, which leaves events/",
    (name) => {
      expect(() => eventPath(name)).toThrow(/inside events/);
    },
  );
});
