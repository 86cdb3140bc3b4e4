import type { ChartMark } from "./chart-data";

/** Offset that flips a label to the left of its line, so labels near the edge stay inside. */
const LABEL_ROOM = 60;

/**
 * Vertical lines at the chart's events, labelled; labels near the right edge sit left of their
 * line, inside the plot, and neighbours step down so they do not overlap.
 */
export function ChartMarks(props: {
  marks: ReadonlyArray<ChartMark>;
  x: (at: number) => number;
  top: number;
  bottom: number;
  /** The plot's right edge. */
  right: number;
}) {
  const { marks, x, top, bottom, right } = props;
  return (
    <>
      {marks.map((mark, index) => (
        <g key={`${mark.kind}-${mark.label}-${mark.at}`} class={`mark mark-${mark.kind}`}>
          <line x1={x(mark.at)} x2={x(mark.at)} y1={top} y2={bottom} />
          <text
            x={x(mark.at) > right - LABEL_ROOM ? x(mark.at) - 4 : x(mark.at) + 4}
            y={top + 10 + (index % 3) * 12}
            text-anchor={x(mark.at) > right - LABEL_ROOM ? "end" : "start"}
          >
            {mark.label}
          </text>
        </g>
      ))}
    </>
  );
}
