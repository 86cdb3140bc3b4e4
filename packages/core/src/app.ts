// Types only at the top: each function's pieces are imported inside its builder below, so a
// bundled function loads only its own (split bundles make each `import()` a chunk: ingest never
// parses the dispatcher, the correlator or the sweep). Cold starts cost about 1 ms per 5 KB.
import type { Dispatcher, DispatcherOptions } from "./actions/dispatch";
import type { SweepOptions } from "./actions/escalate";
import type { ApiToken } from "./auth";
import type { ChangeRecorder } from "./changes/record";
import type { ChangeStore } from "./changes/store";
import type { CloudWatchReader } from "./cloudwatch/ports";
import type { MonitoringConfig } from "./config/schema";
import type { Correlator, IncidentChange } from "./incidents/correlate";
import type { PageBudgetStore } from "./paging/budget";
import type { Policy } from "./policy/classify";
import type {
  Clock,
  IncidentStore,
  Logger,
  MessageQueue,
  OverrideStore,
  ReplayGuard,
} from "./ports";
import type { SignalCounters } from "./reports/counters";
import type { SilenceStore } from "./silences/record";

/**
 * How long the processor keeps the active silences before reading them again. One value for
 * every runtime: the api and slack functions that create silences run apart from the processor
 * (in AWS, in other Lambda instances), so a new silence holds signals within this time, never at
 * once, and the local stack shows exactly that.
 */
export const SILENCE_CACHE_MS = 5_000;

/**
 * Told what the processor did with each queue message. Nothing listens in AWS; the local stack
 * answers `POST /local/events?wait=true` with it and prints incidents opening and resolving.
 */
export interface ProcessingListener {
  processed(messageId: string, incidentIds: string[]): void;
  changed(changes: IncidentChange[]): void;
}

/** Figures Firebreak reports about itself, which its own alarms watch. */
export interface OperationalMetrics {
  /** How long the longest-waiting due action has waited for the dispatcher (every sweep). */
  pendingActionsOldestAge(seconds: number): void;
  /** Signals ignore rules dropped in one processed batch (only batches that dropped some). */
  signalsIgnored(count: number): void;
}

export interface EscalationsDeps extends SweepOptions {
  metrics?: OperationalMetrics;
}

/** What the dispatcher acts through: AWS (or a simulation of it), guard ledgers, pagers. */
export type Responders = Pick<
  DispatcherOptions,
  "gateway" | "guards" | "pageBudget" | "pager" | "mode" | "consoleUrl" | "backoffMs"
>;

/**
 * Everything Firebreak needs from the world, each built on first use (a Lambda function builds
 * only what it calls: SDK clients cost cold-start time). `packages/aws` provides them on AWS,
 * `packages/local` on a laptop; `composeApp` assembles the same application from either.
 */
export interface AppPorts {
  clock: Clock;
  /** The region this runs in: for links and for remediation targets that name none. */
  region: string;
  /** A logger for one part of the app (Powertools in Lambda, the console locally). */
  logger(name: string): Logger;
  policy(): Promise<Policy>;
  /**
   * The policy's config alone, for functions that match no rules (absent: `policy().config`).
   * In Lambda it skips compiling the rules' patterns, and loading RE2 for them.
   */
  config?(): Promise<MonitoringConfig>;
  store(): Promise<IncidentStore>;
  silences(): Promise<SilenceStore>;
  queue(): Promise<MessageQueue>;
  responders(): Promise<Responders>;
  /**
   * The page budget alone, for the sweep's digests: in Lambda, without the rest of the
   * responders (the remediation gateway with its accounts' roles, the pager with its transports
   * and the channels' secrets).
   */
  pageBudget(): Promise<PageBudgetStore>;
  apiTokens(): Promise<ReadonlyArray<ApiToken>>;
  sentryClientSecret(): Promise<string>;
  slackSigningSecret(): Promise<string>;
  /** Where signed requests are remembered while they could be replayed (the table in AWS). */
  replays(): Promise<ReplayGuard>;
  /** Where on-call schedule overrides live (the table in AWS). */
  overrides(): Promise<OverrideStore>;
  /** The token of the read-only iCalendar feeds (`CALENDAR_TOKEN`): calendar apps send no headers. */
  calendarToken(): Promise<string>;
  /**
   * Alarm states and metrics (`DescribeAlarms`, `GetMetricData`), in the alarm's own account:
   * verification and an incident's metric context read them. Locally, the simulated CloudWatch.
   */
  cloudwatch(): Promise<CloudWatchReader>;
  /** Where deploys and pipeline-reported changes live (the table in AWS). */
  changes(): Promise<ChangeStore>;
  /** Counts per hour of what is never stored, such as ignored signals (the table in AWS). */
  counters(): Promise<SignalCounters>;
  listener?: ProcessingListener;
  /** Where operational metrics go (CloudWatch through EMF in Lambda; kept in memory locally). */
  metrics?: OperationalMetrics;
  /** How long the processor keeps active silences (default `SILENCE_CACHE_MS`; tests: 0). */
  silenceCacheMs?: number;
}

/** What the functions that read and change incidents share (api, slack, escalations). */
export interface IncidentDeps {
  store: IncidentStore;
  silences: SilenceStore;
  /** On-call overrides: who is on call is the config's schedules with these. */
  overrides: OverrideStore;
  config: MonitoringConfig;
  clock: Clock;
  region: string;
}

export interface IngestDeps {
  policy: Policy;
  queue: MessageQueue;
  region: string;
}

export interface ProcessDeps {
  correlator: Correlator;
  /** Deploy events become changes, not signals. */
  changes: ChangeRecorder;
  policy: Policy;
  region: string;
  listener?: ProcessingListener;
  /**
   * Counts a batch's signals that ignore rules dropped (in the hour's counters and as a metric).
   * Never throws: a count that cannot be written is logged, the batch is not retried for it.
   */
  countIgnored(count: number): Promise<void>;
}

export interface SentryWebhookDeps {
  queue: MessageQueue;
  clientSecret: string;
  clock: Clock;
  /** `incidents.trustedTime`: a hook timestamp outside it is refused. */
  trustedTime: MonitoringConfig["incidents"]["trustedTime"];
}

export interface ApiDeps extends IncidentDeps {
  tokens: ReadonlyArray<ApiToken>;
  /** Read when a calendar feed is asked for, so the rest of the API works without it. */
  calendarToken: () => Promise<string>;
  /** Built when an incident's metrics are asked for, so the rest of the API makes no client. */
  cloudwatch: () => Promise<CloudWatchReader>;
  /** `POST /changes`, `GET /changes` and an incident's `changes`. */
  changes: ChangeStore;
  /** The summary report's `ignored`. */
  counters: SignalCounters;
}

export interface SlackDeps extends IncidentDeps {
  /** The Slack app's signing secret. */
  signingSecret: string;
  /** Each signed request is applied once; a replay within its window changes nothing. */
  replays: ReplayGuard;
}

export interface DispatchDeps {
  dispatcher: Dispatcher;
}

/** The application: what each function runs with, built on first use and kept. */
export interface App {
  ingest(): Promise<IngestDeps>;
  process(): Promise<ProcessDeps>;
  sentryWebhook(): Promise<SentryWebhookDeps>;
  api(): Promise<ApiDeps>;
  slack(): Promise<SlackDeps>;
  dispatch(): Promise<DispatchDeps>;
  escalations(): Promise<EscalationsDeps>;
}

/**
 * The one composition root: assembles correlator, dispatcher, commands, silences, sweep and
 * reports from ports. Every Lambda entry point and the local stack call it, so both runtimes run
 * the same application.
 *
 * @example
 * const app = composeApp(awsPorts);
 * export const handler = createProcessHandler(app.process);
 */
export function composeApp(ports: AppPorts): App {
  const { clock, region } = ports;
  const config = ports.config ?? (async () => (await ports.policy()).config);
  // Each function's ports are built side by side: one's request (a secret from Parameter Store)
  // waits while another's SDK client loads, and a cold start pays for the longest, not the sum.
  const incidentDeps = once(async (): Promise<IncidentDeps> => {
    const [store, silences, overrides, incidentConfig] = await Promise.all([
      ports.store(),
      ports.silences(),
      ports.overrides(),
      config(),
    ]);
    return { store, silences, overrides, config: incidentConfig, clock, region };
  });
  return {
    ingest: once(async () => {
      const [policy, queue] = await Promise.all([ports.policy(), ports.queue()]);
      return { policy, queue, region };
    }),
    process: once(async () => {
      const [
        { planResponses },
        { lastChangeForPlanning },
        { ChangeRecorder },
        { lastChangeLookup },
        { deployWatchFor },
        { Correlator },
        { HoldReader },
        policy,
        changes,
        store,
        silences,
        counters,
      ] = await Promise.all([
        import("./actions/plan"),
        import("./actions/targets"),
        import("./changes/record"),
        import("./changes/store"),
        import("./changes/watch"),
        import("./incidents/correlate"),
        import("./silences/holds"),
        ports.policy(),
        ports.changes(),
        ports.store(),
        ports.silences(),
        ports.counters(),
      ]);
      // Silences, maintenance windows and inhibiting incidents, each read at most once per
      // SILENCE_CACHE_MS (inhibition: one open-incident query per service it asks about).
      const holds = new HoldReader({
        store,
        silences,
        config: policy.config,
        maxAgeMs: ports.silenceCacheMs ?? SILENCE_CACHE_MS,
      });
      const correlator = new Correlator({
        store,
        policy,
        clock,
        logger: ports.logger("correlator"),
        respond: async (record, events, now) =>
          planResponses(record, events, {
            config: policy.config,
            now,
            region,
            hold: await holds.holdFor(record, now),
            lastChange: await lastChangeForPlanning(
              lastChangeLookup(changes),
              record.incident,
              events,
              policy.config,
              now,
            ),
            deployWatch: await deployWatchFor(changes, record, events, policy.config),
          }),
      });
      const countLogger = ports.logger("counters");
      return {
        correlator,
        policy,
        region,
        listener: ports.listener,
        countIgnored: async (count: number) => {
          if (count === 0) return;
          ports.metrics?.signalsIgnored(count);
          try {
            await counters.add(clock.now(), { ignored: count });
          } catch (error) {
            // Counting is telemetry: failing the batch for it would send processed signals round
            // again, and to the dead-letter queue while the table refuses. The count is lost.
            countLogger.warn("ignored signals not counted", { count, error: String(error) });
          }
        },
        changes: new ChangeRecorder({ store: changes, config: policy.config, clock }),
      };
    }),
    sentryWebhook: once(async () => {
      const [queue, clientSecret, { incidents }] = await Promise.all([
        ports.queue(),
        ports.sentryClientSecret(),
        config(),
      ]);
      return { queue, clientSecret, clock, trustedTime: incidents.trustedTime };
    }),
    api: once(async () => {
      const [incident, tokens, changes, counters] = await Promise.all([
        incidentDeps(),
        ports.apiTokens(),
        ports.changes(),
        ports.counters(),
      ]);
      return {
        ...incident,
        tokens,
        calendarToken: once(() => ports.calendarToken()),
        cloudwatch: once(() => ports.cloudwatch()),
        changes,
        counters,
      };
    }),
    slack: once(async () => {
      const [incident, signingSecret, replays] = await Promise.all([
        incidentDeps(),
        ports.slackSigningSecret(),
        ports.replays(),
      ]);
      return { ...incident, signingSecret, replays };
    }),
    dispatch: once(async () => {
      const [{ Dispatcher }, responders, store, dispatchConfig] = await Promise.all([
        import("./actions/dispatch"),
        ports.responders(),
        ports.store(),
        config(),
      ]);
      return {
        dispatcher: new Dispatcher({
          ...responders,
          store,
          clock,
          config: dispatchConfig,
          region,
          logger: ports.logger("dispatcher"),
        }),
      };
    }),
    escalations: once(async () => {
      const [{ lastChangeLookup }, pageBudget, incident, changes] = await Promise.all([
        import("./changes/store"),
        ports.pageBudget(),
        incidentDeps(),
        ports.changes(),
      ]);
      // Most sweeps send no digest and verify nothing: what only those need is built on first
      // use (in Lambda: the pager with its transports and secrets, the remediation gateway with
      // the accounts' roles, CloudWatch's clients).
      const delivery = once(async () => {
        const { pager, consoleUrl } = await ports.responders();
        return { pager, consoleUrl };
      });
      return {
        ...incident,
        logger: ports.logger("escalations"),
        metrics: ports.metrics,
        // The sweep sends the page budget's digests as each minute turns.
        digests: { budget: pageBudget, delivery },
        // Alarm states, to verify the remediations that are due; the last change, for ladders
        // that roll it back.
        cloudwatch: cloudWatchOnFirstRead(once(() => ports.cloudwatch())),
        changes: lastChangeLookup(changes),
      };
    }),
  };
}

/** A CloudWatch reader whose clients are built on its first read. */
function cloudWatchOnFirstRead(reader: () => Promise<CloudWatchReader>): CloudWatchReader {
  return {
    alarmStates: async (alarmNames, account) => (await reader()).alarmStates(alarmNames, account),
    metricSeries: async (alarmName, from, to, account) =>
      (await reader()).metricSeries(alarmName, from, to, account),
  };
}

/**
 * Builds a value on first use and keeps it: clients and config are made once per cold start,
 * not per invocation. A failed build is not cached, so the next invocation tries again.
 */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
