import { clock } from "../format";
import type { TimelineEntry } from "../wire";
import { actionStatusWord } from "./badges";

/**
 * The incident's story in time order, one line per entry; every word from outside is text. A
 * signal's detail is shown when it changes, not repeated on every line of a storm.
 */
export function Timeline({
  entries,
  firstSeenAt,
}: {
  entries: TimelineEntry[];
  firstSeenAt: string;
}) {
  const day = firstSeenAt.slice(0, 10);
  // Signals carry their own (possibly earlier) time; actions the time they were decided.
  const ordered = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at.localeCompare(b.entry.at) || a.index - b.index);
  let lastDetail: string | null | undefined = null;
  const shown = ordered.map(({ entry, index }) => {
    if (entry.type !== "opened" && entry.type !== "signals") return { entry, index };
    const repeated = entry.detail === lastDetail;
    lastDetail = entry.detail;
    return { entry: repeated ? { ...entry, detail: null } : entry, index };
  });
  return (
    <ol class="timeline">
      {shown.map(({ entry, index }) => (
        <li key={`${entry.at}-${index}`} class={`tl tl-${entry.type}`}>
          <time dateTime={entry.at}>
            {entry.at.slice(0, 10) === day
              ? clock(entry.at)
              : `${entry.at.slice(0, 10)} ${clock(entry.at)}`}
          </time>
          <span class="tl-text">{describe(entry)}</span>
        </li>
      ))}
    </ol>
  );
}

/** What happened to an alert of the incident, in words. */
const ALERT_CHANGE_WORDS: Record<string, string> = {
  joined: "joined",
  severity: "changed severity",
  resolved: "resolved",
  fired: "fired again",
  merged: "came by merge",
  split: "split off",
};

function describe(entry: TimelineEntry) {
  switch (entry.type) {
    case "opened":
      return (
        <>
          <strong>Opened</strong> as {entry.severity}
          {entry.rule ? ` by rule ${entry.rule}` : ""}
          {entry.flapping ? " (flapping)" : ""}
          {entry.detail && <span class="tl-detail">{entry.detail}</span>}
        </>
      );
    case "signals":
      return (
        <>
          <strong>+{entry.count}</strong> {entry.count === 1 ? "signal" : "signals"}
          {entry.total !== undefined ? `, ${entry.total} in all` : ""}
          {entry.late ? " (arrived late)" : ""}
          {entry.detail && <span class="tl-detail">{entry.detail}</span>}
        </>
      );
    case "severity":
      return (
        <>
          <strong>Severity</strong> {entry.from} → {entry.to}
          {entry.rule ? ` (rule ${entry.rule})` : ""}
        </>
      );
    case "acknowledged":
      return (
        <>
          <strong>Acknowledged</strong> by {entry.by}
        </>
      );
    case "resolved":
      return (
        <>
          <strong>Resolved</strong> by {entry.by}
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
        </>
      );
    case "note":
      return (
        <>
          <strong>Note</strong> from {entry.by}
          <span class="tl-detail tl-note">{entry.text}</span>
        </>
      );
    case "refused":
      return (
        <>
          <strong>Refused</strong>: {entry.by} may not {entry.attempted}
        </>
      );
    case "silenced":
      return (
        <>
          <strong>Silenced</strong> by {entry.silenceId}
          {entry.until ? ` until ${clock(entry.until)}` : ""}
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
        </>
      );
    case "stale-recovery":
      return (
        <>
          <strong>Ignored a late recovery</strong>
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
        </>
      );
    case "action":
      return (
        <>
          <strong>{entry.id}</strong> {entry.action} <code>{entry.target}</code>:{" "}
          {actionStatusWord(entry.status ?? "")}
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
          {entry.by ? ` (by ${entry.by})` : ""}
        </>
      );
    case "alert":
      return (
        <>
          <strong>Alert {entry.alertId}</strong>{" "}
          {ALERT_CHANGE_WORDS[entry.change ?? ""] ?? entry.change}: {entry.title}
          {entry.severity ? ` (${entry.severity})` : ""}
          {entry.by ? ` by ${entry.by}` : ""}
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
        </>
      );
    case "edited":
      return (
        <>
          <strong>Edited</strong> {entry.field}: {entry.from} → {entry.to}
          {entry.by ? ` by ${entry.by}` : ""}
          {entry.reason && <span class="tl-detail">{entry.reason}</span>}
        </>
      );
    default:
      return <strong>{entry.type}</strong>;
  }
}
