import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export type FaultKind = "throttle" | "server" | "timeout";

/** Errors injected into DynamoDB calls, for the reliability suite. */
export interface FaultPlan {
  /** Share of request attempts that fail, 0..1. */
  rate: number;
  kinds: FaultKind[];
}

/** Counts of what was injected, by kind. */
export type InjectedFaults = Record<FaultKind, number>;

/** An error as the SDK would surface it, so its retry strategy treats it as the real thing. */
function injected(kind: FaultKind): Error {
  if (kind === "timeout") {
    return Object.assign(new Error("socket hang up (injected)"), {
      name: "TimeoutError",
      code: "ETIMEDOUT",
    });
  }
  const throttle = kind === "throttle";
  return Object.assign(
    new Error(
      `${throttle ? "Throughput exceeds the current capacity" : "Internal server error"} (injected)`,
    ),
    {
      name: throttle ? "ThrottlingException" : "InternalServerError",
      $fault: throttle ? "client" : "server",
      $retryable: throttle ? { throttling: true } : {},
      $metadata: { httpStatusCode: throttle ? 400 : 500, attempts: 1 },
    },
  );
}

/**
 * Makes a share of a client's request attempts fail, below the SDK's retry middleware (so retries
 * and backoff run as they would against a struggling DynamoDB). `plan` is read on every attempt:
 * change `rate` to start or stop the faults mid-run.
 */
export function injectFaults(client: DynamoDBClient, plan: FaultPlan): InjectedFaults {
  const counts: InjectedFaults = { throttle: 0, server: 0, timeout: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      if (plan.rate > 0 && Math.random() < plan.rate && plan.kinds.length > 0) {
        const kind = plan.kinds[Math.floor(Math.random() * plan.kinds.length)] as FaultKind;
        counts[kind] += 1;
        throw injected(kind);
      }
      return next(args);
    },
    { step: "deserialize", name: "firebreakFaultInjection" },
  );
  return counts;
}
