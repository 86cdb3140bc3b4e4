import * as z from "zod";
import { AwsRequestSchema } from "./gateway";
import {
  type ActionRecord,
  ActionStatusSchema,
  ActionTriggerSchema,
  ActionTypeSchema,
  ChainLinkSchema,
  PageKindSchema,
  TransportSchema,
} from "./model";

/**
 * An action as people and the API see it: `{ id, type, target, status, reason, at }`, the exact
 * AWS requests, and for pages the channel and each transport's delivery. Internal bookkeeping
 * (claims, retry times) stays out.
 */
export const ActionViewSchema = z.object({
  id: z.string(),
  type: ActionTypeSchema,
  rule: z.string().nullable(),
  /** The configured target, or `{ channel }` for a page. */
  target: z.unknown(),
  targetKey: z.string(),
  trigger: ActionTriggerSchema,
  status: ActionStatusSchema,
  reason: z.string().nullable(),
  at: z.iso.datetime(),
  plannedAt: z.iso.datetime(),
  dryRun: z.boolean(),
  requests: z.array(AwsRequestSchema),
  before: z.string().nullable(),
  attempts: z.number().int(),
  approvedBy: z.string().nullable(),
  page: z
    .object({
      kind: PageKindSchema,
      text: z.string(),
      deliveries: z.partialRecord(
        TransportSchema,
        z.object({ status: z.string(), attempts: z.number().int(), detail: z.string().nullable() }),
      ),
    })
    .optional(),
  /**
   * Whether it worked: `pending` until checked `verifyAfter` after it ran, then `effective` or
   * `ineffective` with the evidence; `not-verified` (with why) for a remediation that was
   * skipped or failed, and for pages; null while it has not run.
   */
  verification: z
    .object({
      status: z.enum(["pending", "effective", "ineffective", "not-verified"]),
      dueAt: z.iso.datetime().nullable(),
      checkedAt: z.iso.datetime().nullable(),
      evidence: z.string().nullable(),
    })
    .nullable(),
  /** A step of an `ifIneffective` ladder: the action it follows, the ladder's first action. */
  follows: ChainLinkSchema.nullable(),
});
export type ActionView = z.infer<typeof ActionViewSchema>;

export function actionView(action: ActionRecord): ActionView {
  const spec = action.spec as { target?: unknown };
  return {
    id: action.id,
    type: action.type,
    rule: action.rule,
    target: action.page ? { channel: action.page.channel } : (spec.target ?? null),
    targetKey: action.targetKey,
    trigger: action.trigger,
    status: action.status,
    reason: action.reason,
    at: action.at,
    plannedAt: action.plannedAt,
    dryRun: action.dryRun,
    requests: action.requests,
    before: action.before,
    attempts: action.attempts,
    approvedBy: action.approvedBy,
    verification: verificationView(action),
    follows: action.follows ?? null,
    ...(action.page
      ? {
          page: {
            kind: action.page.kind,
            text: action.page.text,
            deliveries: Object.fromEntries(
              Object.entries(action.page.deliveries).map(([transport, delivery]) => [
                transport,
                { status: delivery.status, attempts: delivery.attempts, detail: delivery.detail },
              ]),
            ),
          },
        }
      : {}),
  };
}

function verificationView(action: ActionRecord): ActionView["verification"] {
  if (action.verification) return action.verification;
  const why = notVerifiedBecause(action);
  return why === null
    ? null
    : { status: "not-verified", dueAt: null, checkedAt: null, evidence: why };
}

/** Why an action has no verification, for people reading it; null when it has one or may yet. */
export function notVerifiedBecause(action: ActionRecord): string | null {
  if (action.verification || action.type === "page") return null;
  if (action.trigger === "resolved") return "it undoes a scale-out after the resolution";
  if (action.status === "skipped") return "not verified: it was skipped, nothing was changed";
  if (action.status === "failed") return "not verified: it failed";
  return null;
}
