import type { Severity, Status } from "../wire";

const SEVERITY_WORDS: Record<Severity, string> = {
  critical: "Critical",
  warning: "Warning",
  info: "Info",
};

/** Severity by colour and by word: colour alone is lost on some readers and some screens. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span class={`badge sev-${severity}`}>{SEVERITY_WORDS[severity]}</span>;
}

const STATUS_WORDS: Record<Status, string> = {
  triggered: "Triggered",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
};

export function StatusPill({ status }: { status: Status }) {
  return <span class={`pill status-${status}`}>{STATUS_WORDS[status]}</span>;
}

const ACTION_STATUS_WORDS: Record<string, string> = {
  planned: "Planned",
  "awaiting-approval": "Waiting for approval",
  skipped: "Skipped",
  simulated: "Simulated",
  succeeded: "Succeeded",
  failed: "Failed",
};

export const actionStatusWord = (status: string) => ACTION_STATUS_WORDS[status] ?? status;

export function ActionStatus({ status }: { status: string }) {
  const known = status in ACTION_STATUS_WORDS ? status : "other";
  return <span class={`pill action-${known}`}>{actionStatusWord(status)}</span>;
}

export function Marker({
  kind,
  children,
}: {
  kind: "flapping" | "silenced" | "held" | "approval";
  children: string;
}) {
  return <span class={`marker marker-${kind}`}>{children}</span>;
}
