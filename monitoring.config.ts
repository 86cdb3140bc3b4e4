import { defineConfig } from "@firebreak/core";

/**
 * Firebreak's policy: which signals matter how much. Rules are tried in order and the first
 * match wins; a signal no rule matches gets `default`. Validated at start: a mistake stops
 * Firebreak with the path of the bad key. See the README's config reference.
 */
export default defineConfig({
  rules: [
    // Error tracking: what Sentry calls an error or worse is someone's broken request.
    {
      name: "error-tracking",
      match: { source: "sentry", level: ["fatal", "error"] },
      severity: "critical",
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
    },
    {
      name: "crashes",
      match: {
        source: "logs",
        message: "Runtime\\.(ExitError|OutOfMemory)|Process exited before completing|out of memory",
      },
      severity: "critical",
    },
    {
      name: "application-errors",
      match: { source: "logs", level: ["error", "fatal"] },
      severity: "critical",
    },

    // Metric alarms: failing requests are critical; latency, saturation and backlogs warn.
    {
      name: "availability",
      match: { source: "cloudwatch", alarmName: "*5xx*" },
      severity: "critical",
    },
    {
      name: "error-rates",
      match: { source: "cloudwatch", alarmName: "*-errors" },
      severity: "critical",
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
});
