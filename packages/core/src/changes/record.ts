import { createHash } from "node:crypto";
import * as z from "zod";
import { RollbackTargetSchema } from "../actions/schema";
import type { MonitoringConfig } from "../config/schema";
import { InvalidEventError, InvalidInputError } from "../errors";
import type { Clock } from "../ports";
import { CHANGE_SOURCES, type ChangeDraft, changeFromEvent, isChangeEvent } from "./events";
import { serviceOfTarget } from "./match";
import { type Change, ChangeSchema } from "./model";
import type { ChangeStore, RecordedChange } from "./store";

const HOUR_MS = 3_600_000;

/**
 * `POST /changes`: what a pipeline reports. Fields are those of `Change`; `at` defaults to now.
 *
 * @example
 * { service: "checkout", version: "43", previousVersion: "42", author: "ci", commit: "abc123",
 *   target: { kind: "lambda-alias", functionName: "checkout-api", alias: "live" } }
 */
export const ChangeInputSchema = z.strictObject({
  service: ChangeSchema.shape.service,
  version: ChangeSchema.shape.version,
  previousVersion: ChangeSchema.shape.previousVersion.unwrap().optional(),
  target: RollbackTargetSchema.optional(),
  commit: ChangeSchema.shape.commit.unwrap().optional(),
  author: ChangeSchema.shape.author.unwrap().optional(),
  url: ChangeSchema.shape.url.unwrap().optional(),
  at: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value).toISOString())
    .optional(),
});
export type ChangeInput = z.infer<typeof ChangeInputSchema>;

/** JSON with object keys sorted, so equal bodies hash equally however their keys were ordered. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonical(field)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 24);

/**
 * The id of a POSTed change and what a repeat of it is. With `at`, the body is the change: the
 * id is `api:` and a hash of the body, and the same body is the same change forever. Without
 * `at`, the same body within an hour is a retry (one change); after that it is a redeploy of
 * the same version, a new change whose id also hashes its time.
 *
 * @example
 * apiChangeIdentity({ service: "checkout", version: "43" }, now).id; // "api:3f…"
 */
export function apiChangeIdentity(input: ChangeInput, now: number) {
  const body = digest(canonical(input));
  if (input.at !== undefined) {
    return { id: `api:${body}`, at: input.at, dedupe: { key: `api:${body}`, reusableAfter: null } };
  }
  const at = new Date(now).toISOString();
  return {
    id: `api:${digest(`${body}\n${at}`)}`,
    at,
    dedupe: { key: `api:${body}`, reusableAfter: now + HOUR_MS },
  };
}

export interface ChangeRecorderOptions {
  store: ChangeStore;
  config: MonitoringConfig;
  clock: Clock;
}

export interface EventChangeOutcome {
  recorded: RecordedChange | null;
  /** Why nothing was recorded: a state that deploys nothing, or a target no service claims. */
  note: string | null;
}

/**
 * Turns deploy events and pipeline reports into stored changes, once each. The store keeps
 * them; this decides their service, their id and, for a Lambda alias, the version before.
 */
export class ChangeRecorder {
  constructor(private readonly options: ChangeRecorderOptions) {}

  /**
   * `POST /changes`.
   * @throws InvalidInputError for a service the config does not define (naming those it does)
   */
  async fromApi(input: ChangeInput): Promise<RecordedChange> {
    const { config, store, clock } = this.options;
    if (!Object.hasOwn(config.services, input.service)) {
      const known = Object.keys(config.services).join(", ") || "none defined";
      throw new InvalidInputError(
        `invalid body: service: unknown service "${input.service}" (services: ${known})`,
      );
    }
    const { id, at, dedupe } = apiChangeIdentity(input, clock.now());
    const change: Change = {
      id,
      service: input.service,
      version: input.version,
      previousVersion: input.previousVersion ?? null,
      target: input.target ?? null,
      commit: input.commit ?? null,
      author: input.author ?? null,
      url: input.url ?? null,
      at,
      origin: "api",
      account: null,
    };
    return store.record(ChangeSchema.parse(change), dedupe);
  }

  /**
   * A deploy event from EventBridge (see `changeFromEvent`).
   * @throws InvalidEventError for a malformed event of a deploy source
   */
  async fromEvent(raw: unknown): Promise<EventChangeOutcome> {
    if (!isChangeEvent(raw)) {
      throw new InvalidEventError(
        `not a deploy event: expected source ${CHANGE_SOURCES.join(", ")}`,
      );
    }
    const { draft, note } = changeFromEvent(raw as Record<string, unknown>);
    if (!draft) return { recorded: null, note };
    const service = serviceOfTarget(this.options.config.services, draft.target);
    if (service === null) {
      return {
        recorded: null,
        note: `no service's changes entry matches ${describeTarget(draft)}`,
      };
    }
    const previousVersion = draft.previousVersion ?? (await this.versionBefore(service, draft));
    const change = ChangeSchema.parse({ ...draft, service, previousVersion });
    return {
      recorded: await this.options.store.record(change, { key: draft.id, reusableAfter: null }),
      note: null,
    };
  }

  /**
   * CloudTrail says which version an alias moved to, not from: the version of the newest
   * earlier change to the same target is where it was (null when none is remembered).
   */
  private async versionBefore(service: string, draft: ChangeDraft): Promise<string | null> {
    const { target } = draft;
    if (target.kind !== "lambda-alias") return null;
    const before = new Date(Date.parse(draft.at) - 1).toISOString();
    const page = await this.options.store.list({ services: [service], until: before, limit: 50 });
    const same = page.items.find(
      (change) =>
        change.target?.kind === "lambda-alias" &&
        change.target.functionName === target.functionName &&
        change.target.alias === target.alias,
    );
    return same?.version ?? null;
  }
}

function describeTarget(draft: ChangeDraft): string {
  const { target } = draft;
  if (target.kind === "lambda-alias") return `lambda-alias ${target.functionName}:${target.alias}`;
  if (target.kind === "codedeploy")
    return `codedeploy ${target.application}/${target.deploymentGroup}`;
  return `ecs-service ${target.cluster}/${target.service}`;
}
