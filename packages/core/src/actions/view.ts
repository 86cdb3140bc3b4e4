import type { ActionRecord } from "./model";

/**
 * An action as people and the API see it: `{ id, type, target, status, reason, at }`, the exact
 * AWS requests, and for pages the channel and each transport's delivery. Internal bookkeeping
 * (claims, retry times) stays out.
 */
export function actionView(action: ActionRecord) {
  const spec = action.spec as { target?: unknown; channel?: string };
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
export type ActionView = ReturnType<typeof actionView>;
