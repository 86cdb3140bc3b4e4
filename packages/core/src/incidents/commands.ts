import type { ActionRecord } from "../actions/model";
import { type PlanContext, planResponses } from "../actions/plan";
import type { MonitoringConfig } from "../config/schema";
import { ConflictError, InvalidInputError, NotFoundError, VersionConflictError } from "../errors";
import type { Clock, IncidentStore } from "../ports";
import { acknowledge, addNote, type HumanChange, resolveByPerson } from "./human";
import type { Incident, IncidentRecord } from "./model";
import type { IncidentEvent } from "./reduce";
import { saveIncident } from "./timeline";

export interface CommandResult {
  /** False when the command changed nothing (already acknowledged...); `message` says why. */
  changed: boolean;
  message: string;
  incident: Incident;
  record: IncidentRecord;
}

export interface IncidentCommandsOptions {
  store: IncidentStore;
  config: MonitoringConfig;
  clock: Clock;
  /** Default region of remediation targets. */
  region: string;
}

const MAX_ATTEMPTS = 10;

/**
 * What people do to incidents (from Slack, the API, the console), each as one compare-and-set
 * with its consequences planned in the same write: acknowledging stops escalation and
 * acknowledges PagerDuty, resolving sends resolve notices, approving releases a waiting action.
 * Every change names who made it.
 */
export class IncidentCommands {
  constructor(private readonly options: IncidentCommandsOptions) {}

  acknowledge(id: string, by: string): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const change = acknowledge(record, by, at);
      return {
        change,
        events: [{ type: "acknowledged", at, by }],
        done: `${id} acknowledged by ${by}`,
      };
    });
  }

  resolve(id: string, by: string, note: string | null): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const change = resolveByPerson(record, by, at, note);
      return { change, events: [{ type: "resolved", at, by }], done: `${id} resolved by ${by}` };
    });
  }

  note(id: string, by: string, text: string): Promise<CommandResult> {
    return this.change(id, (record, at) => ({
      change: addNote(record, by, at, text),
      events: [],
      done: `note added to ${id}`,
    }));
  }

  /**
   * Releases an action waiting for approval: it becomes `planned` and the dispatcher runs it
   * (guards still apply). Approving anything else says why not and changes nothing.
   */
  async approve(
    id: string,
    actionId: string,
    by: string,
    followUp?: { responseUrl: string },
  ): Promise<CommandResult> {
    if (followUp && !isSlackResponseUrl(followUp.responseUrl)) {
      throw new InvalidInputError("a response_url must be https://hooks.slack.com/...");
    }
    return this.change(id, (record, at) => {
      const action = record.actions.find((candidate) => candidate.id === actionId);
      if (!action) {
        const waiting = record.actions.filter(
          (candidate) => candidate.status === "awaiting-approval",
        );
        throw new NotFoundError(
          `${id} has no action ${actionId}${waiting.length ? ` (waiting: ${waiting.map((w) => w.id).join(", ")})` : ""}`,
        );
      }
      if (action.status !== "awaiting-approval") {
        return {
          change: {
            changed: false,
            record,
            reason: `${id}/${actionId} is ${action.status}, not waiting for approval`,
          },
          events: [],
          done: "",
        };
      }
      if (record.incident.status === "resolved") {
        throw new ConflictError(`${id} is resolved: ${actionId} can no longer run`);
      }
      const next = structuredClone(record);
      const mine = next.actions.find((candidate) => candidate.id === actionId) as ActionRecord;
      Object.assign(mine, {
        status: "planned",
        approvedBy: by,
        at,
        reason: `approved by ${by}`,
        followUp: followUp ?? null,
      });
      next.timeline.push({
        type: "action",
        at,
        id: mine.id,
        action: mine.type,
        target: mine.targetKey,
        status: "planned",
        reason: `approved by ${by}`,
        by,
      });
      next.version += 1;
      return {
        change: { changed: true, record: next },
        events: [],
        done: `${id}/${actionId} approved by ${by}`,
      };
    });
  }

  /** Records that someone who may only look tried to change the incident. */
  refuse(id: string, by: string, attempted: string): Promise<CommandResult> {
    return this.change(id, (record, at) => {
      const next = structuredClone(record);
      next.timeline.push({ type: "refused", at, by, attempted });
      next.version += 1;
      return {
        change: { changed: true, record: next },
        events: [],
        done: `${by} may not ${attempted}`,
      };
    });
  }

  private async change(
    id: string,
    apply: (
      record: IncidentRecord,
      at: string,
    ) => { change: HumanChange; events: IncidentEvent[]; done: string },
  ): Promise<CommandResult> {
    const { store } = this.options;
    for (let attempt = 1; ; attempt++) {
      const record = await store.get(id);
      if (!record) throw new NotFoundError(`no incident ${id}`);
      const now = this.options.clock.now();
      const { change, events, done } = apply(record, new Date(now).toISOString());
      if (!change.changed) {
        return { changed: false, message: change.reason, incident: record.incident, record };
      }
      const context: PlanContext = {
        config: this.options.config,
        now,
        region: this.options.region,
      };
      const next = planResponses(change.record, events, context);
      try {
        const saved = await saveIncident(store, next);
        return { changed: true, message: done, incident: saved.incident, record: saved };
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

/**
 * Slack's response URLs live on hooks.slack.com; nothing else is ever posted to. The text itself
 * must say so too, not only its parse: URL parsers forgive leading spaces, tabs inside and
 * `%2e` in host names, and whichever one posts the reply need not be this one.
 */
export function isSlackResponseUrl(url: string): boolean {
  if (!url.startsWith("https://hooks.slack.com/") || /[^\x21-\x7e]/.test(url)) return false;
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com" && parsed.port === ""
    );
  } catch {
    return false;
  }
}
