import { useState } from "preact/hooks";
import { useApi } from "../App";
import { describeError, type Outcome, OutcomeLine } from "../components/Message";
import { age, until, utc } from "../format";
import { REFRESH_MS, useNow, usePoll } from "../poll";

const DURATIONS = ["30m", "1h", "2h", "4h", "8h", "1d", "3d", "7d"];

/** Maintenance windows: matching signals are recorded and counted, and nothing responds. */
export function Silences() {
  const api = useApi();
  const now = useNow();
  const polled = usePoll("silences", () => api.silences(), REFRESH_MS);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [matcher, setMatcher] = useState("");
  const [length, setLength] = useState("2h");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);

  async function create(event: SubmitEvent) {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      const silence = await api.createSilence({
        matcher: matcher.trim(),
        duration: length,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
      setOutcome({
        ok: true,
        text: `Silenced ${silence.matcher} until ${utc(silence.endsAt)} (${silence.id}).`,
      });
      setMatcher("");
      setReason("");
      await polled.refresh();
    } catch (error) {
      setOutcome({ ok: false, text: `Not created: ${describeError(error)}` });
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    setBusy(true);
    setConfirming(null);
    try {
      await api.removeSilence(id);
      setOutcome({ ok: true, text: `Removed silence ${id}.` });
      await polled.refresh();
    } catch (error) {
      setOutcome({ ok: false, text: `Not removed: ${describeError(error)}` });
    } finally {
      setBusy(false);
    }
  }

  const items = polled.data?.items ?? null;
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Silences</h1>
      </div>
      <form class="card silence-form" method="post" onSubmit={create}>
        <h2>New silence</h2>
        <div class="field grow">
          <label for="silence-matcher">Matcher</label>
          <input
            id="silence-matcher"
            required
            maxLength={500}
            placeholder="alarmName=api-* source=cloudwatch"
            value={matcher}
            aria-describedby="silence-matcher-help"
            onInput={(event) => setMatcher(event.currentTarget.value)}
          />
          <span id="silence-matcher-help" class="hint">
            key=value pairs, as in a rule's match: alarmName, source, logGroup, level…
          </span>
        </div>
        <div class="field">
          <label for="silence-duration">For</label>
          <select
            id="silence-duration"
            value={length}
            onChange={(event) => setLength(event.currentTarget.value)}
          >
            {DURATIONS.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="silence-reason">Reason (optional)</label>
          <input
            id="silence-reason"
            maxLength={500}
            value={reason}
            onInput={(event) => setReason(event.currentTarget.value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy || matcher.trim() === ""}>
          Silence
        </button>
      </form>
      <OutcomeLine outcome={outcome} />
      {polled.error !== null && (
        <p class="banner error" role="alert">
          Could not load silences: {describeError(polled.error)}
        </p>
      )}
      {items === null && polled.error === null && <p class="muted">Loading…</p>}
      {items && items.length === 0 && <p class="empty">No silence in force.</p>}
      {items && items.length > 0 && (
        <ul class="silences" aria-label="Silences in force">
          {items.map((silence) => (
            <li key={silence.id} class="card silence">
              <div>
                <code class="matcher">{silence.matcher}</code>
                <p class="muted small">
                  <span class="mono">{silence.id}</span> by {silence.createdBy},{" "}
                  {age(silence.createdAt, now)}
                  {" · "}ends{" "}
                  <time dateTime={silence.endsAt} title={utc(silence.endsAt)}>
                    {until(silence.endsAt, now)}
                  </time>
                </p>
                {silence.reason && <p class="silence-reason">{silence.reason}</p>}
              </div>
              {confirming === silence.id ? (
                <span class="confirm">
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    onClick={() => void remove(silence.id)}
                  >
                    Remove {silence.id} now
                  </button>
                  <button type="button" class="quiet" onClick={() => setConfirming(null)}>
                    Keep
                  </button>
                </span>
              ) : (
                <button type="button" onClick={() => setConfirming(silence.id)}>
                  Remove…
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
