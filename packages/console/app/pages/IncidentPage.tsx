import { useEffect, useState } from "preact/hooks";
import { useApi } from "../App";
import { ApiError } from "../api";
import { Actions } from "../components/Actions";
import { Alerts } from "../components/Alerts";
import { Marker, SeverityBadge, StatusPill } from "../components/badges";
import { Changes } from "../components/Changes";
import { describeError, type Outcome, OutcomeLine } from "../components/Message";
import { MetricCharts } from "../components/MetricChart";
import { Postmortem } from "../components/Postmortem";
import { SignalChart } from "../components/SignalChart";
import { Timeline } from "../components/Timeline";
import { age, duration, plural, utc } from "../format";
import { httpUrl, markersOf } from "../grouping";
import { REFRESH_MS, useNow, usePoll } from "../poll";
import { href } from "../route";
import type { CommandResult, Escalation, IncidentDetail } from "../wire";
import { Freshness, sourceWord } from "./IncidentList";

export function IncidentPage({ id }: { id: string }) {
  const api = useApi();
  const now = useNow();
  // While an action is in flight (planned, or just approved), look again every second.
  const [inFlight, setInFlight] = useState(false);
  const polled = usePoll(`incident:${id}`, () => api.incident(id), inFlight ? 1000 : REFRESH_MS);
  const planned = polled.data?.actions.some((action) => action.status === "planned") ?? false;
  useEffect(() => setInFlight(planned), [planned]);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const incident = polled.data;

  /** Runs a command, says what the API answered, and reloads the incident. */
  async function run(name: string, command: () => Promise<CommandResult>): Promise<boolean> {
    setBusy(name);
    setOutcome(null);
    try {
      const result = await command();
      setOutcome({ ok: result.changed, text: sentence(result.message) });
      await polled.refresh();
      return true;
    } catch (error) {
      setOutcome({ ok: false, text: `Failed: ${describeError(error)}` });
      return false;
    } finally {
      setBusy(null);
    }
  }

  if (!incident) {
    const missing = polled.error instanceof ApiError && polled.error.status === 404;
    return (
      <>
        <a class="back" href={href.incidents()}>
          ← All incidents
        </a>
        <h1 tabIndex={-1}>{missing ? "No such incident" : `Incident ${id}`}</h1>
        {polled.error !== null ? (
          <p class="banner error" role="alert">
            {missing ? `There is no incident ${id}.` : describeError(polled.error)}
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </>
    );
  }

  const waiting = incident.actions.filter((action) => action.status === "awaiting-approval");
  const { hold } = markersOf(incident, incident);
  const open = incident.status !== "resolved";
  const cloudwatch =
    incident.source === "cloudwatch" ||
    incident.alerts.some((alert) => alert.source === "cloudwatch");
  return (
    <article class={`incident-page sev-edge-${incident.severity}`}>
      <a class="back" href={href.incidents()}>
        ← All incidents
      </a>
      <header class="incident-head">
        <div class="incident-head-line">
          <SeverityBadge severity={incident.severity} />
          <StatusPill status={incident.status} />
          {incident.flapping && <Marker kind="flapping">Flapping</Marker>}
          {incident.silencedBy && (
            <Marker kind="silenced">{`Silenced (${incident.silencedBy})`}</Marker>
          )}
          {hold && hold.kind !== "silence" && <Marker kind="held">{`Held: ${hold.text}`}</Marker>}
          {waiting.length > 0 && <Marker kind="approval">Waiting for approval</Marker>}
          <Freshness updatedAt={polled.updatedAt} now={now} loading={polled.loading} />
        </div>
        <h1 tabIndex={-1}>{incident.title}</h1>
        <p class="incident-meta">
          <span class="mono">{incident.id}</span>
          <span>{sourceWord(incident.source)}</span>
          <span>{incident.service ? `service ${incident.service}` : "no service"}</span>
          {incident.rule && <span>rule {incident.rule}</span>}
          {incident.mergedInto && (
            <span>
              merged into{" "}
              <a class="mono" href={href.incident(incident.mergedInto)}>
                {incident.mergedInto}
              </a>
            </span>
          )}
          {incident.sequence > 1 && <span>{ordinal(incident.sequence)} time this fired</span>}
        </p>
      </header>
      {polled.error !== null && (
        <p class="banner error" role="alert">
          Could not refresh: {describeError(polled.error)} Showing the last view; retrying.
        </p>
      )}

      <Facts incident={incident} now={now} />

      <section class="respond" aria-labelledby="respond-h">
        <h2 id="respond-h">Respond</h2>
        <div class="respond-buttons">
          <button
            type="button"
            class="primary"
            disabled={incident.status !== "triggered" || busy !== null}
            onClick={() => void run("ack", () => api.acknowledge(incident.id))}
          >
            {incident.status === "triggered" ? "Acknowledge" : "Acknowledged"}
          </button>
          {waiting.length > 0 && (
            <button type="button" class="warn" onClick={() => focusAction(waiting[0]?.id)}>
              {plural(waiting.length, "action")} waiting for approval ↓
            </button>
          )}
        </div>
        <OutcomeLine outcome={outcome} />
        <div class="respond-forms">
          <TextCommand
            id="note"
            label="Add a note to the timeline"
            button="Add note"
            required
            disabled={busy !== null}
            onSubmit={(text) => run("note", () => api.note(incident.id, text))}
          />
          {incident.status !== "resolved" && (
            <TextCommand
              id="resolve"
              label="Resolve, with an optional note"
              button="Resolve"
              required={false}
              disabled={busy !== null}
              onSubmit={(text) => run("resolve", () => api.resolve(incident.id, text))}
            />
          )}
        </div>
      </section>

      <section aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts ({incident.alerts.length})</h2>
        <Alerts
          alerts={incident.alerts}
          now={now}
          busy={busy !== null}
          onSplit={
            open && incident.alerts.length > 1
              ? (alertId) => void run(`split:${alertId}`, () => api.split(incident.id, alertId))
              : null
          }
        />
        {open && (
          <MergeForm
            disabled={busy !== null}
            onMerge={(into) => run("merge", () => api.merge(incident.id, into))}
          />
        )}
      </section>

      <section aria-labelledby="changes-h">
        <h2 id="changes-h">Changes before it</h2>
        <Changes changes={incident.changes} firstSeenAt={incident.firstSeenAt} />
      </section>

      <section aria-labelledby="actions-h">
        <h2 id="actions-h">What Firebreak did</h2>
        <Actions
          actions={incident.actions}
          now={now}
          busy={busy !== null}
          onApprove={(actionId) =>
            void run(`approve:${actionId}`, () => api.approve(incident.id, actionId))
          }
        />
      </section>

      <div class="charts">
        <section aria-labelledby="chart-h">
          <h2 id="chart-h">Signals over time</h2>
          <SignalChart incident={incident} now={now} />
        </section>
        {cloudwatch && (
          <section aria-labelledby="metric-h">
            <h2 id="metric-h">Alarm metric</h2>
            <MetricCharts incident={incident} now={now} />
          </section>
        )}
      </div>

      {incident.detail && (
        <section aria-labelledby="detail-h">
          <h2 id="detail-h">Latest detail</h2>
          <pre class="detail">{incident.detail}</pre>
        </section>
      )}

      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline (UTC)</h2>
        <Timeline entries={incident.timeline} firstSeenAt={incident.firstSeenAt} />
      </section>

      <section aria-labelledby="postmortem-h">
        <h2 id="postmortem-h">Post-mortem</h2>
        <Postmortem incidentId={incident.id} />
      </section>
    </article>
  );
}

/** The escalation policy's level and round, and when the next one is due. */
function EscalationFact({ escalation, now }: { escalation: Escalation; now: number }) {
  const { policy, level, levels, round, rounds, nextAt } = escalation;
  const where =
    policy === null
      ? "re-pages to channels"
      : level === null
        ? `${policy}: not started`
        : `${policy}: level ${level} of ${levels}${(rounds ?? 1) > 1 ? `, round ${round} of ${rounds}` : ""}`;
  return (
    <div>
      <dt>Escalation</dt>
      <dd>
        {where}
        <span class="sub">
          {nextAt ? (
            <>
              next <time dateTime={nextAt}>{utc(nextAt)}</time>
              {Date.parse(nextAt) <= now ? " (due)" : ""}
            </>
          ) : (
            "nothing more due"
          )}
        </span>
      </dd>
    </div>
  );
}

function Facts({ incident, now }: { incident: IncidentDetail; now: number }) {
  const first = Date.parse(incident.firstSeenAt);
  const since = (iso: string) => duration(Date.parse(iso) - first);
  const link = incident.link;
  const linkUrl = link?.url && /^https?:\/\//i.test(link.url) ? link.url : null;
  const attributes = Object.entries(incident.attributes).filter(
    ([, value]) => typeof value === "string" || typeof value === "number",
  );
  return (
    <dl class="facts">
      <div>
        <dt>Signals</dt>
        <dd>{plural(incident.count, "signal")}</dd>
      </div>
      <div>
        <dt>First seen</dt>
        <dd>
          <time dateTime={incident.firstSeenAt}>{age(incident.firstSeenAt, now)}</time>
          <span class="sub">{utc(incident.firstSeenAt)}</span>
        </dd>
      </div>
      <div>
        <dt>Last seen</dt>
        <dd>
          <time dateTime={incident.lastSeenAt}>{age(incident.lastSeenAt, now)}</time>
          <span class="sub">{utc(incident.lastSeenAt)}</span>
        </dd>
      </div>
      <div>
        <dt>Acknowledged</dt>
        <dd>
          {incident.acknowledgedAt ? (
            <>
              {`after ${since(incident.acknowledgedAt)}`}
              <span class="sub">by {incident.acknowledgedBy ?? "someone"}</span>
            </>
          ) : (
            <span class="attention">Not yet</span>
          )}
        </dd>
      </div>
      {incident.escalation && <EscalationFact escalation={incident.escalation} now={now} />}
      <div>
        <dt>Resolved</dt>
        <dd>
          {incident.resolvedAt ? (
            <>
              {`after ${since(incident.resolvedAt)}`}
              <span class="sub">by {incident.resolvedBy ?? "someone"}</span>
            </>
          ) : (
            "Ongoing"
          )}
        </dd>
      </div>
      <div class="wide">
        <dt>Runbook</dt>
        <dd>
          {incident.runbook ? (
            httpUrl(incident.runbook) ? (
              <a
                href={httpUrl(incident.runbook) as string}
                target="_blank"
                rel="noopener noreferrer"
              >
                {incident.runbook}
              </a>
            ) : (
              incident.runbook
            )
          ) : (
            <span class="muted">none</span>
          )}
        </dd>
      </div>
      {link && (
        <div class="wide">
          <dt>Source</dt>
          <dd>
            {linkUrl ? (
              <a href={linkUrl} target="_blank" rel="noopener noreferrer">
                {link.label}
              </a>
            ) : (
              link.label
            )}
            {link.arn && <span class="sub mono">{link.arn}</span>}
          </dd>
        </div>
      )}
      {attributes.length > 0 && (
        <div class="wide">
          <dt>Attributes</dt>
          <dd class="attributes">
            {attributes.map(([name, value]) => (
              <span key={name}>
                <span class="muted">{name}</span> {String(value)}
              </span>
            ))}
          </dd>
        </div>
      )}
      <div class="wide">
        <dt>Fingerprint</dt>
        <dd class="mono">{incident.fingerprint}</dd>
      </div>
    </dl>
  );
}

/** Moves this incident's alerts into another incident (it then resolves); the API says why not. */
function MergeForm({
  disabled,
  onMerge,
}: {
  disabled: boolean;
  onMerge: (into: string) => Promise<boolean>;
}) {
  const [into, setInto] = useState("");
  const value = into.trim().toUpperCase();
  return (
    <form
      class="merge-form"
      method="post"
      onSubmit={async (event) => {
        event.preventDefault();
        if (value && (await onMerge(value))) setInto("");
      }}
    >
      <label for="merge-into">Merge into incident</label>
      <input
        id="merge-into"
        class="mono"
        maxLength={16}
        autoComplete="off"
        spellcheck={false}
        placeholder="K7Q2XPD"
        value={into}
        onInput={(event) => setInto(event.currentTarget.value)}
      />
      <button type="submit" disabled={disabled || value === ""}>
        Merge
      </button>
    </form>
  );
}

interface TextCommandProps {
  id: string;
  label: string;
  button: string;
  required: boolean;
  disabled: boolean;
  onSubmit: (text: string) => Promise<boolean>;
}

/** A labelled text box and its button; the text is kept if the command fails. */
function TextCommand({ id, label, button, required, disabled, onSubmit }: TextCommandProps) {
  const [text, setText] = useState("");
  const empty = text.trim() === "";
  return (
    <form
      class="text-command"
      method="post"
      onSubmit={async (event) => {
        event.preventDefault();
        if (required && empty) return;
        if (await onSubmit(text)) setText("");
      }}
    >
      <label for={`${id}-text`}>{label}</label>
      <textarea
        id={`${id}-text`}
        rows={2}
        maxLength={2000}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      <button type="submit" disabled={disabled || (required && empty)}>
        {button}
      </button>
    </form>
  );
}

/** Approval happens next to the request it sends, so the reader sees what they approve. */
function focusAction(actionId: string | undefined) {
  const card = actionId ? document.getElementById(`action-${actionId}`) : null;
  card?.scrollIntoView({ block: "center" });
  card?.querySelector<HTMLElement>("button.approve")?.focus();
}

const sentence = (message: string) =>
  message ? message.charAt(0).toUpperCase() + message.slice(1) : "Done.";

function ordinal(value: number): string {
  const tens = value % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][value % 10] ?? "th");
  return `${value}${suffix}`;
}
