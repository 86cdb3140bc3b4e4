import { useRef } from "preact/hooks";
import { useApi } from "../App";
import type { IncidentFilters } from "../api";
import { Marker, SeverityBadge, StatusPill } from "../components/badges";
import { describeError } from "../components/Message";
import { OnCallPanel } from "../components/OnCall";
import { age, plural, utc } from "../format";
import { groupByService, type Markers, servicesIn } from "../grouping";
import { useMarkers } from "../markers";
import { forReading } from "../order";
import { REFRESH_MS, useNow, usePoll } from "../poll";
import { href, replaceQuery } from "../route";
import { type IncidentItem, SEVERITIES, SOURCES, STATUSES } from "../wire";

const PAGE = 50;
const MAX_LIMIT = 200;

function filtersOf(query: URLSearchParams): IncidentFilters {
  const pick = (key: string, allowed: ReadonlyArray<string>, fallback: string) => {
    const value = query.get(key);
    return value !== null && (value === "" || allowed.includes(value)) ? value : fallback;
  };
  return {
    status: pick("status", ["open", ...STATUSES], "open"),
    severity: pick("severity", SEVERITIES, ""),
    source: pick("source", SOURCES, ""),
    // Any name the API accepts; the API answers 400 to one it does not.
    service: /^[a-z0-9][a-z0-9._-]{0,62}$/i.test(query.get("service") ?? "")
      ? (query.get("service") as string)
      : "",
  };
}

export function IncidentList({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const now = useNow();
  const filters = filtersOf(query);
  const limit = Math.min(MAX_LIMIT, Math.max(PAGE, Number(query.get("limit")) || PAGE));
  const key = JSON.stringify({ ...filters, limit });
  const polled = usePoll(key, () => api.incidents(filters, limit), REFRESH_MS);
  const items = polled.data ? forReading(polled.data.items) : null;
  const markers = useMarkers(api, items);
  // Services seen on any page so far: filtering by one must not empty the filter's choices.
  const known = useRef(new Set<string>());
  const services = servicesIn(items ?? [], known.current);
  for (const service of services) known.current.add(service);
  if (filters.service && !services.includes(filters.service)) services.push(filters.service);
  // On the list's own rhythm; the last answer stays while a refresh fails, as the list's does.
  const onCall = usePoll("oncall", () => api.onCall(), REFRESH_MS);

  const setFilter = (name: keyof IncidentFilters | "limit", value: string) => {
    const next = new URLSearchParams(query);
    next.set(name, value);
    if (name !== "limit") next.delete("limit");
    replaceQuery("/incidents", next);
  };

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Incidents</h1>
        <Freshness updatedAt={polled.updatedAt} now={now} loading={polled.loading} />
      </div>
      <search>
        <form class="filters" aria-label="Filter incidents" onSubmit={prevent}>
          <Choice
            id="filter-status"
            label="Status"
            value={filters.status}
            options={[
              ["open", "Open (not resolved)"],
              ["triggered", "Triggered"],
              ["acknowledged", "Acknowledged"],
              ["resolved", "Resolved"],
              ["", "All"],
            ]}
            onChange={(value) => setFilter("status", value)}
          />
          <Choice
            id="filter-severity"
            label="Severity"
            value={filters.severity}
            options={[["", "All"], ...SEVERITIES.map((value) => [value, capital(value)] as const)]}
            onChange={(value) => setFilter("severity", value)}
          />
          <Choice
            id="filter-source"
            label="Source"
            value={filters.source}
            options={[["", "All"], ...SOURCES.map((value) => [value, sourceWord(value)] as const)]}
            onChange={(value) => setFilter("source", value)}
          />
          <Choice
            id="filter-service"
            label="Service"
            value={filters.service}
            options={[["", "All"], ...services.map((value) => [value, value] as const)]}
            onChange={(value) => setFilter("service", value)}
          />
          <button
            type="button"
            class="quiet"
            onClick={() => void Promise.all([polled.refresh(), onCall.refresh()])}
          >
            Refresh now
          </button>
        </form>
      </search>
      {onCall.data && <OnCallPanel items={onCall.data.items} now={now} />}
      {polled.error !== null && (
        <p class="banner error" role="alert">
          {items
            ? `Could not refresh: ${describeError(polled.error)} Showing the last list; retrying.`
            : `Could not load incidents: ${describeError(polled.error)}`}
        </p>
      )}
      {items === null && polled.error === null && <p class="muted">Loading incidents…</p>}
      {items && <Counts items={items} />}
      {items && items.length === 0 && (
        <p class="empty">
          <span aria-hidden="true">✓ </span>
          {filters.status === "open" && !filters.severity && !filters.source && !filters.service
            ? "Nothing open. All quiet."
            : "No incidents match these filters."}
        </p>
      )}
      {items &&
        groupByService(items).map((group) => (
          <section
            key={group.label}
            class={`service-group${group.service === null ? " no-service" : ""}`}
            aria-label={`Service: ${group.label}`}
          >
            <h2 class="service-head">
              {group.label}{" "}
              <span class="muted small">{plural(group.items.length, "incident")}</span>
            </h2>
            <ul class="incidents" aria-label={`Incidents of ${group.label}`}>
              {group.items.map((incident) => (
                <IncidentRow
                  key={incident.id}
                  incident={incident}
                  markers={markers(incident)}
                  now={now}
                />
              ))}
            </ul>
          </section>
        ))}
      {polled.data?.nextCursor &&
        (limit < MAX_LIMIT ? (
          <button
            type="button"
            class="more"
            onClick={() => setFilter("limit", String(limit + PAGE))}
          >
            Show {PAGE} more
          </button>
        ) : (
          <p class="muted">Showing the newest {MAX_LIMIT}. Narrow the filters to see others.</p>
        ))}
    </>
  );
}

const SOURCE_WORDS: Record<string, string> = {
  cloudwatch: "CloudWatch",
  logs: "Logs",
  sentry: "Sentry",
  security: "Security",
  health: "AWS Health",
};
export const sourceWord = (source: string) => SOURCE_WORDS[source] ?? source;
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const prevent = (event: Event) => event.preventDefault();

function Counts({ items }: { items: IncidentItem[] }) {
  const bySeverity = SEVERITIES.map(
    (severity) => [severity, items.filter((item) => item.severity === severity).length] as const,
  ).filter(([, count]) => count > 0);
  const unacknowledged = items.filter((item) => item.status === "triggered").length;
  return (
    <p class="counts">
      <strong>{plural(items.length, "incident")}</strong>
      {bySeverity.map(([severity, count]) => (
        <span key={severity} class={`count sev-text-${severity}`}>
          {count} {severity}
        </span>
      ))}
      {unacknowledged > 0 && <span class="count">{unacknowledged} not acknowledged</span>}
    </p>
  );
}

function IncidentRow({
  incident,
  markers,
  now,
}: {
  incident: IncidentItem;
  markers: Markers;
  now: number;
}) {
  const last = incident.lastSeenAt !== incident.firstSeenAt;
  return (
    <li class={`incident sev-edge-${incident.severity} is-${incident.status}`}>
      <a class="incident-link" href={href.incident(incident.id)}>
        <span class="incident-sev">
          <SeverityBadge severity={incident.severity} />
        </span>
        <span class="incident-main">
          <span class="incident-title">{incident.title}</span>
          <span class="incident-meta">
            <span>{sourceWord(incident.source)}</span>
            {incident.rule && <span>rule {incident.rule}</span>}
            <span class="mono">{incident.id}</span>
            {incident.flapping && <Marker kind="flapping">Flapping</Marker>}
            {incident.silencedBy && (
              <Marker kind="silenced">{`Silenced (${incident.silencedBy})`}</Marker>
            )}
            {markers.hold && markers.hold.kind !== "silence" && (
              <Marker kind="held">{`Held: ${markers.hold.text}`}</Marker>
            )}
            {markers.awaitingApproval > 0 && (
              <Marker kind="approval">
                {`Waiting for approval (${plural(markers.awaitingApproval, "action")})`}
              </Marker>
            )}
          </span>
        </span>
        <span class="incident-side">
          <StatusPill status={incident.status} />
          <span class="incident-count" title="Signals">
            {plural(incident.count, "signal")}
          </span>
          <time dateTime={incident.firstSeenAt} title={`First seen ${utc(incident.firstSeenAt)}`}>
            {age(incident.firstSeenAt, now)}
          </time>
          {last && <span class="muted small last-seen">last {age(incident.lastSeenAt, now)}</span>}
        </span>
      </a>
    </li>
  );
}

interface ChoiceProps {
  id: string;
  label: string;
  value: string;
  options: ReadonlyArray<readonly [string, string]>;
  onChange: (value: string) => void;
}

function Choice({ id, label, value, options, onChange }: ChoiceProps) {
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        {options.map(([optionValue, optionLabel]) => (
          <option key={optionValue} value={optionValue}>
            {optionLabel}
          </option>
        ))}
      </select>
    </span>
  );
}

/** When the list was last fetched: an on-call reader must know whether it is live. */
export function Freshness({
  updatedAt,
  now,
  loading,
}: {
  updatedAt: number | null;
  now: number;
  loading: boolean;
}) {
  if (updatedAt === null) return <span class="fresh muted">{loading ? "Loading…" : ""}</span>;
  const stale = now - updatedAt > REFRESH_MS * 3;
  return (
    <span class={`fresh ${stale ? "stale" : "live"}`}>
      <span class="dot" aria-hidden="true" />
      {stale ? "Stale: updated " : "Live: updated "}
      {age(new Date(updatedAt).toISOString(), now)}
    </span>
  );
}
