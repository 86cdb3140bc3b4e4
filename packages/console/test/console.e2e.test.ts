import type { ConfigInput } from "@firebreak/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/src/stack";
import { client, startTestStack } from "../../local/test/helpers";
import {
  accessibilityViolations,
  alarms,
  assertConsoleBuilt,
  deliverLogLines,
  launchBrowser,
  minutesAgo,
  openPage,
  screenshot,
  seen,
  signIn,
  TOKEN,
  type Watched,
} from "./browser";

/** A night on call, in miniature: one policy with each kind of response the console shows. */
const CONFIG: ConfigInput = {
  rules: [
    {
      name: "availability",
      match: { source: "cloudwatch", alarmName: "*5xx*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
          by: 4,
          max: 12,
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "database-writer-down",
      match: { source: "cloudwatch", alarmName: "*-writer-down" },
      severity: "critical",
      actions: [
        { type: "failover", target: { kind: "rds-cluster", clusterId: "orders" } },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "backlogs",
      match: { source: "cloudwatch", alarmName: "*-backlog" },
      severity: "warning",
    },
    {
      name: "canaries",
      match: { source: "cloudwatch", alarmName: "canary-*" },
      severity: "warning",
    },
    {
      name: "application-errors",
      match: { source: "logs", level: ["error", "fatal"] },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  default: { severity: "info" },
  // One service whose alarms group into one incident: its database writer and its replica lag.
  services: {
    ledger: {
      match: [{ source: "cloudwatch", alarmName: "ledger-*" }],
      runbook: "https://wiki.example.com/runbooks/ledger",
    },
  },
  channels: { oncall: { sns: "arn:aws:sns:us-east-1:123456789012:oncall" } },
  // Re-triggers within the cooldown do not scale again: one scale-out, as in production.
  safety: { cooldown: "10m", maxActionsPerHour: 50 },
  // The console's API token acts, not Slack: no one to list.
  responders: "anyone",
};

/** Waits of a few seconds: the suite shares two cores with the rest of the tests. */
const POLL = { timeout: 5000 };

let stack: LocalStack;
let browser: Browser;
let main: Watched;
const ids: Record<string, string> = {};

beforeAll(async () => {
  assertConsoleBuilt();
  [stack, browser] = await Promise.all([
    startTestStack({ configInput: CONFIG, intervals: { escalationsMs: 60_000 } }),
    launchBrowser(),
  ]);
  const alarm = alarms(stack);
  const api = client(stack);

  // Checkout failing for the last 40 minutes, getting worse.
  for (const minutes of [40, 34, 29, 25, 21, 18, 14, 11, 9, 7, 5, 4, 3, 2, 1]) {
    ids.checkout = await alarm("checkout-api-5xx", { at: minutesAgo(minutes) });
  }
  ids.orders = await alarm("orders-db-writer-down", { at: minutesAgo(12) });
  ids.payments = await deliverLogLines(stack, "/aws/lambda/payments", [
    {
      at: minutesAgo(8),
      message:
        '{"level":"ERROR","message":"Payment authorisation failed: provider timed out after 3000 ms"}',
    },
  ]);
  // A backlog that keeps clearing and coming back: flapping (three re-opens in 30 minutes).
  for (const [minutes, state] of [
    [28, "ALARM"],
    [26, "OK"],
    [22, "ALARM"],
    [20, "OK"],
    [16, "ALARM"],
    [13, "OK"],
    [6, "ALARM"],
  ] as const) {
    const id = await alarm("billing-queue-backlog", { at: minutesAgo(minutes), state });
    if (state === "ALARM") ids.backlog = id;
  }
  const silence = await api.post(
    "/silences",
    { matcher: "alarmName=canary-*", duration: "2h", reason: "synthetic canaries redeployed" },
    { authorization: `Bearer ${TOKEN}` },
  );
  expect(silence.status).toBe(201);
  ids.canary = await alarm("canary-login-flow", { at: minutesAgo(15) });
  ids.search = await alarm("search-latency-p99", { at: minutesAgo(55) });
  expect(
    (
      await api.post(`/incidents/${ids.search}/acknowledge`, "", {
        authorization: `Bearer ${TOKEN}`,
      })
    ).status,
  ).toBe(200);
  // The ledger: a deploy four minutes before its writer went down, then its replica lagging.
  const change = await api.post(
    "/changes",
    {
      service: "ledger",
      version: "43",
      previousVersion: "42",
      commit: "abc123",
      author: "ci",
      at: minutesAgo(10).toISOString(),
    },
    { authorization: `Bearer ${TOKEN}` },
  );
  expect(change.status).toBe(201);
  ids.ledger = await alarm("ledger-writer-down", { at: minutesAgo(6) });
  expect(await alarm("ledger-replica-lag", { at: minutesAgo(5) })).toBe(ids.ledger);
  // Let the dispatcher run what the rules asked for (scale, page, the failover's approval).
  await new Promise((resolve) => setTimeout(resolve, 300));

  main = await openPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** No console error, no uncaught exception, no dialog, no CSP violation. */
async function expectClean(watched: Watched) {
  expect(watched.problems).toEqual([]);
  expect(watched.dialogs).toEqual([]);
  expect(await watched.cspViolations()).toEqual([]);
}

/** The incident row under the top of the viewport, and where it is. */
const ROW_AT_TOP = `(() => {
  const item = document.elementFromPoint(400, 120)?.closest("li.incident");
  return item && { title: item.querySelector(".incident-title").textContent, top: Math.round(item.getBoundingClientRect().top) };
})()`;

const row = (page: Page, title: string) =>
  page.getByRole("listitem").filter({ has: page.getByText(title, { exact: true }) });

describe("the incident console in Chromium", () => {
  it("signs in with a token kept in session storage, never in the URL", async () => {
    const { page } = main;
    await signIn(page, stack.url);
    expect(page.url()).not.toContain(TOKEN);
    expect(await page.evaluate("sessionStorage.getItem('firebreak.token')")).toBe(TOKEN);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    await expectClean(main);
  });

  it("lists open incidents with severity, status, counts, age and markers", async () => {
    const { page } = main;
    const checkout = row(page, "checkout-api-5xx");
    await expect.poll(() => checkout.count(), POLL).toBe(1);
    await expect.poll(() => seen(checkout), POLL).toContain("15 signals");
    const checkoutText = await seen(checkout);
    expect(checkoutText).toMatch(/Critical/i);
    expect(checkoutText).toContain("Triggered");
    expect(checkoutText).toMatch(/40m ago/);

    expect(await seen(row(page, "billing-queue-backlog"))).toMatch(/Warning[\s\S]*Flapping/i);
    expect(await seen(row(page, "canary-login-flow"))).toMatch(/Silenced \(S[0-9A-Z]{5}\)/);
    expect(await seen(row(page, "search-latency-p99"))).toMatch(/Info[\s\S]*Acknowledged/i);
    expect(
      await seen(
        row(page, "payments: Payment authorisation failed: provider timed out after 3000 ms"),
      ),
    ).toMatch(/Critical[\s\S]*Logs/i);
    // Resolved incidents stay out of the open list (the backlog's two earlier ones).
    expect(await row(page, "billing-queue-backlog").count()).toBe(1);
    // This policy has no schedules: once /oncall answered (no items), no on-call panel.
    const onCallAnswered = `performance.getEntriesByType("resource").some((entry) => entry.name.endsWith("/oncall") && entry.responseEnd > 0)`;
    await expect.poll(() => page.evaluate(onCallAnswered), POLL).toBe(true);
    expect(await page.getByRole("region", { name: "On call" }).count()).toBe(0);

    await page.getByLabel("Severity").selectOption("critical");
    await expect
      .poll(() => page.getByRole("listitem").filter({ hasText: "Warning" }).count(), POLL)
      .toBe(0);
    expect(page.url()).toContain("severity=critical");
    await page.getByLabel("Severity").selectOption("");
    await expect.poll(() => row(page, "billing-queue-backlog").count(), POLL).toBe(1);

    await screenshot(page, "list", false);
    await expectClean(main);
  });

  it("opens an incident: what Firebreak did, the exact AWS request, the chart and the timeline", async () => {
    const { page } = main;
    await row(page, "checkout-api-5xx").getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "checkout-api-5xx" }).waitFor();
    const actions = page.locator("ol.actions > li");
    await expect.poll(() => actions.count(), POLL).toBeGreaterThanOrEqual(2);
    const scale = page.locator("#action-a1");
    await expect.poll(() => seen(scale), POLL).toContain("Simulated");
    const scaleText = await seen(scale);
    expect(scaleText).toContain("Scale out");
    expect(scaleText).toContain("ecs-service:us-east-1/prod/checkout");
    expect(scaleText).toContain("ecs:UpdateService");
    expect(scaleText).toContain('"desiredCount": 6');
    expect(await seen(page.locator("#action-a2"))).toMatch(/Page[\s\S]*sns: sent/);

    const chart = page.getByRole("img", { name: /15 signals over/ });
    expect(await chart.count()).toBe(1);
    expect(await page.locator(".chart rect.bar").count()).toBeGreaterThan(5);
    expect(await seen(page.locator("ol.timeline > li").first())).toContain("Opened");
    await screenshot(page, "incident");
    await expectClean(main);
  });

  it("acknowledges and adds a note, and shows both at once", async () => {
    const { page } = main;
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /acknowledged/i })
      .first()
      .waitFor();
    await page.locator(".incident-head").getByText("Acknowledged", { exact: true }).waitFor();
    expect(await page.getByRole("button", { name: "Acknowledge" }).isDisabled()).toBe(true);

    await page
      .getByLabel("Add a note to the timeline")
      .fill("Rolled the canary back; watching errors.");
    await page.getByRole("button", { name: "Add note" }).click();
    await page
      .locator("ol.timeline")
      .getByText("Rolled the canary back; watching errors.")
      .waitFor();
    expect(await seen(page.locator("ol.timeline"))).toMatch(/Acknowledged by api:tests/);
    expect((await client(stack).incident(ids.checkout as string)).status).toBe("acknowledged");
    await expectClean(main);
  });

  it("opens the post-mortem, rendered from the API's Markdown", async () => {
    const { page } = main;
    await page.getByRole("button", { name: "Open post-mortem" }).click();
    const report = page.getByTestId("postmortem");
    await report.getByRole("heading", { name: /Post-mortem: checkout-api-5xx/ }).waitFor();
    expect(await report.getByRole("heading", { name: "What the automation did" }).count()).toBe(1);
    const facts = report.locator("table").first();
    expect(await facts.getByRole("row", { name: /Severity critical/ }).count()).toBe(1);
    const origin = report.getByRole("link", { name: "CloudWatch alarm checkout-api-5xx" });
    expect(await origin.getAttribute("href")).toMatch(
      /^https:\/\/us-east-1\.console\.aws\.amazon\.com\//,
    );
    expect(await origin.getAttribute("rel")).toBe("noopener noreferrer");
    const text = await seen(report);
    expect(text).toContain("ecs:UpdateService");
    // Markdown syntax was read, not shown.
    expect(text).not.toMatch(/\*\*|\| ---|^#/m);
    await expectClean(main);
  });

  it("approves a failover waiting for approval and sees it run", async () => {
    const { page } = main;
    await page.goto(`${stack.url}/#/incidents/${ids.orders}`);
    await page.getByRole("heading", { level: 1, name: "orders-db-writer-down" }).waitFor();
    const failover = page.locator("#action-a1");
    expect(await seen(failover)).toContain("Waiting for approval");
    await page.getByRole("button", { name: /1 action waiting for approval/ }).click();
    const approve = page.getByRole("button", { name: "Approve a1" });
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Approve a1");
    // One click only asks: it names the target, and cancelling leaves the failover waiting.
    await approve.click();
    const question = page.getByRole("alertdialog");
    expect(await seen(question)).toMatch(/Fail over rds-cluster:\S*orders\? This acts on AWS now/);
    const confirm = page.getByRole("button", { name: /^Fail over rds-cluster:\S*orders$/ });
    await expect
      .poll(() => page.evaluate("document.activeElement?.className"), POLL)
      .toContain("confirm");
    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await question.count()).toBe(0);
    expect(await seen(failover)).toContain("Waiting for approval");
    expect(await seen(failover)).not.toContain("rds:FailoverDBCluster");
    await approve.click();
    await confirm.click();
    await expect.poll(() => seen(failover), POLL).toMatch(/Simulated|Succeeded/);
    expect(await seen(failover)).toContain("approved by api:tests");
    expect(await seen(failover)).toContain("rds:FailoverDBCluster");
    expect(await page.getByRole("button", { name: "Approve a1" }).count()).toBe(0);
    await expectClean(main);
  });

  it("resolves with a note", async () => {
    const { page } = main;
    await page.getByLabel("Resolve, with an optional note").fill("Failed over to the reader.");
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.locator(".incident-head").getByText("Resolved", { exact: true }).waitFor();
    expect(await seen(page.locator("ol.timeline"))).toContain("Failed over to the reader.");
    await expectClean(main);
  });

  it("groups a service's alerts into one incident: alerts, the change before it, the approval it waits for", async () => {
    const { page } = main;
    await page.goto(`${stack.url}/#/incidents`);
    const ledgerGroup = page.getByRole("region", { name: "Service: ledger" });
    await ledgerGroup.waitFor();
    const ledger = row(page, "ledger-writer-down");
    expect(await ledgerGroup.getByRole("listitem").count()).toBe(1);
    // The approval marker arrives with the incident's detail, read after the list.
    await expect.poll(() => seen(ledger), POLL).toContain("Waiting for approval (1 action)");
    expect(await seen(ledger)).toMatch(/Critical/i);
    // Every other incident has no service: they are grouped under "no service".
    const others = page.getByRole("region", { name: "Service: no service" });
    expect(await others.getByText("checkout-api-5xx", { exact: true }).count()).toBe(1);
    expect(await others.getByText("ledger-writer-down", { exact: true }).count()).toBe(0);

    await page.getByLabel("Service", { exact: true }).selectOption("ledger");
    await expect.poll(() => page.locator("li.incident").count(), POLL).toBe(1);
    expect(page.url()).toContain("service=ledger");
    await page.getByLabel("Service", { exact: true }).selectOption("");
    await expect.poll(() => row(page, "checkout-api-5xx").count(), POLL).toBe(1);

    await ledger.getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "ledger-writer-down" }).waitFor();
    expect(await seen(page.locator(".incident-head"))).toContain("Waiting for approval");
    expect(await seen(page.locator(".incident-head"))).toContain("service ledger");
    const alerts = page.locator("table.alerts tbody tr");
    expect(await alerts.count()).toBe(2);
    expect(await seen(alerts.nth(0))).toMatch(
      /CloudWatch\s+ledger-writer-down al1[\s\S]*Critical\s+firing\s+1\s/i,
    );
    expect(await seen(alerts.nth(1))).toMatch(/ledger-replica-lag al2[\s\S]*Info\s+firing/i);
    expect(await seen(page.locator("ul.changes"))).toContain(
      "changed 4 minutes before: ledger 42 → 43 by ci (commit abc123)",
    );
    const runbook = page.getByRole("link", { name: "https://wiki.example.com/runbooks/ledger" });
    expect(await runbook.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await seen(page.locator("#action-a1"))).toMatch(/Fail over[\s\S]*Waiting for approval/);
    // The simulated CloudWatch's series of the alarm, drawn beside the signals chart.
    const metric = page.getByRole("img", { name: /^ledger-writer-down: / });
    await metric.waitFor();
    expect(await page.locator(".metric-chart polyline.metric-line").count()).toBeGreaterThan(0);

    // A refused merge says why; the page stays as it was.
    await page.getByLabel("Merge into incident").fill("ZZZZ999");
    await page.getByRole("button", { name: "Merge", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /^Failed: .*\(404\)$/ })
      .waitFor();
    expect(await alerts.count()).toBe(2);

    // Splitting the replica's alert off leaves one alert here and opens an incident for it.
    await page.getByRole("button", { name: "Split al2 off" }).click();
    await page.getByRole("status").filter({ hasText: /split/i }).waitFor();
    await expect.poll(() => alerts.count(), POLL).toBe(1);
    expect(await page.getByRole("button", { name: /^Split / }).count()).toBe(0);
    expect(await seen(page.locator("ol.timeline"))).toMatch(/split/i);
    await screenshot(page, "incident-grouped");
    expect(main.dialogs).toEqual([]);
    expect(await main.cspViolations()).toEqual([]);
    // The refused merge was a 404: the browser logs the failed request, nothing else.
    expect(main.problems.filter((problem) => !/status of 404/.test(problem))).toEqual([]);
    main.problems.length = 0;
  });

  it("lists, creates and removes silences", async () => {
    const { page } = main;
    await page.getByRole("link", { name: "Silences" }).click();
    await page.getByRole("heading", { level: 1, name: "Silences" }).waitFor();
    await page.getByText("alarmName=canary-*").waitFor();

    await page.getByLabel("Matcher").fill("alarmName=api-*");
    await page.getByLabel("For", { exact: true }).selectOption("1h");
    await page.getByLabel("Reason (optional)").fill("deploying the API");
    await page.getByRole("button", { name: "Silence", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Silenced alarmName=api-*" }).waitFor();
    const created = page.getByRole("listitem").filter({ hasText: "alarmName=api-*" });
    expect(await seen(created)).toContain("deploying the API");

    await page.getByLabel("Matcher").fill("nonsense");
    await page.getByRole("button", { name: "Silence", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /Not created: .*key=value/ })
      .waitFor();

    await created.getByRole("button", { name: "Remove…" }).click();
    await created.getByRole("button", { name: /^Remove S[0-9A-Z]{5} now$/ }).click();
    await expect.poll(() => created.count(), POLL).toBe(0);
    expect(await page.getByText("alarmName=canary-*").count()).toBe(1);
    expect(main.dialogs).toEqual([]);
    // The refused matcher was a 400: the browser logs the failed request, nothing else.
    expect(main.problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
    main.problems.length = 0;
  });

  it("shows the summary: MTTA and MTTR by severity as a chart, and the noisiest", async () => {
    const { page } = main;
    await page.getByRole("link", { name: "Summary" }).click();
    await page.getByRole("heading", { level: 1, name: "Summary" }).waitFor();
    await page.getByRole("img", { name: /MTTA and MTTR by severity/ }).waitFor();
    const noisiest = page.locator("table.noisiest tbody tr").first();
    expect(await seen(noisiest)).toContain("checkout-api-5xx");
    expect(await seen(page.locator("table.timing"))).toMatch(/critical/i);
    await screenshot(page, "summary");
    await expectClean(main);
  });

  it("refreshes on its own, keeping the reader's filters and scroll position", async () => {
    const watched = await openPage(browser, { width: 1000, height: 420 });
    const { page } = watched;
    await page.clock.install();
    await signIn(page, `${stack.url}/#/incidents?status=open`);
    await page.getByLabel("Status").selectOption("");
    await row(page, "checkout-api-5xx").waitFor();
    await page.mouse.wheel(0, 300);
    await expect.poll(() => page.evaluate("scrollY"), POLL).toBeGreaterThan(100);
    const before = (await page.evaluate(ROW_AT_TOP)) as { title: string; top: number };

    // A new incident lands above the reader: the row they were reading stays where it was.
    await alarms(stack)("inventory-api-5xx");
    await page.clock.fastForward(5100);
    await row(page, "inventory-api-5xx").waitFor({ timeout: 3000 });
    const after = (await page.evaluate(ROW_AT_TOP)) as typeof before;
    expect(after.title).toBe(before.title);
    expect(Math.abs(after.top - before.top)).toBeLessThanOrEqual(2);
    expect(await page.getByLabel("Status").inputValue()).toBe("");
    await expectClean(watched);
    await watched.context.close();
  });

  it("works at phone width, with no sideways scrolling", async () => {
    const watched = await openPage(browser, { width: 390, height: 844 });
    const { page } = watched;
    await signIn(page, stack.url);
    await row(page, "checkout-api-5xx").waitFor();
    const overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth";
    expect(await page.evaluate(overflow)).toBe(0);
    await screenshot(page, "list-phone", false);
    await row(page, "checkout-api-5xx").getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "checkout-api-5xx" }).waitFor();
    await page.locator("#action-a1").waitFor();
    expect(await page.evaluate(overflow)).toBe(0);
    await screenshot(page, "incident-phone");
    await expectClean(watched);
    await watched.context.close();
  });

  it("is usable from the keyboard alone", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(stack.url);
    await page.getByLabel("API token").focus();
    await page.keyboard.type(TOKEN);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
    await row(page, "checkout-api-5xx").waitFor();
    const focused = () =>
      page.evaluate(
        "document.activeElement?.tagName + ': ' + document.activeElement?.textContent",
      ) as Promise<string>;
    // Tab through the header and filters to the first incident, then open it with Enter.
    let steps = 0;
    while (!/^A: .*checkout-api-5xx/.test(await focused()) && steps++ < 25) {
      await page.keyboard.press("Tab");
    }
    expect(await focused()).toMatch(/^A: .*checkout-api-5xx/);
    await page.keyboard.press("Enter");
    const heading = page.getByRole("heading", { level: 1, name: "checkout-api-5xx" });
    await heading.waitFor();
    // Focus moves to the new page's content, as a page load would.
    await expect.poll(() => focused(), POLL).toMatch(/^MAIN: /);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("A: ← All incidents");
    await expectClean(watched);
    await watched.context.close();
  });

  it("passes WCAG 2 AA checks (labels, names, structure), and contrast in dark and light", {
    timeout: 40_000,
  }, async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    /** Every WCAG 2 AA rule in the dark scheme; contrast, the one that depends on it, in light. */
    const check = async (where: string) => {
      await page.emulateMedia({ colorScheme: "dark" });
      expect(await accessibilityViolations(page), `${where}, dark`).toEqual([]);
      await page.emulateMedia({ colorScheme: "light" });
      expect(await accessibilityViolations(page, ["color-contrast"]), `${where}, light`).toEqual(
        [],
      );
    };
    await page.goto(stack.url);
    await page.getByLabel("API token").waitFor();
    await check("sign-in");
    await signIn(page, stack.url);
    await row(page, "checkout-api-5xx").waitFor();
    await check("list");
    await page.goto(`${stack.url}/#/incidents/${ids.checkout}`);
    await page.locator("#action-a1").waitFor();
    await page.getByRole("button", { name: "Open post-mortem" }).click();
    await page.getByTestId("postmortem").waitFor();
    await check("incident");
    await page.goto(`${stack.url}/#/silences`);
    await page.getByText("alarmName=canary-*").waitFor();
    await check("silences");
    await page.goto(`${stack.url}/#/summary`);
    await page.locator("table.noisiest").waitFor();
    await check("summary");
    await screenshot(page, "summary-light");
    await expectClean(watched);
    await watched.context.close();
  });
});
