import type { MonitoringConfig } from "../config/schema";
import type { IncidentRecord } from "../incidents/model";
import { inhibitorOf, OpenIncidentCache } from "../inhibition/inhibit";
import { type MaintenanceWindow, policyWindows } from "../maintenance/record";
import type { IncidentStore } from "../ports";
import { alertMatcher } from "./alert-matcher";
import { type Hold, silenceHold, subjectsOf } from "./hold";
import type { SilenceStore } from "./record";
import { SilenceCache, silenceFor } from "./silence";

export interface HoldReaderOptions {
  /** Open incidents per service, for inhibition. */
  store: Pick<IncidentStore, "list">;
  /** Silences, and the maintenance windows made through the API. */
  silences: SilenceStore;
  config: Pick<MonitoringConfig, "maintenance" | "inhibit" | "services">;
  /**
   * How long what was read is kept (`SILENCE_CACHE_MS` in the processor; 0 reads every time).
   * Per batch this costs at most one silence query, one window query, and one open-incident
   * query per service an inhibit rule looks at, each at most once per `maxAgeMs`.
   */
  maxAgeMs: number;
}

/**
 * Answers "what holds this incident now?" for planning and the sweep: a silence, a maintenance
 * window (the policy's and the API's), or an open incident that inhibits it. Reads are cached
 * for `maxAgeMs`, so a storm does not become one query per incident.
 *
 * @example
 * const holds = new HoldReader({ store, silences, config, maxAgeMs: SILENCE_CACHE_MS });
 * planResponses(record, events, { config, now, region, hold: await holds.holdFor(record, now) });
 */
export class HoldReader {
  private readonly silenceCache: SilenceCache;
  private readonly openIncidents: OpenIncidentCache;
  private readonly fromPolicy: MaintenanceWindow[];
  /** The read in flight or done: concurrent incidents of a batch share one query. */
  private windows: { at: number; windows: Promise<MaintenanceWindow[]> } | null = null;

  constructor(private readonly options: HoldReaderOptions) {
    this.silenceCache = new SilenceCache(options.silences, options.maxAgeMs);
    this.openIncidents = new OpenIncidentCache(options.store, options.maxAgeMs);
    this.fromPolicy = policyWindows(options.config);
  }

  /** Open-incident queries made so far (inhibition's cost). */
  get inhibitionReads(): number {
    return this.openIncidents.reads;
  }

  /**
   * What holds the incident at `now`, or null. A window or an inhibition holds an incident when
   * it holds every alert still firing (an alert no window matches still pages). Silences come
   * first (a person asked), then windows, then inhibition.
   */
  async holdFor(record: IncidentRecord, now: number): Promise<Hold | null> {
    if (record.incident.status === "resolved") return null;
    const silence = silenceFor(record.incident, await this.silenceCache.active(now), now);
    if (silence) return silenceHold(silence);
    const subjects = subjectsOf(record);
    // A window's timing needs luxon (its recurrence, in its time zone): it is loaded only when a
    // window matches one of the incident's alerts, and for most incidents none does.
    const windows = (await this.activeWindows(now)).filter((window) =>
      subjects.some((subject) => alertMatcher(window.match)(subject)),
    );
    if (windows.length > 0) {
      const { windowHold } = await import("../maintenance/window");
      const held = subjects.map((subject) => windowHold(subject, windows, now));
      if (held.every((hold) => hold !== null)) {
        // The incident is free again when the first of them ends.
        return held.sort((a, b) => (a?.endsAt ?? "").localeCompare(b?.endsAt ?? ""))[0] ?? null;
      }
    }
    const { config } = this.options;
    if (config.inhibit.length === 0) return null;
    const alerts: Record<string, string> = {};
    let first: { id: string; service: string; severity: string; title: string } | null = null;
    for (const subject of subjects) {
      const inhibitor = await inhibitorOf(subject, record.incident.id, config, (service) =>
        this.openIncidents.of(service, now),
      );
      if (!inhibitor) return null;
      alerts[subject.alertId] = inhibitor.id;
      first ??= { ...inhibitor, service: inhibitor.service ?? "" };
    }
    if (!first) return null;
    return {
      kind: "inhibition",
      id: first.id,
      service: first.service,
      alerts,
      endsAt: null,
      reason: `${first.severity} ${first.service}: ${first.title}`.slice(0, 300),
    };
  }

  private async activeWindows(now: number): Promise<MaintenanceWindow[]> {
    const { maxAgeMs, silences } = this.options;
    if (!this.windows || now - this.windows.at > maxAgeMs || now < this.windows.at) {
      const read = { at: now, windows: silences.listWindows(now) };
      this.windows = read;
      read.windows.catch(() => {
        if (this.windows === read) this.windows = null;
      });
    }
    return [...this.fromPolicy, ...(await this.windows.windows)];
  }
}
