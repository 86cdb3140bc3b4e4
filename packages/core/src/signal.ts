import * as z from "zod";
import { SeveritySchema } from "./severity";

/** `security`: GuardDuty and Security Hub findings; `health`: AWS Health events. */
export const SOURCES = ["cloudwatch", "logs", "sentry", "security", "health"] as const;
export const SourceSchema = z.enum(SOURCES);
export type Source = z.infer<typeof SourceSchema>;

/**
 * Log and Sentry levels, normalised so one rule matches every spelling
 * (`WARN` and `warning`, Python's `CRITICAL` and `fatal`).
 */
export const LEVELS = ["debug", "info", "warning", "error", "fatal"] as const;
export const LevelSchema = z.enum(LEVELS);
export type Level = z.infer<typeof LevelSchema>;

const LEVEL_ALIASES: Record<string, Level> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  notice: "info",
  warn: "warning",
  warning: "warning",
  err: "error",
  error: "error",
  critical: "fatal",
  crit: "fatal",
  alert: "fatal",
  emergency: "fatal",
  fatal: "fatal",
};

/** The canonical level for a spelling, or undefined when it is not a level at all. */
export const normaliseLevel = (text: string): Level | undefined =>
  LEVEL_ALIASES[text.trim().toLowerCase()];

export const levelRank = (level: Level): number => LEVELS.indexOf(level);

/** Longest title and detail kept: they come from alarms, logs and Sentry, i.e. from anyone. */
export const MAX_TITLE = 300;
export const MAX_DETAIL = 2000;

/** The facts about a signal that rules match on (see `MatchSchema`). */
export const SignalAttributesSchema = z.object({
  account: z.string().max(64).optional(),
  region: z.string().max(64).optional(),
  alarmName: z.string().max(512).optional(),
  namespace: z.string().max(512).optional(),
  metricName: z.string().max(512).optional(),
  logGroup: z.string().max(512).optional(),
  logStream: z.string().max(512).optional(),
  level: LevelSchema.optional(),
  message: z.string().max(MAX_DETAIL).optional(),
  project: z.string().max(256).optional(),
  environment: z.string().max(256).optional(),
  /** The alarm metric's dimensions (`FunctionName`, `DBClusterIdentifier`...): target templates read them. */
  dimensions: z.record(z.string().max(255), z.string().max(1024)).optional(),
  /** What the team wrote about it (a CloudWatch alarm's `AlarmDescription`, often a runbook link). */
  description: z.string().max(MAX_DETAIL).optional(),
  /** A finding's type: GuardDuty's `type`, a Security Hub finding's first `Types` entry. */
  findingType: z.string().max(512).optional(),
  /** An AWS Health event's `eventTypeCode` (`AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED`). */
  eventTypeCode: z.string().max(512).optional(),
});
export type SignalAttributes = z.infer<typeof SignalAttributesSchema>;

/** Where a signal came from, for people to click through. */
export const LinkSchema = z.object({
  label: z.string().max(MAX_TITLE),
  url: z.string().max(2048).optional(),
  arn: z.string().max(2048).optional(),
});
export type Link = z.infer<typeof LinkSchema>;

/**
 * The one shape every source is turned into at the edge.
 *
 * `deliveryId` is what makes processing idempotent: the EventBridge event id, the SNS
 * MessageId, the CloudWatch Logs event id or Sentry's Request-ID. The same delivery seen
 * twice changes nothing.
 */
export const SignalSchema = z.object({
  source: SourceSchema,
  kind: z.enum(["trigger", "recovery"]),
  deliveryId: z.string().min(1).max(512),
  fingerprint: z.string().min(1).max(1024),
  title: z.string().min(1).max(MAX_TITLE),
  /** When it happened: the time it reports, or its arrival when that is not trusted. */
  at: z.iso.datetime(),
  /**
   * The time the signal reported, kept as data when it fell outside the trusted window around
   * its arrival (`incidents.trustedTime`): then `at` is the arrival, which orders it.
   */
  reportedAt: z.iso.datetime().optional(),
  attributes: SignalAttributesSchema,
  /**
   * The severity the source itself gives (GuardDuty's score, a Security Hub label, an AWS Health
   * category): applied when no rule matches, in place of `default.severity`. Rules still decide.
   */
  suggestedSeverity: SeveritySchema.optional(),
  link: LinkSchema.nullable(),
  detail: z.string().max(MAX_DETAIL).nullable(),
});
export type Signal = z.infer<typeof SignalSchema>;
export type SignalKind = Signal["kind"];

/** Cuts text to a length, marking the cut, so a long payload never bloats an incident. */
export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;
