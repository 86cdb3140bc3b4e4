import { age, utc } from "../format";
import { sourceWord } from "../pages/IncidentList";
import { href } from "../route";
import type { Alert } from "../wire";
import { SeverityBadge } from "./badges";

interface Props {
  alerts: Alert[];
  now: number;
  busy: boolean;
  /** Present while the incident is open and has more than one alert. */
  onSplit: ((alertId: string) => void) | null;
}

/**
 * What each source says inside the incident, one row per alert. Titles and descriptions come
 * from alarms, logs and Sentry: they are rendered as text, never as HTML.
 */
export function Alerts({ alerts, now, busy, onSplit }: Props) {
  if (alerts.length === 0) return <p class="muted">No alerts recorded.</p>;
  return (
    <div class="table-scroll">
      <table class="alerts">
        <caption class="sr-only">Alerts in this incident</caption>
        <thead>
          <tr>
            <th scope="col">Source</th>
            <th scope="col">Title</th>
            <th scope="col">Description</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Count</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Inhibited by</th>
            {onSplit && <th scope="col">Grouping</th>}
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id} id={`alert-${alert.id}`} class={`alert-${alert.status}`}>
              <td>{sourceWord(alert.source)}</td>
              <td>
                <span class="alert-title">{alert.title}</span>{" "}
                <span class="mono muted small">{alert.id}</span>
              </td>
              <td class="alert-description">{alert.description ?? "—"}</td>
              <td>
                <SeverityBadge severity={alert.severity} />
              </td>
              <td>{alert.status}</td>
              <td>{alert.count}</td>
              <td>
                <time dateTime={alert.firstSeen} title={utc(alert.firstSeen)}>
                  {age(alert.firstSeen, now)}
                </time>
              </td>
              <td>
                <time dateTime={alert.lastSeen} title={utc(alert.lastSeen)}>
                  {age(alert.lastSeen, now)}
                </time>
              </td>
              <td>
                {alert.inhibitedBy ? (
                  <a class="mono" href={href.incident(alert.inhibitedBy)}>
                    {alert.inhibitedBy}
                  </a>
                ) : (
                  "—"
                )}
              </td>
              {onSplit && (
                <td>
                  <button
                    type="button"
                    class="quiet"
                    disabled={busy}
                    onClick={() => onSplit(alert.id)}
                  >
                    Split {alert.id} off
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
