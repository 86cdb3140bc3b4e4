import type { Change } from "../changes/model";
import type { AlarmState, CloudWatchReader } from "../cloudwatch/ports";
import { formatDuration } from "../duration";
import type { IncidentRecord } from "../incidents/model";
import type { Logger } from "../ports";
import { asHold } from "../silences/hold";
import { silenceFor } from "../silences/silence";
import type { ActionRecord, Verification } from "./model";
import { humanChannels, type PlanContext, planAction, planPage } from "./plan";
import type { ChainStep } from "./schema";
import { type ChangeLookup, needsLastChange } from "./targets";

/** `verifyAfter` when an action says none. */
export const DEFAULT_VERIFY_AFTER_MS = 5 * 60_000;

/**
 * Logs and Sentry: signals that arrive within this long after an action ran were already on
 * their way (a log subscription batches for seconds, Sentry alerts are rate-limited, the queue
 * holds them briefly) and do not count against it. At most half of `verifyAfter`, so a short
 * check still has a window of its own.
 */
export const SIGNAL_GRACE_MS = 60_000;

/**
 * An alarm in INSUFFICIENT_DATA (or not found) proves nothing either way: checked again this
 * often, until a second `verifyAfter` has passed, then counted ineffective.
 */
export const INCONCLUSIVE_RECHECK_MS = 60_000;

const iso = (time: number) => new Date(time).toISOString();
/** `12:04:10`: evidence is read beside the timeline, which is in UTC. */
const clock = (time: string) => time.slice(11, 19);

/** The remediations whose outcome is checked: what ran or was simulated, not undoing restores. */
export function isVerifiable(action: ActionRecord): boolean {
  return (
    action.type !== "page" &&
    action.trigger !== "resolved" &&
    (action.status === "succeeded" || action.status === "simulated")
  );
}

const verifyAfterOf = (action: ActionRecord): number => {
  const configured = (action.spec as { verifyAfter?: unknown }).verifyAfter;
  return typeof configured === "number" ? configured : DEFAULT_VERIFY_AFTER_MS;
};

/**
 * Starts an action's verification when its outcome is recorded (the dispatcher calls it): an
 * action that succeeded or was simulated is checked `verifyAfter` later; any other is not.
 *
 * @example
 * startVerification(action, now); // action.verification: { status: "pending", dueAt, ... }
 */
export function startVerification(action: ActionRecord, now: number): void {
  if (!isVerifiable(action)) return;
  action.verification = {
    status: "pending",
    dueAt: iso(now + verifyAfterOf(action)),
    checkedAt: null,
    evidence: null,
  };
}

/**
 * What follows an action's recorded outcome (the dispatcher calls it in the same write): one that
 * ran starts its verification; a ladder step that was skipped when it was run (a cooldown, a
 * breaker, nothing to roll back) changed nothing, so the ladder goes on to its next step at once.
 * A step that failed stops the ladder: the dispatcher pages people with the failure.
 */
export function settleOutcome(
  record: IncidentRecord,
  action: ActionRecord,
  context: PlanContext,
): void {
  if (isVerifiable(action)) startVerification(action, Date.parse(action.at));
  else if (action.follows && action.type !== "page" && action.status === "skipped") {
    climbLadder(record, action, context);
  }
}

/** What a check found: a verdict, or a reason to look again at `recheckAt`. */
export type VerificationFinding =
  | { status: "effective" | "ineffective"; evidence: string }
  | { status: "pending"; evidence: string; recheckAt: number };

/**
 * Judges one action: the incident resolved is effective; for a CloudWatch incident, its firing
 * alarms (every one, when alerts were grouped into it): all OK is effective, any ALARM
 * ineffective, INSUFFICIENT_DATA (or no such alarm) inconclusive until a second `verifyAfter`
 * has passed; for other sources, no trigger taken in after the action ran (plus
 * `SIGNAL_GRACE_MS`) is effective.
 * @throws what the reader throws (the sweep tries again on its next run)
 */
export async function judgeAction(
  record: IncidentRecord,
  action: ActionRecord,
  now: number,
  reader: CloudWatchReader | undefined,
): Promise<VerificationFinding> {
  const { incident } = record;
  if (incident.status === "resolved") {
    const when = incident.resolvedAt ? ` at ${clock(incident.resolvedAt)}` : "";
    return { status: "effective", evidence: `resolved by ${incident.resolvedBy ?? "?"}${when}` };
  }
  const ranAt = Date.parse(action.at);
  const verifyAfter = verifyAfterOf(action);
  const alarms = firingAlarms(record);
  if (alarms.length > 0 && reader) {
    const findings = await Promise.all(
      [...groupByAccount(alarms)].map(async ([account, names]) => {
        const states = await reader.alarmStates(names, account);
        return names.map((name) =>
          alarmFinding(
            name,
            states.find((state) => state.alarmName === name),
            now,
            ranAt + 2 * verifyAfter,
          ),
        );
      }),
    );
    return combine(findings.flat());
  }
  if (incident.source === "cloudwatch") {
    // No reader to ask: the incident follows the alarm's own events, and it is still open.
    return {
      status: "ineffective",
      evidence: `${incident.attributes.alarmName ?? incident.title} still firing: the incident is open`,
    };
  }
  const graceEnds = ranAt + Math.min(SIGNAL_GRACE_MS, verifyAfter / 2);
  const lastAt = record.lastReceivedAt ?? record.lastTriggerAt;
  if (Date.parse(lastAt) > graceEnds) {
    return {
      status: "ineffective",
      evidence: `signals still arriving: the last at ${clock(lastAt)}, ${formatDuration(Date.parse(lastAt) - ranAt)} after ${action.id} ran`,
    };
  }
  return {
    status: "effective",
    evidence: `no new signal since ${action.id} ran at ${clock(action.at)} (last at ${clock(lastAt)})`,
  };
}

/** The CloudWatch alarms of the incident's firing alerts, each with its account. */
function firingAlarms(record: IncidentRecord): Array<{ name: string; account?: string }> {
  const seen = new Set<string>();
  return record.alerts.flatMap((alert) => {
    const name = alert.attributes.alarmName;
    if (alert.source !== "cloudwatch" || alert.status !== "firing" || name === undefined) return [];
    const key = `${alert.attributes.account ?? ""}/${name}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ name, account: alert.attributes.account }];
  });
}

/** One `DescribeAlarms` per account (each through its own role). */
function groupByAccount(
  alarms: ReadonlyArray<{ name: string; account?: string }>,
): Map<string | undefined, string[]> {
  const byAccount = new Map<string | undefined, string[]>();
  for (const { name, account } of alarms) {
    byAccount.set(account, [...(byAccount.get(account) ?? []), name]);
  }
  return byAccount;
}

/** Several alarms: any still firing is ineffective; any inconclusive waits; else effective. */
function combine(findings: ReadonlyArray<VerificationFinding>): VerificationFinding {
  const evidence = (status: VerificationFinding["status"]) =>
    findings
      .filter((finding) => finding.status === status)
      .map((finding) => finding.evidence)
      .join("; ");
  if (findings.some((finding) => finding.status === "ineffective")) {
    return { status: "ineffective", evidence: evidence("ineffective") };
  }
  const waiting = findings.flatMap((finding) =>
    finding.status === "pending" ? [finding.recheckAt] : [],
  );
  if (waiting.length > 0) {
    return { status: "pending", evidence: evidence("pending"), recheckAt: Math.min(...waiting) };
  }
  return { status: "effective", evidence: evidence("effective") };
}

function alarmFinding(
  alarmName: string,
  state: AlarmState | undefined,
  now: number,
  giveUpAt: number,
): VerificationFinding {
  if (state?.state === "OK") {
    return { status: "effective", evidence: `${alarmName} is OK since ${clock(state.since)}` };
  }
  if (state?.state === "ALARM") {
    const reason = state.reason ? `: ${state.reason}` : "";
    return {
      status: "ineffective",
      evidence: `${alarmName} is still ALARM since ${clock(state.since)}${reason}`,
    };
  }
  const seen = state
    ? `${alarmName} has had INSUFFICIENT_DATA since ${clock(state.since)}`
    : `${alarmName} was not found`;
  if (now >= giveUpAt) {
    return { status: "ineffective", evidence: `${seen}: not back to OK` };
  }
  return {
    status: "pending",
    evidence: `${seen}: checking again`,
    recheckAt: Math.min(giveUpAt, now + INCONCLUSIVE_RECHECK_MS),
  };
}

export interface VerifyContext extends PlanContext {
  cloudwatch?: CloudWatchReader;
  /**
   * The last change to the incident's service, read when a ladder may roll it back (`target:
   * "last-change"`), unless `lastChange` was read already.
   */
  changes?: ChangeLookup;
  logger?: Logger;
}

/**
 * The sweep's verification of one incident, on a copy: every pending verification that is due
 * is checked; a verdict goes on the action and into the timeline, and an ineffective one plans
 * the next step of its ladder in the same copy. The caller saves the copy with one
 * version-checked write, so two sweeps that check at once never both plan a step.
 * @returns the changed copy (version + 1), or null when nothing was due or changed
 */
export async function verifyDue(
  current: IncidentRecord,
  context: VerifyContext,
): Promise<IncidentRecord | null> {
  const { now } = context;
  const due = current.actions.filter(
    (action) =>
      action.verification?.status === "pending" && Date.parse(action.verification.dueAt) <= now,
  );
  if (due.length === 0) return null;
  const record = structuredClone(current);
  const lastChange = await lastChangeFor(record, context);
  if (lastChange === false) return null;
  const planning = lastChange === undefined ? context : { ...context, lastChange };
  let changed = false;
  for (const { id } of due) {
    const action = record.actions.find((candidate) => candidate.id === id) as ActionRecord;
    let finding: VerificationFinding;
    try {
      finding = await judgeAction(record, action, now, context.cloudwatch);
    } catch (error) {
      context.logger?.warn("could not verify an action, will try again", {
        incidentId: record.incident.id,
        action: id,
        error: String(error),
      });
      continue;
    }
    changed = true;
    const verification = action.verification as Verification;
    if (finding.status === "pending") {
      action.verification = {
        ...verification,
        dueAt: iso(finding.recheckAt),
        evidence: finding.evidence,
      };
      continue;
    }
    action.verification = {
      status: finding.status,
      dueAt: verification.dueAt,
      checkedAt: iso(now),
      evidence: finding.evidence,
    };
    record.timeline.push({
      type: "action",
      at: iso(now),
      id: action.id,
      action: action.type,
      target: action.targetKey,
      status: action.status,
      reason: `verified ${finding.status}: ${finding.evidence}`,
    });
    if (finding.status === "ineffective") climbLadder(record, action, planning);
  }
  if (!changed) return null;
  record.version += 1;
  return record;
}

/**
 * The last change to the incident's service when its rule's ladders may roll it back and it
 * was not read yet; undefined: nothing to read; false: it could not be read (the sweep tries
 * again, rather than plan a `last-change` rollback that says changes are not recorded).
 */
async function lastChangeFor(
  record: IncidentRecord,
  context: VerifyContext,
): Promise<Change | null | undefined | false> {
  const { service, rule: ruleName } = record.incident;
  if (!context.changes || context.lastChange !== undefined || !service) return undefined;
  const rule = context.config.rules.find((candidate) => candidate.name === ruleName);
  if (!rule || !needsLastChange(rule.actions)) return undefined;
  try {
    return await context.changes.lastChange(service, iso(context.now));
  } catch (error) {
    context.logger?.warn("could not read the last change, will verify later", {
      incidentId: record.incident.id,
      error: String(error),
    });
    return false;
  }
}

/**
 * The ladder an action is on and the index of the step after it; null: it is on none. A
 * re-triggered scale-out repeats the rule's first step and is verified, but climbs no ladder of
 * its own: the one its incident opened with already does, and two would take each step twice.
 */
function ladderAfter(
  record: IncidentRecord,
  action: ActionRecord,
): { root: ActionRecord; steps: ChainStep[]; next: number } | null {
  if (!action.follows && action.trigger === "retriggered") return null;
  const root = action.follows
    ? record.actions.find((candidate) => candidate.id === action.follows?.root)
    : action;
  const steps = (root?.spec as { ifIneffective?: ChainStep[] } | undefined)?.ifIneffective;
  if (!root || !steps) return null;
  return { root, steps, next: action.follows ? action.follows.step + 1 : 0 };
}

/** `a1 scale ecs-service:...`, for pages that list what was tried. */
const describe = (action: ActionRecord) => `${action.id} (${action.type} ${action.targetKey})`;

/** Why an action did not help: its verification's evidence, or why it was skipped. */
const whyNot = (action: ActionRecord) =>
  action.verification?.evidence ?? `${action.status}: ${action.reason ?? "no reason given"}`;

/** What the ladder has tried so far and what each check found, oldest first. */
function tried(record: IncidentRecord, root: ActionRecord): string {
  return record.actions
    .filter(
      (action) =>
        action.type !== "page" && (action.id === root.id || action.follows?.root === root.id),
    )
    .map((action) => {
      const verdict = action.verification?.status ?? action.status;
      return `${describe(action)} ${verdict}: ${action.verification?.evidence ?? action.reason ?? "no reason given"}`;
    })
    .join("; ");
}

/**
 * Plans what follows an ineffective action on its ladder: `page` steps are sent and the ladder
 * goes on to the next step, which is planned through the usual guards (holds, flapping holds,
 * approvals here; dry run, cooldowns and circuit breakers when the dispatcher runs it). With no
 * step left, people are paged with what was tried and that it is still firing. While a hold
 * (a silence, a maintenance window, an inhibiting incident) is on the incident, nothing
 * responds: the next step is recorded as held, and when the hold ends and the incident is still
 * open, the rule's actions (and so the ladder) start again.
 */
function climbLadder(record: IncidentRecord, action: ActionRecord, context: PlanContext): void {
  const ladder = ladderAfter(record, action);
  if (!ladder) return;
  const { root, steps } = ladder;
  const firing = stillFiring(record);
  const found = silenceFor(record.incident, context.silences ?? [], context.now);
  const hold = context.hold === undefined ? found && asHold(found) : context.hold;
  const rule = { name: root.rule ?? record.incident.rule ?? "" };
  let index = ladder.next;
  let pagedOnTheWay = false;
  const link = (follows: ActionRecord, step: number) => ({
    action: follows.id,
    root: root.id,
    step,
  });
  if (hold) {
    const next = steps[index];
    const held = next
      ? [planAction(record, rule, next, "ineffective", context, hold)]
      : humanChannels(record, context.config).map((channel) =>
          planAction(record, rule, { type: "page", channel }, "ineffective", context, hold),
        );
    for (const recorded of held) {
      if (next) recorded.follows = link(action, index);
      // Revisited when the hold ends, as the rule's own held actions are.
      recorded.notBefore = hold.endsAt ?? new Date(context.now).toISOString();
    }
    return;
  }
  // The action the next step follows: the ineffective one, then any step skipped as planned.
  let previous = action;
  for (; index < steps.length; index++) {
    const step = steps[index] as ChainStep;
    const remaining = steps.slice(index + 1).some((later) => later.type !== "page");
    if (step.type === "page") {
      const note = remaining
        ? `${describe(previous)} did not help (${whyNot(previous)}); ${firing}, trying the next step of ${root.id}'s ladder`
        : finalNote(record, root, firing);
      const page = planPage(record, step.channel, "page", "ineffective", note, context);
      page.follows = link(previous, index);
      pagedOnTheWay = true;
      continue;
    }
    const planned = planAction(record, rule, step, "ineffective", context, undefined);
    planned.follows = link(previous, index);
    // Skipped as it was planned (no change to roll back, a target that did not resolve): it
    // changed nothing, so the ladder goes on. A flapping incident's hold waits for a person.
    if (planned.status !== "skipped" || record.incident.flapping) return;
    previous = planned;
    pagedOnTheWay = false;
  }
  if (pagedOnTheWay) return;
  const note = finalNote(record, root, firing);
  // Not a step of the ladder, so it links to none: its text names every step tried.
  for (const channel of humanChannels(record, context.config)) {
    planPage(record, channel, "page", "ineffective", note, context);
  }
}

/** Says the alarm is still firing (or the signals still arriving), for pages. */
function stillFiring(record: IncidentRecord): string {
  const { incident } = record;
  return incident.source === "cloudwatch"
    ? `the alarm ${incident.attributes.alarmName ?? incident.title} is still firing`
    : `${incident.title} is still firing (new signals keep arriving)`;
}

function finalNote(record: IncidentRecord, root: ActionRecord, firing: string): string {
  return `every step of ${root.id}'s ladder was tried and ${firing}: ${tried(record, root)}. Nothing more to try automatically: a person must act.`;
}
