import * as z from "zod";
import {
  EscalationPolicySchema,
  type NotifyTarget,
  PersonSchema,
  PolicyNameSchema,
} from "../actions/escalation-policy";
import { ActionSpecSchema, ChannelSchema, EscalationSchema, SafetySchema } from "../actions/schema";
import { ChangeMatchSchema } from "../changes/match";
import { DurationSchema } from "../duration";
import { MaintenanceWindowSchema } from "../maintenance/schema";
import { onCallIssues, SchedulesSchema } from "../oncall/schema";
import { RuleSeveritySchema, SeveritySchema } from "../severity";
import { AlertMatchSchema, MatchSchema } from "./match";
import { GlobSchema, LevelNameSchema, NameSchema } from "./match-shape";

// Types only: the barrel takes the match and window schemas from their own modules, as a value
// re-exported here would make a function that uses one also evaluate this whole schema.
export type { MaintenanceWindowConfig } from "../maintenance/schema";
export type { MatchInput } from "./match";
export type { AlertMatch, Match } from "./match-shape";

const DAY_MS = 86_400_000;
const MIN_RETENTION_MS = 7 * DAY_MS;
const MAX_RETENTION_MS = 3650 * DAY_MS;

/**
 * A service: which signals are about it (the first service with a matching entry wins), what it
 * depends on (for inhibition), where its runbook is, and how its deploys are watched.
 *
 * @example
 * services: {
 *   checkout: {
 *     match: [{ source: "cloudwatch", alarmName: "checkout-*" }, { source: "sentry", project: "checkout" }],
 *     dependsOn: ["orders-db"],
 *     runbook: "https://wiki.example.com/runbooks/checkout",
 *   },
 * }
 */
export const ServiceSchema = z.strictObject({
  match: z.array(MatchSchema).min(1).max(50),
  dependsOn: z.array(NameSchema).max(50).default([]),
  runbook: z
    .url({ protocol: /^https?$/, error: "an http(s) URL" })
    .max(2048)
    .optional(),
  /** Which deploys are the service's (`ChangeMatchSchema`): deploy events name no alarm. */
  changes: z.array(ChangeMatchSchema).max(50).default([]),
  /** `false`: every alert of the service is an incident of its own (no grouping). */
  group: z.boolean().default(true),
  /**
   * Deploy watching: an alarm in `alarms` (or, without `alarms`, any critical incident of the
   * service) within `bake` after a change rolls that change back, behind the safety guards.
   */
  watch: z
    .strictObject({
      bake: DurationSchema.prefault("15m"),
      alarms: z.array(GlobSchema).min(1).max(100).optional(),
      /** When to check that the rollback worked (as an action's `verifyAfter`; default 5m). */
      verifyAfter: DurationSchema.optional(),
    })
    .optional(),
});
export type ServiceConfig = z.infer<typeof ServiceSchema>;

/**
 * In the spirit of Alertmanager's inhibit rules: while an incident matching `source` is open,
 * alerts matching `target` in the same service (`service`) or in services that depend on it
 * (`dependents`) are recorded but neither page nor act.
 */
export const InhibitRuleSchema = z.strictObject({
  source: AlertMatchSchema,
  target: AlertMatchSchema,
  scope: z.enum(["service", "dependents"]).default("service"),
});
export type InhibitRule = z.infer<typeof InhibitRuleSchema>;

/** A member account Firebreak acts in, through a role there that trusts Firebreak's. */
export const AccountSchema = z.strictObject({
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "an IAM role ARN"),
  /** Passed as sts:ExternalId when the member account's trust policy asks for one. */
  externalId: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/, "2 to 1224 of letters, digits and +=,.@:/-")
    .optional(),
});

export const RuleSchema = z.strictObject({
  name: NameSchema,
  description: z.string().max(500).optional(),
  match: MatchSchema,
  /** `ignore`: dropped before any incident exists (counted in metrics and the summary). */
  severity: RuleSeveritySchema,
  /** Run in order when the rule's incident opens (`scale` also on re-triggers past its cooldown). */
  actions: z.array(ActionSpecSchema).max(20).default([]),
  /** The escalation policy (a key of `escalationPolicies`); none: the `escalation` block. */
  escalation: PolicyNameSchema.optional(),
});
export type Rule = z.infer<typeof RuleSchema>;

const IncidentsSchema = z.strictObject({
  /** Resolving and re-triggering `transitions` times within `window` marks an incident flapping. */
  flapping: z
    .strictObject({
      transitions: z.number().int().min(1).max(100).default(3),
      window: DurationSchema.prefault("30m"),
    })
    .prefault({}),
  /** How long a delivery id is remembered per fingerprint to drop redeliveries. */
  dedupWindow: DurationSchema.prefault("15m"),
  /**
   * An alert joins the open incident of its service if that incident started within this
   * window; otherwise it opens one.
   */
  groupWindow: DurationSchema.prefault("5m"),
  /** How many signals get their own timeline entry before the timeline only samples. */
  timelineSignals: z.number().int().min(1).max(1000).default(20),
  /** Log and Sentry incidents quiet this long resolve themselves (`false`: never). */
  autoResolve: z
    .strictObject({
      logs: z.union([DurationSchema, z.literal(false)]).prefault("30m"),
      sentry: z.union([DurationSchema, z.literal(false)]).prefault("24h"),
      /** Findings do not recover: someone resolves them (or an auto-resolve set here). */
      security: z.union([DurationSchema, z.literal(false)]).default(false),
      /** AWS Health events close themselves (a `closed` event resolves); this is the fallback. */
      health: z.union([DurationSchema, z.literal(false)]).default(false),
    })
    .prefault({}),
  /**
   * A signal's own time is trusted only this close to its arrival: `past` up to EventBridge's
   * 24 h retry horizon, `future` for clock skew. Outside it the signal is ordered by arrival (a
   * forged or misdated OK "in 2099" cannot resolve an incident for ever after), and the timeline
   * says so.
   */
  trustedTime: z
    .strictObject({
      past: DurationSchema.prefault("24h"),
      future: DurationSchema.prefault("5m"),
    })
    .prefault({}),
  /**
   * How long a resolved incident, its timeline and its fingerprint's pointer are kept after it
   * resolves; then DynamoDB's TTL deletes them and reads treat them as gone. At least 7 days
   * (a post-mortem is written in the week after), at most 10 years.
   *
   * @example
   * incidents: { retention: "90d" }
   */
  retention: DurationSchema.prefault("400d")
    .refine((ms) => ms >= MIN_RETENTION_MS, {
      message: "keep resolved incidents at least 7d, long enough to write their post-mortem",
    })
    .refine((ms) => ms <= MAX_RETENTION_MS, { message: "at most 3650d" }),
});

const LogsSchema = z.strictObject({
  /** Log lines below this level are noise unless a rule names them explicitly. */
  minLevel: LevelNameSchema.default("error"),
  /**
   * At most this many signals from one CloudWatch Logs delivery (a 200 KB gzip can carry 60,000
   * lines). Past it, every distinct error's first line is kept while room allows, then the
   * earliest lines, and one more signal counts what was left out and quotes the first of it.
   *
   * @example
   * logs: { maxSignalsPerDelivery: 200 }
   */
  maxSignalsPerDelivery: z.number().int().min(1).max(10_000).default(500),
});

const CloudWatchSchema = z.strictObject({
  /** INSUFFICIENT_DATA is usually a missing datapoint, not an outage: ignored unless asked. */
  insufficientData: z.enum(["ignore", "trigger"]).default("ignore"),
});

const PagingSchema = z.strictObject({
  /**
   * Pages per channel (first pages and escalations), counted in the table across every
   * dispatcher. Past either limit, pages fold into one digest per channel and minute, sent when
   * the minute turns: a thousand alarms at once make twenty pages and a digest, not a thousand.
   *
   * @example
   * paging: { budget: { perMinute: 10, perHour: 60 } }
   */
  budget: z
    .strictObject({
      perMinute: z.number().int().min(1).max(1000).default(20),
      perHour: z.number().int().min(1).max(10_000).default(200),
    })
    .prefault({})
    .refine((budget) => budget.perHour >= budget.perMinute, {
      message: "perHour must be at least perMinute",
      path: ["perHour"],
    }),
});

/** The whole policy: `monitoring.config.ts` or a JSON file named by `MONITORING_CONFIG`. */
const ConfigSchemaShape = z.strictObject({
  $schema: z.string().optional(),
  rules: z.array(RuleSchema).default([]),
  default: z.strictObject({ severity: SeveritySchema }).default({ severity: "info" }),
  incidents: IncidentsSchema.prefault({}),
  logs: LogsSchema.prefault({}),
  cloudwatch: CloudWatchSchema.prefault({}),
  channels: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/), ChannelSchema).default({}),
  /**
   * Slack user ids who may change incidents from Slack (acknowledge, resolve, approve, silence).
   * Anyone else may look. `"anyone"`: every member of the workspace, guests included, may act.
   * Required when a rule remediates (see the refinement below).
   */
  responders: z
    .union([
      z.literal("anyone"),
      z.array(z.string().regex(/^[UW][A-Z0-9]{2,20}$/, "a Slack user id such as U012AB3CD")),
    ])
    .optional(),
  slack: z
    .strictObject({
      /** The slash command as registered in the Slack app. */
      command: z
        .string()
        .regex(/^\/[a-z0-9_-]{1,31}$/, "a slash command such as /incident")
        .default("/incident"),
    })
    .prefault({}),
  /** The escalation of incidents whose rule names no policy: re-pages to channels. */
  escalation: EscalationSchema.prefault({}),
  /** Named escalation policies: levels of people, schedules and channels (see README). */
  escalationPolicies: z.record(PolicyNameSchema, EscalationPolicySchema).default({}),
  /** People escalation policies notify, by name, with how each is reached. */
  people: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,39}$/i), PersonSchema).default({}),
  /**
   * On-call schedules: rotations of `people` (by name) in a time zone, with optional layers
   * and restrictions; overrides are made through the API or Slack (see README, "On call").
   *
   * @example
   * schedules: {
   *   primary: {
   *     timeZone: "Europe/Berlin",
   *     rotation: { people: ["alice", "bob"], shift: "1w", handoff: "Mon 09:00", start: "2026-01-05" },
   *   },
   * }
   */
  schedules: SchedulesSchema,
  paging: PagingSchema.prefault({}),
  safety: SafetySchema.prefault({}),
  /** Services, by name: see `ServiceSchema`. */
  services: z.record(NameSchema, ServiceSchema).default({}),
  /** Inhibit rules: see `InhibitRuleSchema`. */
  inhibit: z.array(InhibitRuleSchema).max(100).default([]),
  /**
   * Maintenance windows: one period, or a recurrence in a time zone.
   *
   * @example
   * maintenance: [{ name: "db-patching", match: { service: "orders-db" }, cron: "0 2 * * SAT", timeZone: "Europe/Berlin", duration: "2h" }]
   */
  maintenance: z.array(MaintenanceWindowSchema).max(100).default([]),
  /**
   * Member accounts of an organization whose alarms reach this Firebreak, by account id, with
   * the role remediation assumes there (see README, "Every account").
   */
  accounts: z
    .record(z.string().regex(/^\d{12}$/, "a 12-digit account id"), AccountSchema)
    .default({}),
});

export const ConfigSchema = ConfigSchemaShape.superRefine((config, ctx) => {
  const channel = (name: string, path: Array<string | number>) => {
    if (!(name in config.channels)) {
      const known = Object.keys(config.channels).join(", ") || "none defined";
      ctx.addIssue({
        code: "custom",
        path,
        message: `unknown channel "${name}" (channels: ${known})`,
      });
    }
  };
  config.rules.forEach((rule, index) => {
    rule.actions.forEach((action, position) => {
      if (action.type === "page")
        channel(action.channel, ["rules", index, "actions", position, "channel"]);
    });
  });
  for (const [index, name] of config.escalation.channels.entries()) {
    channel(name, ["escalation", "channels", index]);
  }
  config.rules.forEach((rule, index) => {
    if (rule.escalation !== undefined && !(rule.escalation in config.escalationPolicies)) {
      const known = Object.keys(config.escalationPolicies).join(", ") || "none defined";
      ctx.addIssue({
        code: "custom",
        path: ["rules", index, "escalation"],
        message: `unknown escalation policy "${rule.escalation}" (escalationPolicies: ${known})`,
      });
    }
  });
  for (const [name, policy] of Object.entries(config.escalationPolicies)) {
    policy.levels.forEach((level, index) => {
      level.notify.forEach((target: NotifyTarget, position) => {
        const path = ["escalationPolicies", name, "levels", index, "notify", position];
        if ("channel" in target) channel(target.channel, [...path, "channel"]);
        if ("schedule" in target && !(target.schedule in config.schedules)) {
          const known = Object.keys(config.schedules).join(", ") || "none defined";
          ctx.addIssue({
            code: "custom",
            path: [...path, "schedule"],
            message: `unknown schedule "${target.schedule}" (schedules: ${known})`,
          });
        }
        if ("person" in target && !(target.person in config.people)) {
          const known = Object.keys(config.people).join(", ") || "none defined";
          ctx.addIssue({
            code: "custom",
            path: [...path, "person"],
            message: `unknown person "${target.person}" (people: ${known})`,
          });
        }
      });
    });
  }
  for (const issue of onCallIssues(config.people, config.schedules)) {
    ctx.addIssue({ code: "custom", ...issue });
  }
  // Approving a failover or silencing every alarm is one Slack command away: a policy that
  // acts on AWS must say who may type it, or say in so many words that anyone may.
  if (config.responders === undefined) {
    const remediation = firstRemediation(config.rules);
    if (remediation) {
      ctx.addIssue({
        code: "custom",
        path: ["responders"],
        message: `required when the policy has remediation actions (rules[${remediation.rule}].actions[${remediation.action}] is a ${remediation.type}); list Slack user ids, or say responders: "anyone"`,
      });
    }
  }
  serviceIssues(config, ctx);
  const seen = new Map<string, number>();
  config.rules.forEach((rule, index) => {
    const first = seen.get(rule.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["rules", index, "name"],
        message: `duplicate rule name "${rule.name}" (also rules[${first}])`,
      });
    } else seen.set(rule.name, index);
  });
});

type Checked = Pick<
  z.output<typeof ConfigSchemaShape>,
  "services" | "inhibit" | "maintenance" | "accounts"
>;

/** Cross-references of services, inhibit rules, maintenance windows and accounts. */
function serviceIssues(config: Checked, ctx: z.RefinementCtx): void {
  const names = Object.keys(config.services);
  const known = names.join(", ") || "none defined";
  const service = (name: string, path: Array<string | number>) => {
    if (!(name in config.services)) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `unknown service "${name}" (services: ${known})`,
      });
    }
  };
  for (const [name, definition] of Object.entries(config.services)) {
    definition.dependsOn.forEach((dependency, index) => {
      const path = ["services", name, "dependsOn", index];
      if (dependency === name) {
        ctx.addIssue({ code: "custom", path, message: "a service cannot depend on itself" });
      } else service(dependency, path);
    });
  }
  const services = (value: string | string[] | undefined, path: Array<string | number>) => {
    if (value === undefined) return;
    for (const [index, name] of (Array.isArray(value) ? value : [value]).entries()) {
      service(name, Array.isArray(value) ? [...path, index] : path);
    }
  };
  config.inhibit.forEach((rule, index) => {
    services(rule.source.service, ["inhibit", index, "source", "service"]);
    services(rule.target.service, ["inhibit", index, "target", "service"]);
  });
  const windows = new Map<string, number>();
  config.maintenance.forEach((window, index) => {
    services(window.match.service, ["maintenance", index, "match", "service"]);
    const first = windows.get(window.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["maintenance", index, "name"],
        message: `duplicate maintenance window "${window.name}" (also maintenance[${first}])`,
      });
    } else windows.set(window.name, index);
  });
  for (const [account, { roleArn }] of Object.entries(config.accounts)) {
    if (roleArn.split(":")[4] !== account) {
      ctx.addIssue({
        code: "custom",
        path: ["accounts", account, "roleArn"],
        message: `the role must be in account ${account}`,
      });
    }
  }
}

/** The first action in the rules that changes AWS (anything but a page), by position. */
function firstRemediation(
  rules: ReadonlyArray<Rule>,
): { rule: number; action: number; type: string } | undefined {
  for (const [ruleIndex, rule] of rules.entries()) {
    const actionIndex = rule.actions.findIndex((action) => action.type !== "page");
    const action = rule.actions[actionIndex];
    if (action) return { rule: ruleIndex, action: actionIndex, type: action.type };
  }
  return undefined;
}

/** The config as written by people (durations as strings, defaults optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The config after validation (durations in milliseconds, defaults filled in). */
export type MonitoringConfig = z.output<typeof ConfigSchema>;

/**
 * Types a config for editors without changing it; validation happens once, when it loads.
 *
 * @example
 * export default defineConfig({
 *   rules: [{ name: "api-latency", match: { alarmName: "api-*-latency" }, severity: "warning" }],
 * });
 */
export const defineConfig = (config: ConfigInput): ConfigInput => config;
