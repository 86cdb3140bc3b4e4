import { useRef } from "preact/hooks";
import { useApi } from "../App";
import { clock } from "../format";
import { usePoll, useWidth } from "../poll";
import type { IncidentDetail, MetricSeries } from "../wire";
import { ChartMarks } from "./ChartMarks";
import { describeError } from "./Message";
import { metricChart } from "./metric-data";

const HEIGHT = 160;
const PAD = { left: 46, right: 10, top: 12, bottom: 30 };
/** The metric changes once a period: a slower look than the incident's own. */
const METRICS_MS = 30_000;

/**
 * A CloudWatch incident's alarm metrics (from an hour before it), each drawn as a line with
 * its threshold and the actions that ran marked, beside the signals chart.
 */
export function MetricCharts({ incident, now }: { incident: IncidentDetail; now: number }) {
  const api = useApi();
  const polled = usePoll(
    // Again when an alert joins or leaves (merge, split): the alarms to draw changed.
    `metrics:${incident.id}:${incident.alerts.map((alert) => alert.id).join(",")}`,
    () => api.metrics(incident.id),
    METRICS_MS,
  );
  if (polled.error !== null && !polled.data) {
    return <p class="muted">Could not read the alarm's metric: {describeError(polled.error)}</p>;
  }
  if (!polled.data) return <p class="muted">Reading the alarm's metric…</p>;
  if (polled.data.items.length === 0) {
    return <p class="muted">CloudWatch has no single metric for this alarm.</p>;
  }
  return (
    <>
      {polled.data.items.map((item) => (
        <MetricChart
          key={item.series.alarmName}
          series={item.series}
          summary={item.summary}
          incident={incident}
          now={now}
        />
      ))}
    </>
  );
}

function MetricChart({
  series,
  summary,
  incident,
  now,
}: {
  series: MetricSeries;
  summary: string;
  incident: IncidentDetail;
  now: number;
}) {
  const figure = useRef<HTMLElement>(null);
  const WIDTH = useWidth(figure, 640);
  const started = Date.parse(incident.firstSeenAt);
  const data = metricChart(series, incident.actions, {
    start: started - 3_600_000,
    end: incident.resolvedAt ? Date.parse(incident.resolvedAt) : now,
  });
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (time: number) =>
    PAD.left + ((time - data.start) / (data.end - data.start)) * plotWidth;
  const y = (value: number) =>
    PAD.top + plotHeight - ((value - data.min) / (data.max - data.min)) * plotHeight;
  const line = data.points.map((point) => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`);
  const label = `${series.alarmName}: ${series.label}, ${data.points.length} points. ${summary}`;
  const short = (value: number) => String(Number(value.toPrecision(3)));
  return (
    <figure class="chart metric-chart" ref={figure}>
      <svg
        width={WIDTH}
        height={HEIGHT}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={label}
      >
        <title>{label}</title>
        <line class="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(data.min)} y2={y(data.min)} />
        <text class="tick" x={PAD.left - 6} y={y(data.max) + 8} text-anchor="end">
          {short(data.max)}
        </text>
        <text class="tick" x={PAD.left - 6} y={y(data.min) + 4} text-anchor="end">
          {short(data.min)}
        </text>
        {data.threshold !== null && (
          <g class="threshold">
            <line
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(data.threshold)}
              y2={y(data.threshold)}
            />
            <text x={WIDTH - PAD.right} y={y(data.threshold) - 4} text-anchor="end">
              threshold {short(data.threshold)}
            </text>
          </g>
        )}
        <line
          class="mark mark-opened"
          x1={x(started)}
          x2={x(started)}
          y1={PAD.top}
          y2={y(data.min)}
        />
        {line.length > 1 && <polyline class="metric-line" points={line.join(" ")} />}
        {data.points.length === 1 && data.points[0] && (
          <circle class="metric-dot" cx={x(data.points[0].at)} cy={y(data.points[0].value)} r={3} />
        )}
        <ChartMarks
          marks={data.marks}
          x={x}
          top={PAD.top}
          bottom={y(data.min)}
          right={WIDTH - PAD.right}
        />
        <text class="tick" x={PAD.left} y={HEIGHT - 10}>
          {clock(new Date(data.start).toISOString())}
        </text>
        <text class="tick" x={WIDTH - PAD.right} y={HEIGHT - 10} text-anchor="end">
          {incident.resolvedAt ? clock(incident.resolvedAt) : "now"}
        </text>
      </svg>
      <figcaption class="muted small">
        {series.alarmName}: {series.label}. {summary}. Marks: opened
        {data.marks.length ? `; ${data.marks.map((mark) => mark.title).join("; ")}` : ""}.
      </figcaption>
    </figure>
  );
}
