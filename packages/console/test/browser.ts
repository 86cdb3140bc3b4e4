/**
 * Browser tests of the console: Debian's Chromium (never a downloaded one) driven by
 * playwright-core, against a local stack in memory that serves the console's build.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { loadEvent } from "@firebreak/events";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import type { LocalStack } from "../../local/src/stack";
import { client, TOKEN } from "../../local/test/helpers";

export { TOKEN };

const CONSOLE_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const ARTIFACTS = fileURLToPath(
  new URL("../../../test-artifacts/console/", import.meta.url),
);

/** Debian's package puts it here; `CHROMIUM_PATH` points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * The stack serves packages/console/dist as it is: a missing or stale build would test other
 * code than the sources, so it fails here with what to run.
 */
export function assertConsoleBuilt(): void {
  const index = join(CONSOLE_ROOT, "dist", "index.html");
  const hint = "run `npm run build -w packages/console` (the root's `build:console`) first";
  if (!existsSync(index)) throw new Error(`the console is not built: ${hint}`);
  const built = statSync(index).mtimeMs;
  const sources = [
    join(CONSOLE_ROOT, "index.html"),
    join(CONSOLE_ROOT, "vite.config.ts"),
    ...filesUnder(join(CONSOLE_ROOT, "app")),
    ...filesUnder(join(CONSOLE_ROOT, "public")),
  ];
  const newer = sources.filter((file) => statSync(file).mtimeMs > built + 1);
  if (newer.length > 0) {
    throw new Error(`the console build is older than ${newer[0]}: ${hint}`);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** One headless Chromium per test file, with the flags this machine's closed network needs. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (Debian's package)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Records CSP violations in the page, where the test can read them. */
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
  });
`;

export interface Watched {
  page: Page;
  /** Console errors and warnings, uncaught exceptions. */
  problems: string[];
  /** alert(), confirm(), prompt(): none is ever expected. */
  dialogs: string[];
  cspViolations(): Promise<string[]>;
}

/** A fresh context (its own session storage) and page, watched for anything going wrong. */
export async function openPage(
  browser: Browser,
  options: { width?: number; height?: number; colorScheme?: "dark" | "light" } = {},
): Promise<{ context: BrowserContext } & Watched> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    colorScheme: options.colorScheme ?? "dark",
    reducedMotion: "reduce",
  });
  await context.addInitScript(RECORD_CSP_VIOLATIONS);
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return {
    context,
    page,
    problems,
    dialogs,
    cspViolations: async () => (await page.evaluate("window.__cspViolations ?? []")) as string[],
  };
}

/** Types the token and signs in; waits for the list. */
export async function signIn(page: Page, url: string, token = TOKEN): Promise<void> {
  await page.goto(url);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
}

/** The text as a reader sees it: line breaks between blocks, hidden text left out. */
export const seen = (locator: Locator): Promise<string> =>
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, not a DOM node's
  locator.innerText();

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // From the top, with no hover: a sticky header and an underline would show mid-picture.
  await page.mouse.move(0, 0);
  await page.evaluate("scrollTo(0, 0)");
  await page.screenshot({ path, fullPage, animations: "disabled" });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);

/**
 * WCAG 2 A and AA checks (contrast, labels, names, landmarks) by axe-core, injected through
 * the DevTools protocol (the page's CSP rightly refuses inline scripts).
 */
export async function accessibilityViolations(page: Page, rules?: string[]): Promise<string[]> {
  if (!(await page.evaluate("typeof axe !== 'undefined'"))) await page.evaluate(AXE_SOURCE);
  const runOnly = rules
    ? { type: "rule", values: rules }
    : { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] };
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: ${JSON.stringify(runOnly)} }).then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations.map(
    (violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
        .slice(0, 3)
        .map((node) => node.target.join(" "))
        .join(", ")}`,
  );
}

/** Delivers CloudWatch alarm state changes to the stack, as EventBridge would. */
export function alarms(stack: LocalStack) {
  const api = client(stack);
  let sequence = 0;
  return async function alarm(
    name: string,
    options: { state?: "ALARM" | "OK"; at?: Date; reason?: string; namespace?: string } = {},
  ): Promise<string> {
    const event = structuredClone(loadEvent("cloudwatch/eventbridge-alarm.json")) as {
      id: string;
      time: string;
      resources: string[];
      detail: {
        alarmName: string;
        state: { value: string; timestamp: string; reason: string };
        configuration: { metrics: Array<{ metricStat: { metric: { namespace: string } } }> };
      };
    };
    const at = (options.at ?? new Date()).toISOString();
    event.id = `console-${process.pid}-${++sequence}`;
    event.time = at;
    event.detail.alarmName = name;
    event.detail.state.value = options.state ?? "ALARM";
    event.detail.state.timestamp = at;
    if (options.reason) event.detail.state.reason = options.reason;
    const metric = event.detail.configuration.metrics[0]?.metricStat.metric;
    if (metric && options.namespace) metric.namespace = options.namespace;
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`];
    return (await api.deliver(event)).incidents[0] as string;
  };
}

/** A CloudWatch Logs subscription delivery (gzip, base64) of the given lines. */
export async function deliverLogLines(
  stack: LocalStack,
  logGroup: string,
  lines: Array<{ at: Date; message: string }>,
): Promise<string> {
  const data = {
    messageType: "DATA_MESSAGE",
    owner: "123456789012",
    logGroup,
    logStream: "2026/11/26/[$LATEST]0123456789abcdef0123456789abcdef",
    subscriptionFilters: ["firebreak-errors"],
    logEvents: lines.map((line, index) => ({
      id: `${line.at.getTime()}${index}`.padEnd(56, "0"),
      timestamp: line.at.getTime(),
      message: line.message,
    })),
  };
  const payload = { awslogs: { data: gzipSync(JSON.stringify(data)).toString("base64") } };
  return (await client(stack).deliver(payload)).incidents[0] as string;
}

export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

/** Waits until `condition` holds, polling. */
export async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
