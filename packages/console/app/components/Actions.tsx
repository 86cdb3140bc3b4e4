import { useEffect, useState } from "preact/hooks";
import { age, utc } from "../format";
import { ladderStep } from "../grouping";
import type { Action, AwsRequest } from "../wire";
import { ActionStatus } from "./badges";

const TYPE_WORDS: Record<string, string> = {
  scale: "Scale out",
  rollback: "Roll back",
  failover: "Fail over",
  page: "Page",
};

const TRIGGER_WORDS: Record<string, string> = {
  opened: "on open",
  retriggered: "on re-trigger",
  "severity-raised": "on severity raise",
  escalation: "escalation",
  resolved: "on resolution",
  "approval-needed": "asking for approval",
  acknowledged: "on acknowledgement",
  held: "automation held",
  failure: "on failure",
  ineffective: "after an ineffective action",
};

const VERDICT_WORDS: Record<string, string> = {
  pending: "Verification pending",
  effective: "Effective",
  ineffective: "Ineffective",
  "not-verified": "Not verified",
};

interface Props {
  actions: Action[];
  now: number;
  busy: boolean;
  onApprove: (actionId: string) => void;
}

/**
 * Every automated response, newest last, with the exact AWS requests it sent. Approving takes
 * two steps: the first names what will change (a failover moves a database's writer), the
 * second does it, so a stray click approves nothing.
 */
export function Actions({ actions, now, busy, onApprove }: Props) {
  const [confirming, setConfirming] = useState<string | null>(null);
  // Once, when the question appears (not on every poll's render): the answer is one key away.
  useEffect(() => {
    if (confirming)
      document.querySelector<HTMLElement>(`#action-${confirming} button.confirm`)?.focus();
  }, [confirming]);
  if (actions.length === 0) {
    return <p class="muted">Nothing yet: no rule asked for an automated response.</p>;
  }
  return (
    <ol class="actions">
      {actions.map((action) => (
        <li
          key={action.id}
          id={`action-${action.id}`}
          class={`action action-edge-${action.status}`}
          tabIndex={-1}
        >
          <div class="action-head">
            <span class="mono action-id">{action.id}</span>
            <strong>{TYPE_WORDS[action.type] ?? action.type}</strong>
            <code class="target">{action.targetKey}</code>
            <ActionStatus status={action.status} />
            {action.dryRun && <span class="pill">Dry run</span>}
          </div>
          {action.reason && <p class="action-reason">{action.reason}</p>}
          <p class="action-meta">
            <span>{TRIGGER_WORDS[action.trigger] ?? action.trigger}</span>
            {action.rule && <span>rule {action.rule}</span>}
            <time dateTime={action.at} title={utc(action.at)}>
              {age(action.at, now)}
            </time>
            {action.attempts > 1 && <span>{action.attempts} attempts</span>}
            {action.approvedBy && <span>approved by {action.approvedBy}</span>}
          </p>
          {ladderStep(action) && <p class="action-ladder">{ladderStep(action)}</p>}
          {action.verification && (
            <p class={`action-verification verdict-${action.verification.status}`}>
              <strong>
                {VERDICT_WORDS[action.verification.status] ?? action.verification.status}
              </strong>
              {action.verification.evidence && <span>: {action.verification.evidence}</span>}
              {action.verification.status === "pending" && action.verification.dueAt && (
                <span class="muted">
                  {" "}
                  (checked{" "}
                  <time dateTime={action.verification.dueAt}>{utc(action.verification.dueAt)}</time>
                  )
                </span>
              )}
              {action.verification.checkedAt && (
                <span class="muted">
                  {" "}
                  (checked{" "}
                  <time dateTime={action.verification.checkedAt}>
                    {utc(action.verification.checkedAt)}
                  </time>
                  )
                </span>
              )}
            </p>
          )}
          {action.before && (
            <p class="action-before">
              <span class="muted">Before:</span> {action.before}
            </p>
          )}
          {action.page && (
            <p class="action-page">
              <span class="muted">Message:</span> {action.page.text}
              {Object.entries(action.page.deliveries).map(([transport, delivery]) => (
                <span key={transport} class={`delivery delivery-${delivery.status}`}>
                  {transport}: {delivery.status}
                  {delivery.detail ? ` (${delivery.detail})` : ""}
                </span>
              ))}
            </p>
          )}
          {action.requests.map((request, index) => (
            <Request key={`${action.id}-${index}`} request={request} />
          ))}
          {action.status === "awaiting-approval" &&
            (confirming === action.id ? (
              <div
                class="approve-row approve-confirm"
                role="alertdialog"
                aria-labelledby={`confirm-${action.id}`}
              >
                <p id={`confirm-${action.id}`}>
                  {TYPE_WORDS[action.type] ?? action.type} <code>{action.targetKey}</code>
                  {action.dryRun ? " (dry run: recorded, nothing changed)" : ""}? This acts on AWS
                  now, guards permitting.
                </p>
                <button
                  type="button"
                  class="warn confirm"
                  disabled={busy}
                  onClick={() => {
                    setConfirming(null);
                    onApprove(action.id);
                  }}
                >
                  {TYPE_WORDS[action.type] ?? action.type} {action.targetKey}
                </button>
                <button type="button" class="cancel" onClick={() => setConfirming(null)}>
                  Cancel
                </button>
              </div>
            ) : (
              <div class="approve-row">
                <button
                  type="button"
                  class="warn approve"
                  disabled={busy}
                  onClick={() => setConfirming(action.id)}
                >
                  Approve {action.id}
                </button>
                <span class="hint">
                  Runs {TYPE_WORDS[action.type]?.toLowerCase() ?? action.type} on {action.targetKey}
                  , after you confirm.
                </span>
              </div>
            ))}
        </li>
      ))}
    </ol>
  );
}

/** The request exactly as sent (or, simulated, as it would be). */
function Request({ request }: { request: AwsRequest }) {
  return (
    <figure class="request">
      <figcaption>
        <code>
          {request.service}:{request.operation}
        </code>
        {request.region && <span class="muted"> in {request.region}</span>}
      </figcaption>
      <pre>{JSON.stringify(request.input, null, 2)}</pre>
    </figure>
  );
}
