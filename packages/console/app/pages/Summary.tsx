import { useRef } from "preact/hooks";
import { useApi } from "../App";
import { describeError } from "../components/Message";
import { age, seconds } from "../format";
import { useNow, usePoll, useWidth } from "../poll";
import { href, replaceQuery } from "../route";
import { SEVERITIES, type Summary, type Timing } from "../wire";
import { sourceWord } from "./IncidentList";

const RANGES: ReadonlyArray<readonly [string, string, number | null]> = [
  ["24h", "Last 24 hours", 86_400_000],
  ["7d", "Last 7 days", 7 * 86_400_000],
  ["30d", "Last 30 days", 30 * 86_400_000],
  ["all", "All time", null],
];

/** How the last day or weeks went: volume, MTTA and MTTR by severity, and the noisiest alarms. */
export function SummaryPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const now = useNow(30_000);
  const range =
    RANGES.find(([key]) => key === query.get("range")) ?? (RANGES[1] as (typeof RANGES)[number]);
  // Rounded to the minute so the key (and the request) stays put between polls.
  const since =
    range[2] === null
      ? null
      : new Date(Math.floor((now - range[2]) / 60_000) * 60_000).toISOString();
  const polled = usePoll(`summary:${range[0]}`, () => api.summary(since), 30_000);
  const summary = polled.data;

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Summary</h1>
        <span class="field inline">
          <label for="summary-range">Range</label>
          <select
            id="summary-range"
            value={range[0]}
            onChange={(event) =>
              replaceQuery("/summary", new URLSearchParams({ range: event.currentTarget.value }))
            }
          >
            {RANGES.map(([key, label]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </span>
      </div>
      {polled.error !== null && (
        <p class="banner error" role="alert">
          Could not load the summary: {describeError(polled.error)}
        </p>
      )}
      {!summary && polled.error === null && <p class="muted">Loading…</p>}
      {summary && <SummaryBody summary={summary} now={now} />}
    </>
  );
}

function SummaryBody({ summary, now }: { summary: Summary; now: number }) {
  return (
    <>
      <div class="tiles">
        <Tile label="Incidents" value={summary.incidents} />
        {SEVERITIES.map((severity) => (
          <Tile
            key={severity}
            label={severity}
            value={summary.bySeverity[severity] ?? 0}
            tone={severity}
          />
        ))}
        <Tile label="Still triggered" value={summary.byStatus.triggered ?? 0} />
        <Tile label="Resolved" value={summary.byStatus.resolved ?? 0} />
      </div>
      <section aria-labelledby="timing-h">
        <h2 id="timing-h">Time to acknowledge and to resolve</h2>
        <TimingChart summary={summary} />
        <div class="table-scroll">
          <table class="timing">
            <caption class="sr-only">Median and 90th percentile, by severity</caption>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col" class="align-right">
                  MTTA median
                </th>
                <th scope="col" class="align-right">
                  MTTA p90
                </th>
                <th scope="col" class="align-right">
                  MTTR median
                </th>
                <th scope="col" class="align-right">
                  MTTR p90
                </th>
                <th scope="col" class="align-right">
                  Resolved
                </th>
              </tr>
            </thead>
            <tbody>
              {SEVERITIES.map((severity) => {
                const ack = timingOf(summary.timeToAcknowledge, severity);
                const resolve = timingOf(summary.timeToResolve, severity);
                return (
                  <tr key={severity}>
                    <th scope="row" class={`sev-text-${severity}`}>
                      {severity}
                    </th>
                    <td class="align-right">{seconds(ack.medianSeconds)}</td>
                    <td class="align-right">{seconds(ack.p90Seconds)}</td>
                    <td class="align-right">{seconds(resolve.medianSeconds)}</td>
                    <td class="align-right">{seconds(resolve.p90Seconds)}</td>
                    <td class="align-right">{resolve.count}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="noisy-h">
        <h2 id="noisy-h">Noisiest</h2>
        {summary.noisiest.length === 0 ? (
          <p class="muted">No incidents in this range.</p>
        ) : (
          <div class="table-scroll">
            <table class="noisiest">
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Source</th>
                  <th scope="col" class="align-right">
                    Incidents
                  </th>
                  <th scope="col" class="align-right">
                    Signals
                  </th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {summary.noisiest.map((row) => (
                  <tr key={row.fingerprint}>
                    <td>
                      <span class="noisy-title">{row.title}</span>
                      <span class="sub mono">{row.fingerprint}</span>
                    </td>
                    <td>{sourceWord(row.source)}</td>
                    <td class="align-right">{row.incidents}</td>
                    <td class="align-right">{row.signals}</td>
                    <td>{age(row.lastSeenAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p>
          <a href={href.silences()}>Silence a noisy alarm…</a>
        </p>
      </section>
    </>
  );
}

const NONE: Timing = { count: 0, medianSeconds: null, p90Seconds: null };
const timingOf = (timings: Record<string, Timing>, severity: string) => timings[severity] ?? NONE;

function Tile({ label, value, tone }: { label: string; value: number; tone?: string }) {
  return (
    <div class={`tile ${tone ? `tile-${tone}` : ""}`}>
      <span class="tile-value">{value.toLocaleString("en")}</span>
      <span class="tile-label">{label}</span>
    </div>
  );
}

const ROW = 26;

/** Median as a bar, the 90th percentile as a whisker, on one scale for MTTA and MTTR. */
function TimingChart({ summary }: { summary: Summary }) {
  const box = useRef<HTMLDivElement>(null);
  const WIDTH = useWidth(box, 640);
  const LEFT = 120;
  const rows = SEVERITIES.flatMap((severity) => [
    {
      key: `${severity}-ack`,
      severity,
      label: `${severity} MTTA`,
      timing: timingOf(summary.timeToAcknowledge, severity),
    },
    {
      key: `${severity}-resolve`,
      severity,
      label: `${severity} MTTR`,
      timing: timingOf(summary.timeToResolve, severity),
    },
  ]);
  const max = Math.max(
    60,
    ...rows.map((row) => row.timing.p90Seconds ?? row.timing.medianSeconds ?? 0),
  );
  const scale = (value: number) => (value / max) * (WIDTH - LEFT - 70);
  const height = rows.length * ROW + 8;
  return (
    <div class="chart" ref={box}>
      <svg
        class="timing-chart"
        width={WIDTH}
        height={height}
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label="MTTA and MTTR by severity: median bars, 90th percentile whiskers; exact figures in the table below"
      >
        {rows.map((row, index) => {
          const top = 4 + index * ROW;
          const median = row.timing.medianSeconds;
          const p90 = row.timing.p90Seconds;
          return (
            <g key={row.key}>
              <text class="tick" x={LEFT - 8} y={top + 15} text-anchor="end">
                {row.label}
              </text>
              {median === null ? (
                <text class="tick muted-fill" x={LEFT} y={top + 15}>
                  no data
                </text>
              ) : (
                <>
                  <rect
                    class={`bar sev-fill-${row.severity}`}
                    x={LEFT}
                    y={top + 4}
                    width={Math.max(2, scale(median))}
                    height={ROW - 10}
                  />
                  {p90 !== null && (
                    <line
                      class="whisker"
                      x1={LEFT + scale(p90)}
                      x2={LEFT + scale(p90)}
                      y1={top + 2}
                      y2={top + ROW - 4}
                    />
                  )}
                  <text
                    class="tick"
                    x={LEFT + Math.max(scale(median), p90 === null ? 0 : scale(p90)) + 6}
                    y={top + 15}
                  >
                    {seconds(median)}
                  </text>
                </>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
