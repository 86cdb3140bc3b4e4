import * as z from "zod";

/** How urgent an incident is. Ordered: a later signal may raise it, never silently lower it. */
export const SEVERITIES = ["info", "warning", "critical"] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/**
 * What a rule may give a signal: a severity, or `ignore` to drop it before any incident exists
 * (counted, never stored or paged).
 */
export const RuleSeveritySchema = z.enum([...SEVERITIES, "ignore"]);
export type RuleSeverity = z.infer<typeof RuleSeveritySchema>;

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

export const maxSeverity = (a: Severity, b: Severity): Severity =>
  severityRank(a) >= severityRank(b) ? a : b;
