import { describe, expect, it } from "vitest";
import { formatValue, type MetricSeries, metricWindow, summariseMetric } from "../src";

const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 12, minute)).toISOString();

function series(values: number[], overrides: Partial<MetricSeries> = {}): MetricSeries {
  return {
    alarmName: "checkout-latency",
    label: "AWS/ApplicationELB TargetResponseTime (p99, 60s)",
    periodSeconds: 60,
    statistic: "p99",
    threshold: 1.5,
    comparison: "GreaterThanThreshold",
    unit: "Seconds",
    points: values.map((value, minute) => ({ at: at(minute), value })),
    ...overrides,
  };
}

describe("summariseMetric", () => {
  it("tells the peak and when the metric came back under the threshold after the last action before it", () => {
    const line = summariseMetric(series([0.4, 2.3, 2.1, 1.9, 1.6, 1.7, 0.9, 0.5]), [
      { at: at(0), label: "the page" },
      { at: at(2), label: "the scale-out" },
      { at: at(9), label: "the rollback" },
    ]);
    expect(line).toBe("peak 2.3 s, under the threshold 4 minutes after the scale-out");
  });

  it("says when it recovered without an action before it, and when it never did", () => {
    expect(summariseMetric(series([2, 3, 1]))).toBe(
      "peak 3 s, under the threshold again at 12:02 UTC",
    );
    expect(summariseMetric(series([1, 2, 3]))).toBe("peak 3 s, still over the threshold of 1.5 s");
    expect(summariseMetric(series([1, 1.2]))).toBe(
      "peak 1.2 s, never beyond the threshold of 1.5 s",
    );
  });

  it("reads low alarms by their low, and inclusive comparisons at the threshold itself", () => {
    const free = series([40, 8, 10, 30], {
      threshold: 10,
      comparison: "LessThanOrEqualToThreshold",
      unit: "Percent",
    });
    expect(summariseMetric(free, [{ at: at(1), label: "the failover" }])).toBe(
      "low 8%, above the threshold 2 minutes after the failover",
    );
  });

  it("gives the extreme only when there is no number to cross (anomaly bands), and says when there is no data", () => {
    const band = series([3, 9, 4], { threshold: null, comparison: "GreaterThanUpperThreshold" });
    expect(summariseMetric(band)).toBe("peak 9 s");
    expect(summariseMetric(series([]))).toBe("no data points in the incident's time range");
  });
});

describe("formatValue", () => {
  it("keeps three significant digits (whole numbers from 100) in the metric's unit", () => {
    expect(formatValue(2345, "Milliseconds")).toBe("2.35 s");
    expect(formatValue(412.34, "Milliseconds")).toBe("412 ms");
    expect(formatValue(87.456, "Percent")).toBe("87.5%");
    expect(formatValue(1462, "Count")).toBe("1462");
    expect(formatValue(1.25e6, "Bytes")).toBe("1250000 Bytes");
    expect(formatValue(0.5, null)).toBe("0.5");
  });
});

describe("metricWindow", () => {
  it("runs from an hour before the incident to its resolution, or to now while it is open", () => {
    const started = Date.parse(at(30));
    expect(
      metricWindow({ firstSeenAt: at(30), resolvedAt: at(45) }, started + 99 * 60_000),
    ).toEqual({
      from: started - 60 * 60_000,
      to: Date.parse(at(45)),
    });
    expect(metricWindow({ firstSeenAt: at(30), resolvedAt: null }, started + 5 * 60_000)).toEqual({
      from: started - 60 * 60_000,
      to: started + 5 * 60_000,
    });
  });
});
