import type { MonitoringConfig } from "../config/schema";
import { parseDuration } from "../duration";
import { InvalidInputError } from "../errors";
import { MAX_ONCALL_RANGE_MS, OnCallNamePattern } from "../oncall/model";
import type { ScheduleOnCall } from "../oncall/overrides";
import type { OverrideStore } from "../ports";
import { clip } from "../signal";
import { escapeMrkdwn, problemMessage, type SlackMessage } from "./messages";

/** `/incident oncall [schedule]` and `/incident override <schedule> <@user> <duration>`, read. */
export type OnCallCommand =
  | { kind: "oncall"; schedule: string | null }
  | { kind: "override"; schedule: string; slackUser: string; duration: number };

const MENTION = /^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$/;
const MIN_OVERRIDE_MS = 60_000;

/** @throws InvalidInputError naming what is wrong, for the help message */
export function parseOnCall(words: string[]): OnCallCommand {
  const [schedule, ...extra] = words;
  if (extra.length > 0) throw new InvalidInputError("oncall takes at most a schedule name");
  if (schedule !== undefined && !OnCallNamePattern.test(schedule)) {
    throw new InvalidInputError(`"${clip(schedule, 40)}" is not a schedule name`);
  }
  return { kind: "oncall", schedule: schedule ?? null };
}

/** @throws InvalidInputError naming what is wrong, for the help message */
export function parseOverride(words: string[]): OnCallCommand {
  const usage =
    "override needs a schedule, a person and a duration, e.g. override primary @alice 4h";
  const [schedule, mention, durationText, ...extra] = words;
  if (!schedule || !mention || !durationText || extra.length > 0)
    throw new InvalidInputError(usage);
  if (!OnCallNamePattern.test(schedule)) {
    throw new InvalidInputError(`"${clip(schedule, 40)}" is not a schedule name: ${usage}`);
  }
  const user = MENTION.exec(mention)?.[1];
  if (!user) throw new InvalidInputError(`name the person with an @mention: ${usage}`);
  const duration = parseDuration(durationText);
  if (duration === undefined || duration < MIN_OVERRIDE_MS || duration > MAX_ONCALL_RANGE_MS) {
    throw new InvalidInputError(
      `an override lasts between 1m and 90d, like 30m, 4h or 2d, not "${clip(durationText, 40)}"`,
    );
  }
  return { kind: "override", schedule, slackUser: user, duration };
}

const mentionOf = (config: Pick<MonitoringConfig, "people">, person: string) => {
  const slack = config.people[person]?.slack;
  return slack ? `<@${slack}>` : escapeMrkdwn(person);
};
/** Slack renders the time in each reader's own zone; the fallback is UTC. */
const when = (iso: string) =>
  `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso.slice(0, 16).replace("T", " ")} UTC>`;

function onCallLine(config: Pick<MonitoringConfig, "people">, item: ScheduleOnCall): string {
  const name = `*${escapeMrkdwn(item.schedule)}*`;
  if (!item.person || !item.to) return `${name}: nobody on call`;
  return `${name}: ${mentionOf(config, item.person)} until ${when(item.to)}`;
}

/** Who is on call, or the override made; schedule and person problems are replies. */
export async function runOnCallCommand(
  command: OnCallCommand,
  deps: {
    config: MonitoringConfig;
    overrides: OverrideStore;
    now: number;
    by: string;
  },
): Promise<SlackMessage> {
  const { config, overrides, now, by } = deps;
  // Rotations (with luxon beneath them) are imported when someone asks, not at cold start.
  const { newOverride, whoIsOnCall } = await import("../oncall/overrides");
  if (command.schedule !== null && !Object.hasOwn(config.schedules, command.schedule)) {
    const known = Object.keys(config.schedules).join(", ") || "none configured";
    return problemMessage(`no schedule ${command.schedule} (schedules: ${known})`);
  }
  if (command.kind === "oncall") {
    const items = await whoIsOnCall(config, overrides, now, command.schedule ?? undefined);
    if (items.length === 0) return problemMessage("no on-call schedules are configured");
    const lines = items.slice(0, 40).map((item) => onCallLine(config, item));
    const text = clip(lines.join("\n"), 2900);
    return {
      response_type: "ephemeral",
      text: clip(
        `On call: ${items.map((item) => `${item.schedule} ${item.person ?? "nobody"}`).join(", ")}`,
        3000,
      ),
      blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
    };
  }
  const person = Object.entries(config.people).find(
    ([, candidate]) => candidate.slack === command.slackUser,
  )?.[0];
  if (!person) {
    return problemMessage(
      `${command.slackUser} is not among the configured people (people.<name>.slack)`,
    );
  }
  const override = newOverride(
    config,
    { schedule: command.schedule, person, from: now, to: now + command.duration, createdBy: by },
    now,
  );
  await overrides.put(override);
  const headline = `:calendar: ${mentionOf(config, person)} is on call for *${escapeMrkdwn(command.schedule)}* until ${when(override.to)} (override \`${override.id}\`, by <@${by.replace(/^slack:/, "")}>)`;
  return {
    response_type: "in_channel",
    text: clip(`${person} is on call for ${command.schedule} until ${override.to}`, 3000),
    blocks: [{ type: "section", text: { type: "mrkdwn", text: clip(headline, 2900) } }],
  };
}
