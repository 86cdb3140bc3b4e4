import { defineConfig } from "@firebreak/core";

/**
 * The policy the local-stack tests run with unless they bring their own: rules, channels and
 * remediations but no services, so every fingerprint is an incident of its own and each test
 * pins exactly what it speaks of. The shipped example (monitoring.config.ts) groups by service;
 * shipped-config.test.ts runs that one.
 */
export default defineConfig({
  rules: [
    // A fatal error right after a deploy: roll the alias back, then tell someone.
    {
      name: "bad-deploy",
      match: { source: "sentry", project: "checkout", level: "fatal" },
      severity: "critical",
      actions: [
        {
          type: "rollback",
          target: { kind: "lambda-alias", functionName: "checkout", alias: "live" },
        },
        { type: "page", channel: "oncall" },
      ],
    },
    // Error tracking: what Sentry calls an error or worse is someone's broken request.
    {
      name: "error-tracking",
      match: { source: "sentry", level: ["fatal", "error"] },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    {
      name: "error-tracking-warnings",
      match: { source: "sentry", level: "warning" },
      severity: "warning",
    },

    // Application logs: timeouts, crashes and errors are outages in progress.
    {
      name: "lambda-timeouts",
      match: { source: "logs", message: "Task timed out after" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    {
      name: "crashes",
      match: {
        source: "logs",
        message: "Runtime\\.(ExitError|OutOfMemory)|Process exited before completing|out of memory",
      },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    {
      name: "application-errors",
      match: { source: "logs", level: ["error", "fatal"] },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },

    // Metric alarms: failing requests are critical; latency, saturation and backlogs warn.
    {
      name: "availability",
      match: { source: "cloudwatch", alarmName: "*5xx*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "checkout-api" },
          by: 2,
          max: 20,
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "database-writer-down",
      match: { source: "cloudwatch", namespace: "AWS/RDS", alarmName: "*-writer-down" },
      severity: "critical",
      // Failover waits for a person to approve it (`/incident approve <id> <action>`).
      actions: [
        { type: "failover", target: { kind: "rds-cluster", clusterId: "orders-db" } },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "error-rates",
      match: { source: "cloudwatch", alarmName: "*-errors" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
    // Business and analytics metrics are worth a look in working hours, not a page at night.
    {
      name: "business-metrics",
      match: { source: "cloudwatch", namespace: "Business/*" },
      severity: "warning",
    },
    { name: "metric-alarms", match: { source: "cloudwatch" }, severity: "warning" },
  ],
  default: { severity: "info" },
  channels: {
    oncall: { sns: "arn:aws:sns:us-east-1:123456789012:firebreak-oncall" },
    managers: { sns: "arn:aws:sns:us-east-1:123456789012:firebreak-managers" },
  },
  escalation: { repeatAfter: "5m", maxRepeats: 3, channels: ["oncall", "managers"] },
  // Who may acknowledge, resolve, approve (an RDS failover among them) and silence from Slack;
  // everyone else may only look. These ids are placeholders: put your on-call team's Slack user
  // ids here (in Slack: a profile's "⋮" menu, "Copy member ID"). Required while rules remediate;
  // `responders: "anyone"` lets every member of the workspace act, guests included.
  responders: ["U0000000001", "U0000000002"],
  // Remediations are planned and recorded but change nothing until you set dryRun: false (see
  // the README, "Responses: actions and safety", for going live).
  safety: { dryRun: true, cooldown: "10m", maxActionsPerHour: 6 },
});
