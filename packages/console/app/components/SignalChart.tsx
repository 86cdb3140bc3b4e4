import { useRef } from "preact/hooks";
import { clock, duration, plural } from "../format";
import { useWidth } from "../poll";
import type { IncidentDetail } from "../wire";
import { ChartMarks } from "./ChartMarks";
import { bucketSignals } from "./chart-data";

const HEIGHT = 160;
const PAD = { left: 34, right: 10, top: 12, bottom: 30 };
const BUCKETS = 40;

/**
 * Signals per interval from the incident's first signal to its end (or now), drawn from the
 * timeline, with acknowledgement, resolution and actions marked on the time axis.
 */
export function SignalChart({ incident, now }: { incident: IncidentDetail; now: number }) {
  const figure = useRef<HTMLElement>(null);
  const WIDTH = useWidth(figure, 640);
  const data = bucketSignals(incident, now, WIDTH < 480 ? BUCKETS / 2 : BUCKETS);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (time: number) => PAD.left + ((time - data.start) / data.span) * plotWidth;
  const y = (count: number) => PAD.top + plotHeight - (count / data.max) * plotHeight;
  const barWidth = plotWidth / data.buckets.length;
  const label = `${plural(data.total, "signal")} over ${duration(data.span)}, at most ${data.max} in ${duration(data.bucketMs)}`;

  return (
    <figure class="chart" ref={figure}>
      <svg
        width={WIDTH}
        height={HEIGHT}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={label}
      >
        <title>{label}</title>
        <line class="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} />
        <line class="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(data.max)} y2={y(data.max)} />
        <text class="tick" x={PAD.left - 6} y={y(data.max) + 4} text-anchor="end">
          {data.max}
        </text>
        <text class="tick" x={PAD.left - 6} y={y(0) + 4} text-anchor="end">
          0
        </text>
        {data.buckets.map((count, index) =>
          count > 0 ? (
            <rect
              key={index}
              class={`bar sev-fill-${incident.severity}`}
              x={PAD.left + index * barWidth + 1}
              y={y(count)}
              width={Math.max(1, barWidth - 2)}
              height={y(0) - y(count)}
            />
          ) : null,
        )}
        <ChartMarks
          marks={data.marks}
          x={x}
          top={PAD.top}
          bottom={y(0)}
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
        {label}. Marks:{" "}
        {data.marks.length ? data.marks.map((mark) => mark.title).join("; ") : "none"}.
      </figcaption>
    </figure>
  );
}
