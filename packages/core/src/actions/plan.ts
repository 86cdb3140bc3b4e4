import { type DeployWatch, planDeployWatch } from "../changes/watch";
import type { MonitoringConfig, Rule } from "../config/schema";
import { formatDuration } from "../duration";
import type { IncidentRecord } from "../incidents/model";
import type { IncidentEvent } from "../incidents/reduce";
import { asHold, type Hold, holdText, isHeld } from "../silences/hold";
import type { Silence } from "../silences/record";
import { silenceFor } from "../silences/silence";
import { policyOf } from "./due";
import { type EscalationPolicy, type Person, personChannel, personOf } from "./escalation-policy";
import { escalationStep } from "./escalation-view";
import { type ActionRecord, type ActionTrigger, type PageKind, TRANSPORTS } from "./model";
import { restoreOnResolve } from "./remediations";
import type { ActionSpec } from "./schema";
import { resolveAction, type TargetFacts } from "./targets";

/** `region`: the default region of targets; `lastChange`: read ahead for `last-change` rollbacks. */
export interface PlanContext extends TargetFacts {
  config: MonitoringConfig;
  now: number;
  /** Silences in force: an incident they match is recorded, and nothing responds to it. */
  silences?: ReadonlyArray<Silence>;
  /**
   * What holds the incident now (a silence, a maintenance window, an inhibiting incident; see
   * `HoldReader`): when given, it is asked instead of `silences`. Null: nothing holds it.
   */
  hold?: Hold | null;
  /** Who schedules have on call, for escalation policies' schedule targets. */
  onCall?: OnCallLookup;
  /** A deploy the opening incident caught in its bake window (`deployWatchFor`): rolled back. */
  deployWatch?: DeployWatch | null;
}

const iso = (time: number) => new Date(time).toISOString();

/**
 * Adds an action to the incident's ledger and its timeline. The ledger is on the incident item,
 * written with the change that caused it: a decided action cannot be lost before it runs.
 */
function addAction(
  record: IncidentRecord,
  fields: Pick<
    ActionRecord,
    "type" | "rule" | "spec" | "targetKey" | "trigger" | "status" | "reason" | "dryRun" | "page"
  >,
  now: number,
): ActionRecord {
  const action: ActionRecord = {
    id: `a${record.actions.length + 1}`,
    ...fields,
    plannedAt: iso(now),
    at: iso(now),
    requests: [],
    before: null,
    attempts: 0,
    notBefore: null,
    claim: null,
    approvedBy: null,
    followUp: null,
  };
  record.actions.push(action);
  record.timeline.push({
    type: "action",
    at: action.at,
    id: action.id,
    action: action.type,
    target: action.targetKey,
    status: action.status,
    reason: action.reason,
  });
  return action;
}

/** How a person is reached: a Slack DM, an SMS through SNS, their own PagerDuty service. */
const personTransports = (person: Person | undefined) =>
  TRANSPORTS.filter((transport) =>
    transport === "sns" ? person?.phone : transport === "slack" ? person?.slack : person?.pagerduty,
  );

/**
 * Records a notification that could not go to anyone (a schedule with nobody on call), so the
 * timeline says so rather than the level passing in silence.
 */
export function recordSkippedPage(
  record: IncidentRecord,
  targetKey: string,
  trigger: ActionTrigger,
  reason: string,
  context: PlanContext,
): ActionRecord {
  return addAction(
    record,
    {
      type: "page",
      rule: record.incident.rule,
      spec: { target: targetKey },
      targetKey,
      trigger,
      status: "skipped",
      reason,
      dryRun: false,
      page: null,
    },
    context.now,
  );
}

/**
 * Plans a page of `kind` to a channel, or to a person (`person:<name>`, see `personChannel`):
 * one delivery per transport the channel has or the person is reached by. A person with no way
 * to reach them is recorded as skipped.
 */
export function planPage(
  record: IncidentRecord,
  channel: string,
  kind: PageKind,
  trigger: ActionTrigger,
  note: string | null,
  context: PlanContext,
): ActionRecord {
  const configured = context.config.channels[channel];
  const person = personOf(channel);
  const transports =
    person !== null
      ? personTransports(context.config.people[person])
      : TRANSPORTS.filter((transport) =>
          transport === "sns"
            ? configured?.sns
            : transport === "slack"
              ? configured?.slackWebhook
              : configured?.pagerduty,
        );
  if (person !== null && transports.length === 0) {
    const why =
      person in context.config.people
        ? "has no Slack id, phone or PagerDuty key"
        : "is not in people";
    return recordSkippedPage(
      record,
      `page:${channel}`,
      trigger,
      `${person} ${why}: ${note ?? kind}`,
      context,
    );
  }
  // PagerDuty holds the alert's state; Slack and SNS readers need only openings and endings.
  const wanted =
    kind === "acknowledged" || (person !== null && kind === "resolved")
      ? transports.filter((transport) => transport === "pagerduty")
      : transports;
  return addAction(
    record,
    {
      type: "page",
      rule: record.incident.rule,
      spec: { channel, kind },
      targetKey: `page:${channel}`,
      trigger,
      status: "planned",
      reason: note,
      dryRun: false,
      page: {
        channel,
        kind,
        text: note ?? "",
        deliveries: Object.fromEntries(
          wanted.map((transport) => [
            transport,
            { status: "pending", attempts: 0, detail: null, notBefore: null },
          ]),
        ),
      },
    },
    context.now,
  );
}

/** The channels a person watches for this incident: its rule's pages, else the first escalation channel. */
export function humanChannels(record: IncidentRecord, config: MonitoringConfig): string[] {
  const rule = ruleOf(record, config);
  const fromRule = (rule?.actions ?? []).flatMap((action) =>
    action.type === "page" ? [action.channel] : [],
  );
  const fallback = config.escalation.channels[0] ?? Object.keys(config.channels)[0];
  return [...new Set(fromRule.length ? fromRule : fallback ? [fallback] : [])];
}

/**
 * Channels this incident has been paged on (the resolve notice goes to each). A page the budget
 * folded into a digest (skipped) did not page: its channel hears no resolve notice either.
 */
export function pagedChannels(record: IncidentRecord): string[] {
  return [
    ...new Set(
      record.actions.flatMap((action) =>
        action.page &&
        action.status !== "skipped" &&
        action.page.kind !== "resolved" &&
        action.page.kind !== "acknowledged"
          ? [action.page.channel]
          : [],
      ),
    ),
  ];
}

/**
 * Whether a paged channel hears resolve and acknowledge notices: a channel's PagerDuty alert
 * follows the incident, every transport hears the resolve; a person only through PagerDuty,
 * so nobody is woken by an SMS to say it is over.
 */
function hearsNotices(
  channel: string,
  config: MonitoringConfig,
  kind: "resolved" | "acknowledged",
): boolean {
  const person = personOf(channel);
  if (person !== null) return config.people[person]?.pagerduty !== undefined;
  return kind === "resolved" || config.channels[channel]?.pagerduty !== undefined;
}

const ruleOf = (record: IncidentRecord, config: MonitoringConfig): Rule | undefined =>
  config.rules.find((rule) => rule.name === record.incident.rule);

function pageHumans(
  record: IncidentRecord,
  note: string,
  trigger: ActionTrigger,
  context: PlanContext,
) {
  for (const channel of humanChannels(record, context.config)) {
    planPage(record, channel, "page", trigger, note, context);
  }
}

/**
 * Says in the timeline what holds the incident (once per hold): a silence or a window as a
 * `silenced` entry naming it and its end, an inhibition as a note naming the incident that
 * holds it (it has no end of its own). The inhibited alerts carry `inhibitedBy`.
 */
function noteHold(record: IncidentRecord, hold: Hold, now: number): void {
  if (hold.kind === "inhibition") {
    for (const alert of record.alerts) {
      const by = hold.alerts[alert.id];
      if (by !== undefined) alert.inhibitedBy = by;
    }
    const text = holdText(hold);
    const last = record.timeline.findLast(
      (entry) => entry.type === "note" && entry.by === "inhibit",
    );
    if (last?.type === "note" && last.text === text) return;
    record.timeline.push({ type: "note", at: iso(now), by: "inhibit", text });
    return;
  }
  const last = record.timeline.findLast((entry) => entry.type === "silenced");
  if (last?.type === "silenced" && last.silenceId === hold.id && last.until === hold.endsAt) return;
  record.timeline.push({
    type: "silenced",
    at: iso(now),
    silenceId: hold.id,
    until: hold.endsAt,
    reason:
      hold.kind === "maintenance"
        ? `maintenance window ${hold.name}${hold.reason ? `: ${hold.reason}` : ""}`
        : hold.reason,
  });
}

/**
 * When the sweep looks at a held incident again: a silence's or window's end; an inhibition has
 * none, so every sweep asks whether its incident is still open.
 */
const revisitAt = (hold: Hold, now: number) => hold.endsAt ?? iso(now);

/**
 * Plans one configured action: guards that need no AWS state are applied here.
 * @returns the action recorded for it (planned, skipped or waiting for approval)
 */
export function planAction(
  record: IncidentRecord,
  rule: Pick<Rule, "name">,
  spec: ActionSpec,
  trigger: ActionTrigger,
  context: PlanContext,
  held: Hold | Silence | undefined,
): ActionRecord {
  const { config } = context;
  // Targets are filled in from the incident now: the ledger, cooldowns and breakers count the
  // resource acted on, and the dispatcher runs exactly what was planned.
  const resolved = spec.type === "page" ? null : resolveAction(spec, record.incident, context);
  const base = {
    type: spec.type,
    rule: rule.name,
    spec: (resolved?.ok ? resolved.action : spec) as unknown as Record<string, unknown>,
    targetKey: spec.type === "page" ? `page:${spec.channel}` : (resolved?.targetKey ?? ""),
    trigger,
    dryRun: spec.type === "page" ? false : (spec.dryRun ?? config.safety.dryRun),
    page: null,
  };
  if (held) {
    return addAction(
      record,
      { ...base, status: "skipped", reason: holdText(asHold(held)) },
      context.now,
    );
  }
  if (resolved && !resolved.ok) {
    return addAction(record, { ...base, status: "skipped", reason: resolved.reason }, context.now);
  }
  if (spec.type === "page") return planPage(record, spec.channel, "page", trigger, null, context);
  const { incident } = record;
  if (incident.flapping) {
    const action = addAction(
      record,
      {
        ...base,
        status: "skipped",
        reason: "held: the incident is flapping, a person should look first",
      },
      context.now,
    );
    pageHumans(
      record,
      `${action.id} (${spec.type} ${action.targetKey}) held: the incident is flapping`,
      "held",
      context,
    );
    return action;
  }
  // Failover is drastic: it waits for a person unless the config says otherwise.
  if (spec.approve ?? spec.type === "failover") {
    const action = addAction(
      record,
      { ...base, status: "awaiting-approval", reason: "waiting for a person to approve" },
      context.now,
    );
    pageHumans(
      record,
      `${action.id} (${spec.type} ${action.targetKey}) needs approval: /incident approve ${incident.id} ${action.id}`,
      "approval-needed",
      context,
    );
    return action;
  }
  return addAction(record, { ...base, status: "planned", reason: null }, context.now);
}

/**
 * Undoes what should not outlast the incident: a scale-out that raised an ECS service's
 * minimum gets a restore of the minimum, once per scale-out however often the incident resolves.
 */
function planRestores(record: IncidentRecord, context: PlanContext): void {
  const restored = new Set(
    record.actions.flatMap((action) => {
      const of = (action.spec as { restore?: { of?: unknown } }).restore?.of;
      return typeof of === "string" ? [of] : [];
    }),
  );
  for (const action of [...record.actions]) {
    const restore = restoreOnResolve(action);
    if (!restore || restored.has(action.id)) continue;
    addAction(
      record,
      {
        type: "scale",
        rule: action.rule,
        spec: restore as unknown as Record<string, unknown>,
        targetKey: action.targetKey,
        trigger: "resolved",
        status: "planned",
        reason: `restores MinCapacity ${restore.restore.minCapacity}, raised to ${restore.restore.raisedTo} by ${action.id}`,
        dryRun: false,
        page: null,
      },
      context.now,
    );
  }
}

/** The last time this incident ran (or planned) an action of this type on this target. */
function lastActionAt(record: IncidentRecord, type: string, targetKey: string): number | undefined {
  const times = record.actions
    .filter(
      (action) =>
        action.type === type && action.targetKey === targetKey && action.status !== "skipped",
    )
    .map((action) => Date.parse(action.plannedAt));
  return times.length ? Math.max(...times) : undefined;
}

/**
 * Decides the responses to what just happened to an incident, on a copy of its record:
 * - opened: the rule's actions, in order;
 * - severity raised onto a rule with actions: that rule's actions not yet planned;
 * - re-triggered: the rule's `scale` actions again, once their cooldown has passed;
 * - resolved: a resolve notice to every channel that was paged;
 * - acknowledged: escalation stops, PagerDuty's alert is acknowledged;
 * - a critical incident starts its escalation clock.
 * Guards that need no AWS state act here (silences, flapping holds, approvals); cooldowns and
 * circuit breakers act when the dispatcher runs the action.
 */
export function planResponses(
  current: IncidentRecord,
  events: ReadonlyArray<IncidentEvent>,
  context: PlanContext,
): IncidentRecord {
  if (events.length === 0) return current;
  const record = current;
  const { config, now } = context;
  const rule = ruleOf(record, config);
  const found = silenceFor(record.incident, context.silences ?? [], now);
  const silence = context.hold === undefined ? found && asHold(found) : (context.hold ?? undefined);
  if (
    silence &&
    events.some((event) => event.type !== "resolved" && event.type !== "acknowledged")
  ) {
    noteHold(record, silence, now);
  }
  // Asked and nothing holds it any more (an alert no window matches joined, a silence was
  // ended): what was held responds now rather than at the sweep's next look.
  const changed = events.some(
    (event) => event.type !== "resolved" && event.type !== "acknowledged",
  );
  if (context.hold === null && changed && record.incident.status !== "resolved") {
    if (record.actions.some(isHeld)) releaseHeld(record, context);
  }
  for (const event of events) {
    if (event.type === "opened" || event.type === "severity-raised") {
      if (!rule) continue;
      const planned = record.actions.some(
        (action) => action.rule === rule.name && action.trigger !== "retriggered",
      );
      if (planned) continue;
      const trigger = event.type === "opened" ? "opened" : "severity-raised";
      // One page per incident: an alert joining it does not page a channel already paged.
      const paged = event.type === "severity-raised" && event.joined ? pagedChannels(record) : [];
      for (const spec of rule.actions) {
        if (spec.type === "page" && paged.includes(spec.channel)) continue;
        const action = planAction(record, rule, spec, trigger, context, silence);
        // Held, not dropped: the sweep looks again when the hold ends (see `isHeld`).
        if (silence) action.notBefore = revisitAt(silence, now);
      }
    } else if (
      event.type === "retriggered" &&
      rule &&
      !silence &&
      record.incident.status !== "resolved"
    ) {
      for (const spec of rule.actions) {
        if (spec.type !== "scale") continue;
        const cooldown = spec.cooldown ?? config.safety.cooldown;
        const last = lastActionAt(
          record,
          spec.type,
          resolveAction(spec, record.incident, context).targetKey,
        );
        if (last === undefined || now - last >= cooldown)
          planAction(record, rule, spec, "retriggered", context, silence);
      }
    } else if (event.type === "resolved") {
      record.escalation.nextAt = null;
      planRestores(record, context);
      for (const channel of pagedChannels(record)) {
        if (hearsNotices(channel, config, "resolved"))
          planPage(record, channel, "resolved", "resolved", null, context);
      }
    } else if (event.type === "acknowledged") {
      // Someone is on it: escalation stops, and PagerDuty's alert is acknowledged too.
      record.escalation.nextAt = null;
      for (const channel of pagedChannels(record)) {
        if (hearsNotices(channel, config, "acknowledged")) {
          planPage(record, channel, "acknowledged", "acknowledged", null, context);
        }
      }
      // Unless the policy reminds its acknowledger of an incident left standing.
      const remindAfter = policyOf(record, config)?.reacknowledgeAfter;
      if (remindAfter !== undefined) record.escalation.nextAt = iso(now + remindAfter);
    }
  }
  if (context.deployWatch) {
    const watched = planDeployWatch(record, context.deployWatch, (spec, name, lastChange) =>
      planAction(record, { name }, spec, "opened", { ...context, lastChange }, silence),
    );
    if (watched && silence) watched.notBefore = revisitAt(silence, now);
  }
  if (!silence) startEscalation(record, context);
  return record;
}

/**
 * Starts a triggered incident's escalation if it has not started: its policy's level 1 at once,
 * or the `escalation` block's first re-page of a critical one.
 */
function startEscalation(record: IncidentRecord, context: PlanContext): void {
  const { config, now } = context;
  const policy = policyOf(record, config);
  if (policy) {
    // Level 1 is notified as the incident opens, in this same write; the sweep does the rest.
    const fresh = record.escalation.repeats === 0 && record.escalation.nextAt === null;
    if (record.incident.status === "triggered" && fresh) {
      // Who a schedule has on call needs its overrides, which only the sweep reads: without
      // them, level 1 is due at once and the sweep's next run notifies it.
      const needsOnCall = policy.levels[0]?.notify.some((target) => "schedule" in target);
      if (needsOnCall && !context.onCall) record.escalation.nextAt = iso(now);
      else planEscalationStep(record, policy, context, now);
    }
    return;
  }
  const { escalation } = config;
  if (
    record.incident.severity === "critical" &&
    record.incident.status === "triggered" &&
    record.escalation.nextAt === null &&
    record.escalation.repeats < escalation.maxRepeats &&
    escalation.channels.length > 0
  ) {
    record.escalation.nextAt = iso(now + escalation.repeatAfter);
  }
}

/**
 * What the sweep does when a held incident's time to look again has come (`holdRevisitAt`),
 * on a copy: still held (`context.hold`), its held actions wait for the new hold's end; free
 * and still open, it responds as if it had just opened (its rule's actions, its escalation), so
 * an outage behind a maintenance window or an inhibiting incident is not lost.
 * @returns the changed record, or null when nothing changed (an inhibition still holding it)
 */
export function reviseHold(current: IncidentRecord, context: PlanContext): IncidentRecord | null {
  const { now } = context;
  if (current.incident.status === "resolved" || !current.actions.some(isHeld)) return null;
  const hold = context.hold ?? null;
  const record = structuredClone(current);
  const actions = record.actions.filter(isHeld);
  if (hold) {
    const until = revisitAt(hold, now);
    // An inhibition is asked about again every sweep: rewriting the record each time would
    // cost a write (and a stream event) per minute for nothing.
    if (hold.kind === "inhibition" && actions.every((action) => action.reason === holdText(hold)))
      return null;
    for (const action of actions) {
      action.notBefore = until;
      action.reason = holdText(hold);
    }
    noteHold(record, hold, now);
  } else releaseHeld(record, context);
  record.version += 1;
  return record;
}

/**
 * Frees what a hold kept (on the record): the held actions are looked at no more, the timeline
 * says what held them, and the rule's actions and the escalation start as on opening.
 */
function releaseHeld(record: IncidentRecord, context: PlanContext): void {
  const actions = record.actions.filter(isHeld);
  for (const action of actions) action.notBefore = null;
  const was = actions[0]?.reason ?? "held";
  record.timeline.push({
    type: "note",
    at: iso(context.now),
    by: "hold",
    text: `no longer ${was.replace(/ until .*| while it is open.*/, "")}, and still open: responding now`,
  });
  const rule = ruleOf(record, context.config);
  for (const spec of rule?.actions ?? []) {
    if (rule) planAction(record, rule, spec, "opened", context, undefined);
  }
  startEscalation(record, context);
}

/** Who a schedule has on call at a time (the on-call module's `onCallAt`, overrides applied). */
export type OnCallLookup = (schedule: string, at: number) => { person: string } | null;

/**
 * Plans the policy's next level on the record: one notification action per recipient (a person
 * reached through a schedule and also by name is notified once), each recorded before the
 * dispatcher sends it. A schedule with nobody on call is recorded as skipped. The level after
 * it is due `after` from this level's planned time (`dueAt`), so a late sweep does not push
 * every later level back.
 */
export function planEscalationStep(
  record: IncidentRecord,
  policy: EscalationPolicy,
  context: PlanContext,
  dueAt: number,
): void {
  const { now } = context;
  const step = escalationStep(record, policy);
  const index = step.notified % policy.levels.length;
  const level = policy.levels[index];
  if (!level || step.notified >= step.total) return;
  const round = Math.floor(step.notified / policy.levels.length) + 1;
  const where = `level ${index + 1} of ${policy.levels.length}${policy.repeat > 0 ? `, round ${round} of ${policy.repeat + 1}` : ""}`;
  const first = step.notified === 0;
  const note = first
    ? where
    : `${where}: unacknowledged for ${formatDuration(now - Date.parse(record.incident.firstSeenAt))}`;
  const kind = first ? "page" : "escalation";
  const trigger = first ? "opened" : "escalation";
  const notified = new Set<string>();
  for (const target of level.notify) {
    if ("schedule" in target) {
      const onCall = context.onCall?.(target.schedule, now) ?? null;
      if (onCall === null) {
        recordSkippedPage(
          record,
          `page:schedule:${target.schedule}`,
          trigger,
          `${where}: nobody on call for schedule ${target.schedule}, skipped`,
          context,
        );
        continue;
      }
      notifyOnce(personChannel(onCall.person), `${note} (on call for ${target.schedule})`);
    } else if ("person" in target) notifyOnce(personChannel(target.person), note);
    else notifyOnce(target.channel, note);
  }
  record.escalation = {
    repeats: step.notified + 1,
    nextAt: step.notified + 1 < step.total ? iso(dueAt + level.after) : null,
  };

  function notifyOnce(channel: string, text: string) {
    if (notified.has(channel)) return;
    notified.add(channel);
    planPage(record, channel, kind, trigger, text, context);
  }
}
