import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/src/stack";
import { client, startTestStack } from "../../local/test/helpers";
import {
  alarms,
  assertConsoleBuilt,
  launchBrowser,
  openPage,
  screenshot,
  seen,
  signIn,
  TOKEN,
} from "./browser";

/** Everything an incident carries can come from an attacker: these are their alarm names. */
const IMG = "<img src=x onerror=alert(1)>";
const SCRIPT = "</title><script>alert(2)</script>";
const MARKDOWN = "**bold** [click](javascript:alert(3)) <b>x</b>";

/** Waits of a few seconds: the suite shares two cores with the rest of the tests. */
const POLL = { timeout: 5000 };

let stack: LocalStack;
let browser: Browser;
const ids: Record<string, string> = {};

beforeAll(async () => {
  assertConsoleBuilt();
  [stack, browser] = await Promise.all([
    startTestStack({
      configInput: {
        rules: [{ name: "everything", match: { source: "cloudwatch" }, severity: "critical" }],
      },
    }),
    launchBrowser(),
  ]);
  const alarm = alarms(stack);
  ids.img = await alarm(IMG, { reason: `<svg onload=alert(4)> & "quotes" ${IMG}` });
  ids.script = await alarm(SCRIPT);
  ids.markdown = await alarm(MARKDOWN);
  await client(stack).post(
    `/incidents/${ids.img}/notes`,
    { text: `<script>alert(5)</script>` },
    {
      authorization: `Bearer ${TOKEN}`,
    },
  );
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the console against hostile input", () => {
  it("sends a Content Security Policy that forbids inline scripts and styles", async () => {
    const response = await fetch(`${stack.url}/`);
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).toContain("frame-ancestors 'none'");
    const html = await response.text();
    // The build itself needs nothing inline: every script and stylesheet is a file.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).toMatch(/<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js">/);
  });

  it("shows a clear message for a wrong token, and keeps nothing", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(stack.url);
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await seen(alert)).toMatch(/That token was not accepted \(401: .+\)\. Check it/);
    expect(await page.getByLabel("API token").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    expect(page.url()).not.toContain("not-the-token");
    // The browser logs the refused request itself; nothing else may go wrong.
    expect(watched.problems.filter((problem) => !/status of 401/.test(problem))).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
    await screenshot(page, "wrong-token", false);
    await watched.context.close();
  });

  it("shows hostile alarm names, details and notes as text and runs nothing", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await signIn(page, stack.url);
    for (const title of [IMG, SCRIPT, MARKDOWN]) {
      await page.locator(".incident-title").getByText(title, { exact: true }).waitFor();
    }
    expect(await page.locator("main img, main script, main b, main svg").count()).toBe(0);
    await screenshot(page, "hostile-list", false);

    await page.getByRole("link", { name: new RegExp(ids.img as string) }).click();
    await page.getByRole("heading", { level: 1, name: IMG }).waitFor();
    expect(await seen(page.locator("pre.detail"))).toContain(`<svg onload=alert(4)> & "quotes"`);
    await page.locator("ol.timeline").getByText("<script>alert(5)</script>").waitFor();
    await page.getByRole("button", { name: "Open post-mortem" }).click();
    const report = page.getByTestId("postmortem");
    await report.getByRole("heading", { name: `Post-mortem: ${IMG} (${ids.img})` }).waitFor();
    expect(await report.locator("img, script, svg").count()).toBe(0);
    expect(await page.locator("article img, article script").count()).toBe(0);
    await screenshot(page, "hostile-incident");

    await page.goto(`${stack.url}/#/incidents/${ids.markdown}`);
    await page.getByRole("heading", { level: 1, name: MARKDOWN }).waitFor();
    await page.getByRole("button", { name: "Open post-mortem" }).click();
    await report.getByRole("heading", { name: /^Post-mortem: \*\*bold\*\*/ }).waitFor();
    // No javascript: link anywhere, and the Markdown in the title stayed text.
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    expect(await report.locator("strong", { hasText: "bold" }).count()).toBe(0);

    await page.goto(`${stack.url}/#/summary`);
    await page.locator("table.noisiest").getByText(SCRIPT, { exact: true }).waitFor();
    expect(await page.title()).toBe("Summary · Firebreak");

    expect(watched.dialogs).toEqual([]);
    expect(watched.problems).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
    await watched.context.close();
  });

  it("blocks inline script and style by the page's own policy", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(stack.url);
    await page.getByLabel("API token").waitFor();
    // What a missed escape would amount to: markup put into the page. The policy stops it.
    await page.evaluate(`
      const host = document.createElement("div");
      host.innerHTML = '<img src="x" onerror="window.injected = 1"><span style="color: red">x</span>';
      document.body.append(host);
      const script = document.createElement("script");
      script.textContent = "window.injected = 2";
      document.body.append(script);
    `);
    await expect
      .poll(async () => (await watched.cspViolations()).length, POLL)
      .toBeGreaterThanOrEqual(2);
    expect(await page.evaluate("window.injected")).toBeUndefined();
    const violations = await watched.cspViolations();
    expect(violations.some((line) => line.startsWith("script-src"))).toBe(true);
    expect(violations.some((line) => line.startsWith("style-src"))).toBe(true);
    await watched.context.close();
  });

  it("signs out on a revoked token, with a clear message", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await signIn(page, stack.url);
    await page.evaluate("sessionStorage.setItem('firebreak.token', 'revoked')");
    await page.reload();
    await page.getByText(/no longer accepts this token \(401\)/).waitFor();
    expect(await page.getByLabel("API token").count()).toBe(1);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    await watched.context.close();
  });
});
