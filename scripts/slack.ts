/**
 * Plays Slack against the local stack: signs and sends slash commands and button presses as
 * Slack would, and prints what Slack would get back (the HTTP answer, then whatever went to the
 * request's response_url: the replaced message, a note for the presser, an approval's outcome).
 *
 *   npm run slack -- cmd "list critical"        the slash command /incident list critical
 *   npm run slack -- ack K7Q2XPD                 presses Acknowledge on K7Q2XPD's message
 *   npm run slack -- resolve K7Q2XPD             presses Resolve
 *   npm run slack -- approve K7Q2XPD a1          presses Approve for action a1
 *
 * The signing secret and API token come from the environment (SLACK_SIGNING_SECRET,
 * API_TOKENS) or the local stack's `.data/dev-secrets.json` (DATA_DIR); the stack's URL from
 * FIREBREAK_URL or PORT (default http://127.0.0.1:3000). SLACK_USER says who presses; by default
 * the first of the policy's `responders` (MONITORING_CONFIG, as `npm start` reads it), or the
 * slash command fixture's user when anyone may act.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  BUTTON_ACTIONS,
  loadConfigFile,
  parseApiTokens,
  parseIncidentId,
  signSlackRequest,
} from "@firebreak/core";
import { loadRawEvent } from "@firebreak/events";
import * as z from "zod";

const USAGE = `usage: npm run slack -- ack <id> | resolve <id> | approve <id> <action> | cmd "<text>"`;

const EnvSchema = z.object({
  FIREBREAK_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  DATA_DIR: z.string().min(1).default(".data"),
  MONITORING_CONFIG: z.string().min(1).default("monitoring.config.ts"),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  API_TOKENS: z.string().min(1).optional(),
  SLACK_USER: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, "a Slack user id such as U012AB3CD")
    .optional(),
});

const DevSecretsSchema = z.object({ apiToken: z.string(), slackSigningSecret: z.string() });

type Request =
  | { kind: "cmd"; text: string }
  | { kind: "press"; actionId: string; value: { incident: string; action?: string } };

function parseArgs(args: string[]): Request {
  const [verb, first, second] = args;
  const incident = () => {
    const id = parseIncidentId(first ?? "");
    if (!id) fail(`"${first ?? ""}" is not an incident id (7 letters and digits)\n${USAGE}`);
    return id;
  };
  switch (verb) {
    case "cmd":
      if (args.length !== 2) fail(USAGE);
      return { kind: "cmd", text: first ?? "" };
    case "ack":
      return {
        kind: "press",
        actionId: BUTTON_ACTIONS.acknowledge,
        value: { incident: incident() },
      };
    case "resolve":
      return { kind: "press", actionId: BUTTON_ACTIONS.resolve, value: { incident: incident() } };
    case "approve":
      if (!second) fail(`approve needs an incident id and an action id\n${USAGE}`);
      return {
        kind: "press",
        actionId: BUTTON_ACTIONS.approve,
        value: { incident: incident(), action: second },
      };
    default:
      return fail(USAGE);
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function settings() {
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) fail(`invalid environment: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  let stored: z.output<typeof DevSecretsSchema> | undefined;
  const file = path.resolve(env.DATA_DIR, "dev-secrets.json");
  if (!env.SLACK_SIGNING_SECRET || !env.API_TOKENS) {
    try {
      stored = DevSecretsSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    } catch {
      fail(`no SLACK_SIGNING_SECRET and API_TOKENS, and no ${file}: start the stack (npm start)`);
    }
  }
  const apiToken = env.API_TOKENS ? parseApiTokens(env.API_TOKENS)[0]?.token : stored?.apiToken;
  return {
    url: (env.FIREBREAK_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/$/, ""),
    signingSecret: env.SLACK_SIGNING_SECRET ?? (stored?.slackSigningSecret as string),
    apiToken: apiToken as string,
    user: env.SLACK_USER,
    configFile: env.MONITORING_CONFIG,
  };
}

async function main() {
  const request = parseArgs(process.argv.slice(2));
  const { url, signingSecret, apiToken, user, configFile } = settings();
  const template = new URLSearchParams(loadRawEvent("slack/command.form.txt"));
  const { responders } = await loadConfigFile(configFile);
  const userId =
    user ??
    (Array.isArray(responders) ? responders[0] : undefined) ??
    template.get("user_id") ??
    "U0LOCAL01";
  // Each request its own response_url and trigger_id, as Slack gives them.
  const nonce = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const responseUrl = `https://hooks.slack.com/actions/${template.get("team_id")}/${nonce}/local`;

  let route: string;
  let body: string;
  if (request.kind === "cmd") {
    route = "/slack/commands";
    template.set("text", request.text);
    template.set("user_id", userId);
    template.set("response_url", responseUrl);
    template.set("trigger_id", `${nonce}.local`);
    body = template.toString();
  } else {
    route = "/slack/interactions";
    const payload = {
      type: "block_actions",
      user: { id: userId, username: template.get("user_name") },
      team: { id: template.get("team_id") },
      channel: { id: template.get("channel_id") },
      actions: [
        {
          action_id: request.actionId,
          block_id: `firebreak.${request.value.incident}`,
          value: JSON.stringify(request.value),
          type: "button",
        },
      ],
      response_url: responseUrl,
      trigger_id: `${nonce}.local`,
      message: {},
      container: { type: "message", channel_id: template.get("channel_id") },
    };
    body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await fetch(`${url}${route}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": signSlackRequest(signingSecret, timestamp, body),
    },
    body,
  }).catch((error: Error) => fail(`cannot reach ${url}: ${error.message} (is npm start running?)`));
  const answer = await response.text();
  console.log(`HTTP ${response.status} ${route}`);
  if (answer) console.log(pretty(answer));

  // An approval's outcome follows once the dispatcher ran it: wait for it a little.
  const wanted = request.kind === "press" && request.actionId === BUTTON_ACTIONS.approve ? 2 : 1;
  const deadline = Date.now() + (wanted > 1 ? 10_000 : 1_000);
  let posts: unknown[] = [];
  while (response.ok && Date.now() < deadline) {
    posts = await postsTo(url, apiToken, responseUrl);
    if (posts.length >= wanted) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const post of posts) console.log(`response_url ←\n${JSON.stringify(post, null, 2)}`);
}

/** What the local stack's outbox recorded as posted to this response_url. */
async function postsTo(url: string, apiToken: string, responseUrl: string): Promise<unknown[]> {
  const response = await fetch(`${url}/local/outbox`, {
    headers: { authorization: `Bearer ${apiToken}` },
  });
  if (!response.ok) return [];
  const outbox = z
    .object({ slackResponses: z.array(z.looseObject({ responseUrl: z.string() })) })
    .parse(await response.json());
  return outbox.slackResponses.filter((post) => post.responseUrl === responseUrl);
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

await main();
