import { localEventJobs, stormEvents } from "./generators";
import { drive, type Job, percentile, round } from "./load";
import { BENCH_TOKEN, type RunningStack } from "./local-stack";

const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };

export interface PageLatency {
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Alarms that each open an incident of their own (`storm-probe-*` matches the bench policy's
 * critical rule, which pages), one EventBridge event each.
 */
function probeJobs(count: number, prefix: string): Array<Job & { alarm: string }> {
  return stormEvents(count, count).map((event, index) => {
    const alarm = `storm-probe-${prefix}-${String(index).padStart(3, "0")}`;
    event.detail.alarmName = alarm;
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarm}`];
    // Their own time is now: the bench storm's fixed dates are far from arrival.
    event.detail.state.timestamp = new Date().toISOString().replace("Z", "+0000");
    return { ...(localEventJobs([event], 1)[0] as Job), alarm };
  });
}

/** When each probe's first page went out, by the outbox's own clock (same machine, same clock). */
async function pageTimes(stack: RunningStack, alarms: string[]): Promise<Map<string, number>> {
  const answer = await stack.client.request("GET", "/local/outbox", undefined, AUTH);
  const { items } = JSON.parse(answer.body) as { items: Array<{ at: string; text: string }> };
  const times = new Map<string, number>();
  for (const alarm of alarms) {
    const page = items.find((item) => item.text.includes(alarm));
    if (page) times.set(alarm, Date.parse(page.at));
  }
  return times;
}

/**
 * Alarm to first page on the local stack, with the deployed topology (the queue's 1 s batching
 * window, the table's stream to the dispatcher): each probe is timed from just before its
 * request to the page's time in the outbox. Alone, probes go one at a time on an idle stack;
 * `storm` is load sent by `clients` connections meanwhile, with probes every `spacingMs`.
 */
export async function alarmToFirstPage(
  stack: RunningStack,
  options: { probes: number; label: string; storm?: Job[]; clients?: number; spacingMs?: number },
): Promise<PageLatency> {
  const probes = probeJobs(options.probes, options.label);
  const sentAt = new Map<string, number>();
  const send = async (probe: Job & { alarm: string }) => {
    sentAt.set(probe.alarm, Date.now());
    const answer = await stack.client.request("POST", probe.path, probe.body, probe.headers);
    if (answer.status !== 202) throw new Error(`probe: HTTP ${answer.status} ${answer.body}`);
  };
  const waitForPages = async (alarms: string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const times = await pageTimes(stack, alarms);
      if (times.size === alarms.length) return times;
      if (Date.now() > deadline)
        throw new Error(`${alarms.length - times.size} probes never paged`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  let times: Map<string, number>;
  if (!options.storm) {
    times = new Map();
    for (const probe of probes) {
      await send(probe);
      const [time] = (await waitForPages([probe.alarm], 60_000)).values();
      times.set(probe.alarm, time as number);
    }
  } else {
    let loading = true;
    const load = drive(stack.client, options.storm, options.clients ?? 16, 202).finally(() => {
      loading = false;
    });
    const spacing = options.spacingMs ?? 100;
    for (const probe of probes) {
      if (!loading && probe !== probes[0]) break;
      await send(probe);
      await new Promise((resolve) => setTimeout(resolve, spacing));
    }
    await load;
    times = await waitForPages([...sentAt.keys()], 300_000);
  }
  const latencies = [...times].map(([alarm, at]) => at - (sentAt.get(alarm) as number));
  return {
    probes: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
  };
}

/** The storm the "in a storm" figure runs under: repeats of 50 alarms, one per request. */
export const pageStormJobs = (count: number) => localEventJobs(stormEvents(count, 50), 1);
