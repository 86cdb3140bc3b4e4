import { defineConfig } from "@firebreak/core";
import { BENCH_TEAMS, benchProject } from "./teams";

const teams = Array.from({ length: BENCH_TEAMS }, (_, index) => benchProject(index));

/**
 * The benchmark's policy: every scenario's incidents are critical and page (pages go to the local
 * outbox), so "pages per incident" is measured; no escalation repeats, so every page counted is a
 * first page.
 */
export default defineConfig({
  rules: [
    {
      name: "storm",
      match: { source: "cloudwatch", alarmName: "storm-*" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    // Each team's new Sentry issues page its own channel.
    ...teams.map((team) => ({
      name: `errors-${team}`,
      match: { source: "sentry" as const, project: team },
      severity: "critical" as const,
      actions: [{ type: "page" as const, channel: team }],
    })),
    {
      name: "log-errors",
      match: { source: "logs", level: ["error", "fatal"] },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  channels: {
    oncall: { sns: "arn:aws:sns:us-east-1:123456789012:bench-oncall" },
    ...Object.fromEntries(
      teams.map((team) => [team, { sns: `arn:aws:sns:us-east-1:123456789012:bench-${team}` }]),
    ),
  },
  escalation: { maxRepeats: 0 },
  // At the default budget (20 pages a minute per channel) a storm's first 20 pages go out and the
  // rest wait for the minute's digest, by design: alarm to first page in a storm would measure
  // the budget's minute, not the pipeline. The highest budget lets every first page through.
  paging: { budget: { perMinute: 1000, perHour: 10_000 } },
});
