import { randomUUID } from "node:crypto";
import type { MonitoringConfig } from "../config/schema";
import { VersionConflictError } from "../errors";
import type { IncidentRecord } from "../incidents/model";
import { saveIncident } from "../incidents/timeline";
import type { PageBudgetDecision, PageBudgetStore, PageRequest } from "../paging/budget";
import { type PageContent, pageText } from "../paging/messages";
import type { Pager } from "../paging/pager";
import type { Clock, IncidentStore, Logger } from "../ports";
import { silentLogger } from "../ports";
import { personOf } from "./escalation-policy";
import { AwsCallError, type AwsGateway, accountIdOf } from "./gateway";
import type { GuardStore } from "./guards";
import type { ActionRecord, Delivery, Transport } from "./model";
import { humanChannels, type PlanContext, planPage } from "./plan";
import { type ExecutionMode, executeRemediation } from "./remediations";
import type { RemediationAction } from "./schema";
import { settleOutcome } from "./verify";

/** How long a dispatcher may hold an action before another may take it over. */
const DEFAULT_CLAIM_MS = 2 * 60_000;
/** Attempts before a transient failure counts as a failure. */
const MAX_ATTEMPTS = 5;
/** Delivery attempts per transport before a page gives up on it. */
const MAX_DELIVERY_ATTEMPTS = 8;
const MINUTE = 60_000;
/**
 * How far apart two dispatchers' clocks may be (Lambda's are NTP-synced to milliseconds): a page
 * is claimed through the budget's minute only well inside that minute, see `budgetClaim`.
 */
const CLOCK_SKEW_MS = 1000;
/** Tokens of claims taken through the page budget: the incident item holds none. */
const BUDGET_CLAIM = "budget:";

export interface DispatcherOptions {
  store: IncidentStore;
  guards: GuardStore;
  gateway: AwsGateway;
  pager: Pager;
  /**
   * Counts first pages and escalations per channel against `paging.budget`, across every
   * dispatcher (both runtimes keep it in the table); past it, pages fold into a digest.
   * Absent (unit tests that build a dispatcher by hand): pages are not counted.
   */
  pageBudget?: PageBudgetStore;
  clock: Clock;
  config: MonitoringConfig;
  /** `live` in AWS (or locally with REMEDIATION_MODE=live); `simulated` in the local stack. */
  mode: Exclude<ExecutionMode, "dry-run">;
  /** Default region for targets that name none. */
  region: string;
  /** Where people see an incident (the API's base URL), for links in pages. */
  consoleUrl?: (incidentId: string) => string | null;
  /** How long a claim holds if its dispatcher dies (two minutes; tests make it short). */
  claimMs?: number;
  /** Wait before retrying after the nth attempt failed (tests make it short). */
  backoffMs?: (attempt: number) => number;
  logger?: Logger;
}

export interface DispatchReport {
  ran: Array<{ id: string; type: ActionRecord["type"]; status: ActionRecord["status"] }>;
  /** The earliest time something on this incident is due again, if anything is waiting. */
  nextDueAt: string | null;
}

const iso = (time: number) => new Date(time).toISOString();
/** Waits between attempts: 2 s, 4 s, 8 s... at most five minutes. */
const defaultBackoffMs = (attempt: number) => Math.min(5 * 60_000, 1000 * 2 ** attempt);

/** The dispatcher's own store write failed mid-action (not the target's AWS call). */
class Interrupted extends Error {
  constructor(override readonly cause: unknown) {
    super("interrupted", { cause });
    this.name = "Interrupted";
  }
}

/** The page budget says another dispatcher's claim holds this page until `until`. */
class Held extends Error {
  constructor(readonly until: string) {
    super(`held by another dispatcher until ${until}`);
    this.name = "Held";
  }
}

/** A change to one action (and maybe more pages), applied to a fresh copy of the record. */
type Finish = (record: IncidentRecord, action: ActionRecord) => void;

/** The record as this dispatch last wrote (or was shown) it; null once it may be stale. */
interface Latest {
  record: IncidentRecord | null;
}

/**
 * Runs the actions an incident's ledger holds, each at most once: claim it with a
 * compare-and-set, check cooldowns and circuit breakers, describe the target and act (or page),
 * then record the outcome with another compare-and-set. In AWS it runs on the table's stream;
 * locally a poller calls it. A dispatcher that dies mid-action leaves a claim that expires, and
 * the next one describes the target again before acting, so the change is not made twice.
 */
export class Dispatcher {
  private readonly logger: Logger;
  private readonly backoffMs: (attempt: number) => number;
  /** The last remediation started on each target, which the next one on it waits for. */
  private readonly targetsBusy = new Map<string, Promise<void>>();

  constructor(private readonly options: DispatcherOptions) {
    this.logger = options.logger ?? silentLogger;
    this.backoffMs = options.backoffMs ?? defaultBackoffMs;
  }

  /**
   * Runs everything due on one incident, in plan order. `seen`: the record as a stream record
   * showed it, so the first step needs no read; an image that is no longer current only costs
   * the claim's failed compare-and-set, and the record is then read.
   */
  async dispatch(incidentId: string, seen?: IncidentRecord): Promise<DispatchReport> {
    const ran: DispatchReport["ran"] = [];
    const tried = new Set<string>();
    // The record as last written or seen; null: read it. Each write's result is the next step's
    // record, so an incident whose page goes out costs its two writes and no read.
    const latest: Latest = { record: seen ?? null };
    let image = seen !== undefined;
    for (;;) {
      const fromImage = image;
      image = false;
      const record = latest.record ?? (await this.options.store.get(incidentId));
      latest.record = null;
      if (!record) return { ran, nextDueAt: null };
      const now = this.options.clock.now();
      const action = record.actions.find(
        (candidate) => this.isDue(candidate, now) && !tried.has(candidate.id),
      );
      // Work planned after a seen image wrote a stream record of its own, which dispatches it.
      if (!action) return { ran, nextDueAt: this.nextDueAt(record) };
      // Tried once; but a claim lost on a stale image says nothing about the action.
      if (!fromImage) tried.add(action.id);
      // A first page is claimed by its budget take, the one write before it goes out.
      const budgeted = await this.budgetClaim(record, action, now);
      if (budgeted && "held" in budgeted && Date.parse(budgeted.until) > now) {
        // Another dispatcher sends it and records its outcome (or its claim lapses).
        tried.add(action.id);
        continue;
      }
      const byBudget = budgeted && !("held" in budgeted) ? budgeted : undefined;
      const claimed = byBudget
        ? { token: `${BUDGET_CLAIM}${randomUUID()}`, record }
        : await this.claim(record, action.id, now);
      if (!claimed) continue;
      const { token } = claimed;
      latest.record = claimed.record;
      try {
        // Remediations of one target run one at a time: each decides from what the last did.
        const done = await this.exclusive(
          action.type === "page" ? null : action.targetKey,
          async () => {
            const finish = await this.run(record, action, now, token, latest, byBudget);
            return this.complete(incidentId, action.id, token, finish, true, latest);
          },
        );
        if (done) ran.push({ id: done.id, type: done.type, status: done.status });
        if (done?.followUp && done.status !== "planned") await this.reportBack(incidentId, done);
      } catch (error) {
        // The store or a guard failed mid-action: hand the action back for a later attempt
        // rather than holding the claim until it expires. Recorded requests stay recorded.
        this.logger.warn("action interrupted, will retry", {
          incidentId,
          action: action.id,
          error: String(error),
        });
        latest.record = null;
        const retryAt = error instanceof Held ? Date.parse(error.until) : undefined;
        await this.handBack(incidentId, action.id, token, error, retryAt);
      }
    }
  }

  /**
   * Runs `work` after every earlier work on the same target of this dispatcher has finished
   * (incidents of one stream batch are dispatched side by side); a null target runs at once.
   */
  private async exclusive<T>(target: string | null, work: () => Promise<T>): Promise<T> {
    if (target === null) return work();
    const before = this.targetsBusy.get(target) ?? Promise.resolve();
    const mine = before.then(work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.targetsBusy.set(target, settled);
    try {
      return await mine;
    } finally {
      if (this.targetsBusy.get(target) === settled) this.targetsBusy.delete(target);
    }
  }

  /**
   * Releases a claim after a failure, with a backoff before the next attempt. The store may be
   * what failed, so this tries a few times; if it still cannot, the claim simply expires.
   */
  private async handBack(
    incidentId: string,
    actionId: string,
    token: string,
    error: unknown,
    retryAt?: number,
  ): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const now = this.options.clock.now();
        await this.complete(
          incidentId,
          actionId,
          token,
          (_next, mine) => {
            mine.claim = null;
            mine.notBefore = iso(retryAt ?? now + this.backoffMs(mine.attempts));
            // A prepared action keeps its "sending: ..." reason: the retry completes those.
            if (!mine.reason?.startsWith("sending: "))
              mine.reason = `retrying: ${(error as Error).message}`;
          },
          false,
        );
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private isDue(action: ActionRecord, now: number): boolean {
    if (action.status !== "planned") return false;
    if (action.notBefore && Date.parse(action.notBefore) > now) return false;
    return !action.claim || Date.parse(action.claim.until) <= now;
  }

  private nextDueAt(record: IncidentRecord): string | null {
    const due = record.actions
      .filter((action) => action.status === "planned")
      .map((action) => action.notBefore ?? action.plannedAt)
      .sort();
    return due[0] ?? null;
  }

  /**
   * Claims a first page through its budget take, when it can: the hour's budget item then
   * records the claim, and the incident item gets only the outcome (one write, not two). Safe
   * because every dispatcher that took this page did so after it was due: if that was in this
   * very minute (and not within clock skew of its edges), the budget lists it among this
   * minute's pages, so a redelivered stream record (or a stale image, or a second dispatcher)
   * finds it `held`. A page folded into a digest is folded again (its budget stays spent).
   * Null: claim it on the incident item (remediations, retries, people, pages due earlier).
   */
  private async budgetClaim(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
  ): Promise<PageBudgetDecision | null> {
    const request = this.budgetRequest(record, action, now);
    if (!request || action.claim || action.attempts > 0 || !action.page) return null;
    const minuteStart = Math.floor(now / MINUTE) * MINUTE;
    const due = Math.max(Date.parse(action.plannedAt), Date.parse(action.notBefore ?? "") || 0);
    if (due < minuteStart + CLOCK_SKEW_MS || now >= minuteStart + MINUTE - CLOCK_SKEW_MS) {
      return null;
    }
    const claimUntil = now + (this.options.claimMs ?? DEFAULT_CLAIM_MS);
    return (this.options.pageBudget as PageBudgetStore).take({ ...request, claimUntil });
  }

  /** Whether an action is still this dispatcher's to record (see `budgetClaim`). */
  private owns(action: ActionRecord | undefined, token: string): action is ActionRecord {
    if (!action) return false;
    // A budget claim: the page is ours until it is recorded as tried. A classic claim taken
    // meanwhile found the budget's claim and hands the action back without sending.
    if (token.startsWith(BUDGET_CLAIM)) {
      const tried = Object.values(action.page?.deliveries ?? {}).some((d) => d.attempts > 0);
      return action.status === "planned" && !tried;
    }
    return action.claim?.token === token;
  }

  /**
   * Takes the action for this dispatcher; null when someone else changed the record first.
   * Returns the record as stored, which the next write starts from.
   */
  private async claim(
    record: IncidentRecord,
    actionId: string,
    now: number,
  ): Promise<{ token: string; record: IncidentRecord } | null> {
    const next = structuredClone(record);
    const action = next.actions.find((candidate) => candidate.id === actionId) as ActionRecord;
    const token = randomUUID();
    action.claim = { token, until: iso(now + (this.options.claimMs ?? DEFAULT_CLAIM_MS)) };
    action.attempts += 1;
    next.version += 1;
    try {
      return { token, record: await saveIncident(this.options.store, next) };
    } catch (error) {
      if (error instanceof VersionConflictError) return null;
      throw error;
    }
  }

  /**
   * Applies a change to the freshest record, as long as the claim is still ours. A final change
   * (the outcome) releases the claim and goes into the timeline; an interim one (the requests
   * about to be sent) keeps the claim.
   */
  private async complete(
    incidentId: string,
    actionId: string,
    token: string,
    finish: Finish,
    final = true,
    latest: Latest = { record: null },
  ): Promise<ActionRecord | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      // What this dispatcher wrote last is current unless another writer came between: then
      // the version check fails and the record is read.
      const record = latest.record ?? (await this.options.store.get(incidentId));
      latest.record = null;
      const action = record?.actions.find((candidate) => candidate.id === actionId);
      if (!record || !this.owns(action, token)) {
        this.logger.warn("lost the claim on an action before recording it", {
          incidentId,
          actionId,
        });
        return null;
      }
      const next = structuredClone(record);
      const mine = next.actions.find((candidate) => candidate.id === actionId) as ActionRecord;
      // A budget claim wrote nothing to the incident: its one write counts the attempt.
      if (token.startsWith(BUDGET_CLAIM)) mine.attempts = action.attempts + 1;
      finish(next, mine);
      next.version += 1;
      if (!final) {
        try {
          latest.record = await saveIncident(this.options.store, next);
          return mine;
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
          continue;
        }
      }
      mine.claim = null;
      mine.at = iso(this.options.clock.now());
      next.timeline.push({
        type: "action",
        at: mine.at,
        id: mine.id,
        action: mine.type,
        target: mine.targetKey,
        status: mine.status,
        reason: mine.reason,
      });
      // In the outcome's write: its verification joins the due index, a skipped ladder step's
      // successor is planned, each exactly once.
      settleOutcome(next, mine, this.planContext(this.options.clock.now()));
      try {
        latest.record = await saveIncident(this.options.store, next);
        return mine;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
    throw new Error(`could not record the outcome of ${incidentId}/${actionId}`);
  }

  /** Tells the Slack command that approved an action how it went. A lost reply loses nothing. */
  private async reportBack(incidentId: string, action: ActionRecord): Promise<void> {
    const text = `${incidentId}/${action.id} (${action.type} ${action.targetKey}): ${action.status}${action.reason ? ` — ${action.reason}` : ""}`;
    try {
      await this.options.pager.followUp(action.followUp?.responseUrl as string, text);
    } catch (error) {
      this.logger.warn("could not report back to Slack", {
        incidentId,
        action: action.id,
        error: String(error),
      });
    }
  }

  private planContext(now: number): PlanContext {
    return { config: this.options.config, now, region: this.options.region };
  }

  private async run(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
    token: string,
    latest: Latest,
    budgeted?: PageBudgetDecision,
  ): Promise<Finish> {
    if (action.type === "page") return this.runPage(record, action, now, budgeted);
    return this.runRemediation(record, action, now, token, latest);
  }

  private async runRemediation(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
    token: string,
    latest: Latest,
  ): Promise<Finish> {
    const spec = action.spec as unknown as RemediationAction;
    const { config } = this.options;
    const ref = `${record.incident.id}/${action.id}`;
    const guard = await this.options.guards.reserve({
      targetKey: action.targetKey,
      type: action.type,
      ref,
      now,
      cooldownMs: spec.cooldown ?? config.safety.cooldown,
      maxPerHour: config.safety.maxActionsPerHour,
    });
    if (!guard.ok) {
      return (next, mine) => {
        mine.status = "skipped";
        mine.reason = guard.reason;
        if (guard.breaker)
          this.pageHumans(
            next,
            `${mine.id} (${mine.type} ${mine.targetKey}) skipped: ${guard.reason}`,
            "held",
          );
      };
    }
    try {
      const outcome = await executeRemediation(spec, {
        gateway: this.options.gateway,
        mode: action.dryRun ? "dry-run" : this.options.mode,
        region: this.options.region,
        account: accountIdOf(record.incident.attributes.account),
        reference: ref,
        // Requests recorded by a run that stopped before recording its outcome: finish those.
        prepared:
          action.requests.length > 0
            ? { requests: action.requests, reason: action.reason }
            : undefined,
        prepare: async (requests, reason) => {
          const saved = await this.complete(
            record.incident.id,
            action.id,
            token,
            (_next, mine) => {
              mine.requests = requests;
              mine.reason = `sending: ${reason}`;
            },
            false,
            latest,
          ).catch((error: unknown) => {
            throw new Interrupted(error);
          });
          if (!saved) throw new Interrupted(new Error("lost the claim before sending"));
        },
      });
      // An action that found nothing to do did not act: it does not count against the breaker.
      if (outcome.status === "skipped") await this.options.guards.release(action.targetKey, ref);
      return (_next, mine) => {
        mine.status = outcome.status;
        mine.reason = outcome.reason;
        mine.requests = outcome.requests;
        mine.before = outcome.before;
      };
    } catch (error) {
      // Our own bookkeeping failed before anything was sent: a retry, not the action's failure.
      if (error instanceof Interrupted) throw error.cause;
      await this.options.guards.release(action.targetKey, ref);
      const retryable = error instanceof AwsCallError && error.retryable;
      const message = (error as Error).message;
      if (retryable && action.attempts < MAX_ATTEMPTS) {
        return (_next, mine) => {
          mine.reason = `retrying (attempt ${mine.attempts} of ${MAX_ATTEMPTS}): ${message}`;
          mine.notBefore = iso(this.options.clock.now() + this.backoffMs(mine.attempts));
        };
      }
      this.logger.error("remediation failed", {
        incident: record.incident.id,
        action: action.id,
        error: message,
      });
      return (next, mine) => {
        mine.status = "failed";
        mine.reason = message;
        this.pageHumans(
          next,
          `${mine.id} (${mine.type} ${mine.targetKey}) failed: ${message}`,
          "failure",
        );
      };
    }
  }

  /** Delivers each pending transport of a page; a failing one never holds back the others. */
  private async runPage(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
    budgeted?: PageBudgetDecision,
  ): Promise<Finish> {
    const page = action.page;
    if (!page)
      return (_next, mine) =>
        void Object.assign(mine, { status: "failed", reason: "page without content" });
    const content: PageContent = {
      incident: record.incident,
      kind: page.kind,
      note: action.reason,
      consoleUrl: this.options.consoleUrl?.(record.incident.id) ?? null,
      // For the page's buttons: Approve for each action waiting for a person.
      actions: record.actions,
    };
    const folded = await this.foldedByBudget(record, action, now, budgeted);
    if (folded) {
      return (_next, mine) => {
        mine.status = "skipped";
        mine.reason = `folded into the digest sent after ${folded.digestAfter}: ${folded.reason}`;
        if (mine.page) mine.page.text = pageText(content);
      };
    }
    const results = new Map<Transport, Delivery>();
    await Promise.all(
      (Object.entries(page.deliveries) as Array<[Transport, Delivery]>).map(
        async ([transport, delivery]) => {
          if (delivery.status !== "pending") return;
          if (delivery.notBefore && Date.parse(delivery.notBefore) > now) return;
          const outcome = await this.options.pager.deliver({
            transport,
            channel: page.channel,
            content,
          });
          const attempts = delivery.attempts + 1;
          if (outcome.status === "retry" && attempts < MAX_DELIVERY_ATTEMPTS) {
            const wait = outcome.afterMs ?? this.backoffMs(attempts);
            results.set(transport, {
              status: "pending",
              attempts,
              detail: outcome.detail,
              notBefore: iso(now + wait),
            });
          } else {
            const status = outcome.status === "sent" ? "sent" : "failed";
            results.set(transport, { status, attempts, detail: outcome.detail, notBefore: null });
          }
        },
      ),
    );
    return (_next, mine) => {
      if (!mine.page) return;
      for (const [transport, delivery] of results) mine.page.deliveries[transport] = delivery;
      const deliveries = Object.values(mine.page.deliveries);
      const waiting = deliveries.filter((delivery) => delivery.status === "pending");
      const failed = Object.entries(mine.page.deliveries).filter(
        ([, delivery]) => delivery.status === "failed",
      );
      if (waiting.length > 0) {
        mine.notBefore =
          waiting.map((delivery) => delivery.notBefore ?? iso(now)).sort()[0] ?? null;
        mine.reason = `delivering: ${deliveries.map((delivery) => delivery.detail ?? delivery.status).join("; ")}`;
        return;
      }
      mine.page.text = pageText(content);
      mine.status = failed.length === 0 ? "succeeded" : "failed";
      mine.reason =
        failed.length === 0
          ? `sent via ${Object.keys(mine.page.deliveries).join(", ") || "no transport"}`
          : `not delivered via ${failed.map(([transport, delivery]) => `${transport} (${delivery.detail})`).join(", ")}`;
    };
  }

  /**
   * Counts a page that would wake someone (a first page or an escalation, not yet tried on any
   * transport) against its channel's budget; returns why it was folded instead, if it was.
   */
  private async foldedByBudget(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
    budgeted?: PageBudgetDecision,
  ): Promise<{ reason: string; digestAfter: string } | null> {
    const request = budgeted ? null : this.budgetRequest(record, action, now);
    const decision =
      budgeted ?? (request && (await (this.options.pageBudget as PageBudgetStore).take(request)));
    if (!decision || decision.paged) return null;
    // A page claimed through the budget by another dispatcher: not ours to send.
    if ("held" in decision) throw new Held(decision.until);
    return decision;
  }

  /** The budget take a page needs: first pages and escalations to channels, not yet tried. */
  private budgetRequest(
    record: IncidentRecord,
    action: ActionRecord,
    now: number,
  ): PageRequest | null {
    const { pageBudget } = this.options;
    const page = action.page;
    if (!pageBudget || !page || (page.kind !== "page" && page.kind !== "escalation")) return null;
    // Digests go to channels only: a person's notification folded into one would never reach
    // them, so escalation policies' notifications to people are not counted.
    if (personOf(page.channel) !== null) return null;
    if (Object.values(page.deliveries).some((delivery) => delivery.attempts > 0)) return null;
    return {
      channel: page.channel,
      ref: `${record.incident.id}/${action.id}`,
      incidentId: record.incident.id,
      title: record.incident.title,
      now,
      limits: this.options.config.paging.budget,
    };
  }

  private pageHumans(record: IncidentRecord, note: string, trigger: "held" | "failure"): void {
    const context = this.planContext(this.options.clock.now());
    for (const channel of humanChannels(record, this.options.config)) {
      planPage(record, channel, "page", trigger, note, context);
    }
  }
}
