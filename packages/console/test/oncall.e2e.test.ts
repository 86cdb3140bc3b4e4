import { type ConfigInput, onCallAt, parseConfig } from "@firebreak/core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/src/stack";
import { client, startTestStack } from "../../local/test/helpers";
import { REFRESH_MS } from "../app/poll";
import {
  accessibilityViolations,
  assertConsoleBuilt,
  launchBrowser,
  openPage,
  seen,
  signIn,
  TOKEN,
} from "./browser";

/** Two people handing over every day at 09:00 UTC, since a date well behind us. */
const CONFIG: ConfigInput = {
  rules: [],
  responders: "anyone",
  people: { alice: { slack: "U0ALICE01" }, bob: { slack: "U0BOB0001" } },
  schedules: {
    primary: {
      timeZone: "UTC",
      rotation: { people: ["alice", "bob"], shift: "1d", handoff: "09:00", start: "2026-01-05" },
    },
  },
};

const HOUR_MS = 3_600_000;
/**
 * The application's time: today 15:00 UTC, six hours from either handoff, so the person the
 * test expects cannot change under it however slowly the machine runs.
 */
const APP_NOW = Math.floor(Date.now() / (24 * HOUR_MS)) * 24 * HOUR_MS + 15 * HOUR_MS;

const POLL = { timeout: 5000 };

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  assertConsoleBuilt();
  [stack, browser] = await Promise.all([
    startTestStack({ configInput: CONFIG, clock: { now: () => APP_NOW } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the on-call panel on the incidents list", () => {
  it("shows who the schedule has on call, then an override after the next poll", async () => {
    const schedule = parseConfig(CONFIG).schedules.primary;
    if (!schedule) throw new Error("the config has no primary schedule");
    const expected = onCallAt(schedule, [], APP_NOW);
    if (!expected) throw new Error("the rotation has nobody on call at 15:00");
    const other = expected.person === "alice" ? "bob" : "alice";

    const watched = await openPage(browser);
    const { page } = watched;
    await page.clock.install();
    await signIn(page, `${stack.url}/#/incidents`);
    const panel = page.getByRole("region", { name: "On call" });
    const primary = panel.getByRole("listitem").filter({ hasText: "primary" });
    await expect.poll(() => primary.count(), POLL).toBe(1);
    const line = await seen(primary);
    expect(line).toContain(expected.person);
    // Until the next handoff, as the console writes times.
    expect(line).toContain(`${expected.to.slice(0, 19).replace("T", " ")} UTC`);
    expect(await primary.locator("time").getAttribute("datetime")).toBe(expected.to);

    const from = new Date(APP_NOW - HOUR_MS).toISOString();
    const to = new Date(APP_NOW + 2 * HOUR_MS).toISOString();
    const created = await client(stack).post(
      "/schedules/primary/overrides",
      { person: other, from, to },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(created.status).toBe(201);
    // Nothing changes on screen until the list's next poll; then the override shows.
    expect(await seen(primary)).toContain(expected.person);
    await page.clock.fastForward(REFRESH_MS + 100);
    await expect.poll(() => seen(primary), POLL).toContain(other);
    expect(await primary.locator("time").getAttribute("datetime")).toBe(to);

    await page.emulateMedia({ colorScheme: "dark" });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "light" });
    expect(await accessibilityViolations(page, ["color-contrast"])).toEqual([]);
    expect(watched.problems).toEqual([]);
    expect(watched.dialogs).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
    await watched.context.close();
  });
});
