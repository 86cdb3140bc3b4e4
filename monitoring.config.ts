import { defineConfig } from "@firebreak/core";

/**
 * Firebreak's policy for a small system: a checkout service (an API on ECS behind a load
 * balancer, Lambda workers, a Sentry project), the orders database it depends on, a payments
 * queue worker and an inventory sync job. Signals are assigned to a service (first match wins),
 * grouped into one incident per service and problem, classified by rules (first match wins) and
 * responded to. Validated at start: a mistake stops Firebreak with the path of the bad key. See
 * the README's config reference.
 *
 * The remediation targets and paging channels below are examples (the local stack simulates
 * them): point them at your own services and topics before deploying.
 */
export default defineConfig({
  services: {
    checkout: {
      match: [
        { source: "cloudwatch", alarmName: "*checkout*" },
        { source: "logs", logGroup: "/aws/lambda/checkout*" },
        { source: "sentry", project: "checkout" },
      ],
      dependsOn: ["orders-db"],
      runbook: "https://wiki.example.com/runbooks/checkout",
      // Deploys of the checkout functions are checkout's changes...
      changes: [{ functionName: "checkout*" }],
      // ...and a 5xx or latency alarm in the 15 minutes after one rolls it back.
      // (checked two minutes after it ran: alarms back to OK, or the next step).
      watch: {
        bake: "15m",
        alarms: ["api-checkout-5xx-errors", "api-checkout-latency"],
        verifyAfter: "2m",
      },
    },
    "orders-db": {
      match: [{ source: "cloudwatch", namespace: "AWS/RDS", alarmName: "orders-db-*" }],
      runbook: "https://wiki.example.com/runbooks/orders-db",
    },
    payments: {
      match: [
        { source: "cloudwatch", alarmName: "payments-*" },
        { source: "logs", logGroup: "/aws/lambda/payments*" },
        { source: "sentry", project: "payments" },
      ],
      dependsOn: ["orders-db"],
    },
    inventory: {
      match: [
        { source: "cloudwatch", alarmName: "inventory-*" },
        { source: "logs", logGroup: "/aws/lambda/inventory*" },
      ],
    },
  },
  rules: [
    // Target tracking scaling policies create and own these alarms: they are how autoscaling
    // works, not an outage. Dropped before any incident exists (counted in the summary).
    {
      name: "autoscaling-internals",
      match: { source: "cloudwatch", alarmName: "TargetTracking-*" },
      severity: "ignore",
    },
    // A fatal error right after a deploy: roll back that deploy, then tell someone.
    {
      name: "bad-deploy",
      match: { source: "sentry", project: "checkout", level: "fatal" },
      severity: "critical",
      actions: [
        { type: "rollback", target: "last-change" },
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

    // Application logs: timeouts and crashes are outages in progress; other error lines are
    // worth a look (the service's alarms say whether users are hurt).
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
      severity: "warning",
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
          // Still failing five minutes after the scale-out: roll back the last deploy.
          verifyAfter: "5m",
          ifIneffective: [{ type: "rollback", target: "last-change" }],
        },
        { type: "page", channel: "oncall" },
      ],
    },
    {
      name: "database-writer-down",
      match: { source: "cloudwatch", namespace: "AWS/RDS", alarmName: "*-writer-down" },
      severity: "critical",
      // The cluster named by the alarm's own dimension; failover waits for a person to approve
      // it (`/incident approve <id> <action>`).
      actions: [
        {
          type: "failover",
          target: { kind: "rds-cluster", clusterId: "{dimensions.DBClusterIdentifier}" },
        },
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
    // GuardDuty, Security Hub and AWS Health keep their own severities (GuardDuty 7 and above
    // critical) when no rule matches; credential misuse pages whatever its score.
    {
      name: "credential-misuse",
      match: { source: "security", findingType: "UnauthorizedAccess:IAMUser/*" },
      severity: "critical",
      actions: [{ type: "page", channel: "oncall" }],
    },
  ],
  default: { severity: "info" },
  // While the database is down, the warnings of the services that depend on it are recorded but
  // do not page: the database's incident is the one to work on.
  inhibit: [
    {
      source: { service: "orders-db", severity: "critical" },
      target: { severity: ["warning", "info"] },
      scope: "dependents",
    },
  ],
  // The database is patched on Sunday nights: its alarms then are expected.
  maintenance: [
    {
      name: "orders-db-patching",
      match: { service: "orders-db" },
      cron: "0 2 * * SUN",
      timeZone: "Europe/Berlin",
      duration: "1h",
      reason: "weekly engine patching",
    },
  ],
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
