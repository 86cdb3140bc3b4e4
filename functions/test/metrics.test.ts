import { describe, expect, it } from "vitest";
import { emfMetrics } from "../lib/metrics";

describe("operational metrics", () => {
  it("writes the pending-actions age as one EMF line with exactly the alarm's dimension", () => {
    const lines: string[] = [];
    emfMetrics("firebreak-prod-escalations", (line) => lines.push(line)).pendingActionsOldestAge(
      420,
    );
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "Firebreak",
            Dimensions: [["FunctionName"]],
            Metrics: [{ Name: "PendingActionsOldestAgeSeconds", Unit: "Seconds" }],
          },
        ],
      },
      FunctionName: "firebreak-prod-escalations",
      PendingActionsOldestAgeSeconds: 420,
    });
    expect(typeof line._aws.Timestamp).toBe("number");
  });

  it("writes a batch's ignored signals as one EMF count by function", () => {
    const lines: string[] = [];
    emfMetrics("firebreak-prod-process", (line) => lines.push(line)).signalsIgnored(37);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: "Firebreak",
              Dimensions: [["FunctionName"]],
              Metrics: [{ Name: "SignalsIgnored", Unit: "Count" }],
            },
          ],
        },
        FunctionName: "firebreak-prod-process",
        SignalsIgnored: 37,
      },
    ]);
  });
});
