import type { LogEvent, LogsBatch } from "@firebreak/events";
import {
  clip,
  type Level,
  levelRank,
  MAX_DETAIL,
  MAX_TITLE,
  normaliseLevel,
  type Signal,
} from "../signal";
import { awsConsoleUrl } from "./aws-console";
import { errorSignature, logsFingerprint, shortHash } from "./fingerprint";
import { displaySafe } from "./text";

/** What a log line says, whatever its format. */
export interface LogLine {
  level: Level | undefined;
  /** The message without the Lambda prefix (time, request id, level). */
  text: string;
  /** The error's name or type when the line carries one (`TimeoutError`, `Runtime.ExitError`). */
  errorName: string | undefined;
  /** Lambda's START/END/REPORT lines: never signals (REPORT restates an error seen on its own line). */
  platform?: boolean;
}

// Lambda's text format: "<time>\t<request id>\t<LEVEL>\t<message>", Python's "[LEVEL]\t<time>...".
const LAMBDA_TEXT = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z\t[0-9a-f-]{36}\t([A-Z]+)\t([\s\S]*)$/;
const PYTHON_TEXT = /^\[([A-Z]+)\]\t\S+\t\S+\t([\s\S]*)$/;
// Platform lines: "<time> <request id> Task timed out...", "RequestId: <id> Error: ...".
const PLATFORM_PREFIX = /^(?:\d{4}-\d{2}-\d{2}T\S+\s+[0-9a-f-]{36}\s+|RequestId: [0-9a-f-]{36}\s+)/;
const PLATFORM_NOISE = /^(START|END|REPORT|INIT_START|INIT_REPORT|EXTENSION|TELEMETRY) /;
const PLATFORM_FAILURES: ReadonlyArray<[RegExp, string]> = [
  [/Task timed out after/, "Task timed out"],
  // Runtime.ExitError, Runtime.OutOfMemory...; not stack frames such as "Runtime.handler".
  [/\bRuntime\.[A-Z][A-Za-z]+/, ""],
  [/Process exited before completing request/, "Process exited"],
];

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === "string" && value.length > 0);
}

function parseJsonLine(text: string): LogLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const line = value as Record<string, unknown>;
  const error = (typeof line.error === "object" && line.error !== null ? line.error : {}) as Record<
    string,
    unknown
  >;
  const log = (typeof line.log === "object" && line.log !== null ? line.log : {}) as Record<
    string,
    unknown
  >;
  const levelText = firstString(
    line.level,
    line.levelname,
    line.severity,
    log.level,
    line["log.level"],
  );
  const errorName = firstString(error.name, error.type, line.errorType);
  // Lambda writes an unhandled error as {"errorType", "errorMessage"} without a level.
  const level = levelText ? normaliseLevel(levelText) : line.errorType ? "error" : undefined;
  const message =
    firstString(line.message, line.msg, line.errorMessage, error.message) ?? clip(text, MAX_DETAIL);
  return { level, text: message, errorName };
}

/** Reads JSON lines (Powertools, Lambda's JSON format, most loggers) and plain text. */
export function parseLogLine(raw: string): LogLine {
  const trimmed = raw.trim();
  if (trimmed.startsWith("{")) {
    const json = parseJsonLine(trimmed);
    if (json) return json;
  }
  const prefixed = LAMBDA_TEXT.exec(trimmed) ?? PYTHON_TEXT.exec(trimmed);
  const text = prefixed ? (prefixed[2] as string).trim() : trimmed.replace(PLATFORM_PREFIX, "");
  // START/END/REPORT restate what other lines said (REPORT repeats the error type): noise.
  if (PLATFORM_NOISE.test(text))
    return { level: "debug", text, errorName: undefined, platform: true };
  for (const [pattern, name] of PLATFORM_FAILURES) {
    const match = pattern.exec(text);
    if (match) return { level: "error", text, errorName: name || match[0] };
  }
  if (prefixed) {
    const level = normaliseLevel(prefixed[1] as string);
    const invokeError = /^Invoke Error\s+(\{[\s\S]*\})$/.exec(text);
    const details = invokeError ? parseJsonLine(invokeError[1] as string) : undefined;
    if (details)
      return { level: level ?? "error", text: details.text, errorName: details.errorName };
    return { level, text, errorName: undefined };
  }
  if (/\b(FATAL|CRITICAL|PANIC)\b/.test(text))
    return { level: "fatal", text, errorName: undefined };
  if (/\b(ERROR|Error|Exception|Traceback|Unhandled)\b/.test(text)) {
    return { level: "error", text, errorName: undefined };
  }
  if (/\bWARN(ING)?\b/.test(text)) return { level: "warning", text, errorName: undefined };
  return { level: undefined, text, errorName: undefined };
}

export interface LogsOptions {
  /** The region the logs came from (the function's own), for console links. */
  region: string | undefined;
  /** Whether a line is worth a signal: the policy's `keepsLogLine`. */
  keep: (signal: Signal) => boolean;
  /** At most this many line signals per delivery: the policy's `logs.maxSignalsPerDelivery`. */
  maxSignals: number;
}

const logsConsoleUrl = (region: string, logGroup: string, logStream: string) => {
  // The console's fragment encoding: URI-encode, then '%' becomes '$25'.
  const encode = (text: string) => encodeURIComponent(encodeURIComponent(text)).replace(/%/g, "$");
  return awsConsoleUrl(
    region,
    "cloudwatch/home",
    `logsV2:log-groups/log-group/${encode(logGroup)}/log-events/${encode(logStream)}`,
  );
};

/**
 * One signal per log line worth one: errors and lines a rule picks. Lines with the same log
 * group and error signature share a fingerprint. A CONTROL_MESSAGE (health check) yields none.
 *
 * One delivery yields at most `maxSignals` line signals: a 200 KB gzip of one repeated line
 * holds 60,000 of them, and each would cost the processor a write. Past the bound the sample
 * keeps the first line of every error it can, then the earliest others, and ONE more signal
 * (fingerprint {@link droppedLinesFingerprint}) counts the lines left out and quotes the first.
 */
export function signalsFromLogs(batch: LogsBatch, options: LogsOptions): Signal[] {
  if (batch.messageType !== "DATA_MESSAGE") return [];
  const { logGroup, logStream } = batch;
  const streamKey = shortHash(`${logGroup}\n${logStream}`);
  const groupName = logGroup.split("/").filter(Boolean).at(-1) ?? logGroup;
  const url = options.region ? logsConsoleUrl(options.region, logGroup, logStream) : undefined;
  const signalOf = (
    event: LogEvent,
    fingerprint: string,
    title: string,
    level: Level | undefined,
    message: string,
    detail: string,
    delivery = event.id,
  ): Signal =>
    displaySafe({
      source: "logs",
      kind: "trigger",
      deliveryId: `${delivery}:${streamKey}`,
      fingerprint,
      title: clip(`${groupName}: ${title}`, MAX_TITLE),
      at: new Date(event.timestamp).toISOString(),
      attributes: {
        account: batch.owner,
        ...(options.region ? { region: options.region } : {}),
        logGroup,
        logStream,
        ...(level ? { level } : {}),
        message: clip(message, MAX_DETAIL),
      },
      link: {
        label: clip(`${logGroup} ${logStream}`, MAX_TITLE),
        ...(url ? { url } : {}),
      },
      detail: clip(detail, MAX_DETAIL),
    });

  const sample = new LineSample(options.maxSignals);
  for (const event of batch.logEvents) {
    const line = parseLogLine(event.message);
    if (line.platform) continue;
    const named =
      line.errorName && !line.text.startsWith(line.errorName)
        ? `${line.errorName}: ${line.text}`
        : line.text;
    const firstLine = named.split("\n", 1)[0] ?? named;
    const fingerprint = logsFingerprint(logGroup, errorSignature(named));
    const signal = signalOf(event, fingerprint, firstLine, line.level, named, event.message.trim());
    if (options.keep(signal)) sample.offer(signal, event);
  }
  const { signals, dropped } = sample.result();
  if (!dropped) return signals;
  const lines = `${dropped.count} log line${dropped.count === 1 ? "" : "s"}`;
  const said = `${lines} worth a signal left out of one delivery (logs.maxSignalsPerDelivery: ${options.maxSignals})`;
  return [
    ...signals,
    signalOf(
      dropped.last,
      droppedLinesFingerprint(logGroup),
      said,
      dropped.level,
      said,
      `${said}; the first left out, at ${new Date(dropped.first.timestamp).toISOString()}:\n${dropped.first.message.trim()}`,
      `${dropped.first.id}-${dropped.last.id}:dropped`,
    ),
  ];
}

/** The fingerprint of the signal that counts a log group's lines left out of a delivery. */
export const droppedLinesFingerprint = (logGroup: string) =>
  logsFingerprint(logGroup, "firebreak: log lines over logs.maxSignalsPerDelivery");

interface Dropped {
  count: number;
  first: LogEvent;
  last: LogEvent;
  /** The most severe level among them, so the count is classified as the worst line would be. */
  level: Level | undefined;
}

interface Offered {
  signal: Signal;
  event: LogEvent;
  /** Its place in the delivery. */
  index: number;
}

/**
 * At most `limit` signals of one delivery, chosen as they stream by without holding the rest:
 * every fingerprint's first signal while room allows (a second error hidden behind 60,000 lines
 * of the first still opens its incident), then the earliest others. What is left out is counted.
 */
class LineSample {
  private readonly kept: Array<Offered | null> = [];
  private readonly perFingerprint = new Map<string, number>();
  private evictFrom = 0;
  private offered = 0;
  private dropped: (Dropped & { firstIndex: number; lastIndex: number }) | null = null;

  constructor(private readonly limit: number) {}

  offer(signal: Signal, event: LogEvent): void {
    const offered = { signal, event, index: this.offered++ };
    if (this.offered <= this.limit) {
      this.keep(offered);
      this.evictFrom = this.kept.length - 1;
      return;
    }
    // Room for a new fingerprint is made by leaving out the latest repeat of another one.
    const evicted = this.perFingerprint.has(signal.fingerprint) ? null : this.evictRepeat();
    if (evicted) {
      this.keep(offered);
      this.drop(evicted);
    } else this.drop(offered);
  }

  result(): { signals: Signal[]; dropped: Dropped | null } {
    const signals = this.kept
      .filter((entry) => entry !== null)
      .sort((a, b) => a.index - b.index)
      .map((entry) => entry.signal);
    return { signals, dropped: this.dropped };
  }

  private keep(offered: Offered): void {
    this.kept.push(offered);
    const { fingerprint } = offered.signal;
    this.perFingerprint.set(fingerprint, (this.perFingerprint.get(fingerprint) ?? 0) + 1);
  }

  private drop({ signal, event, index }: Offered): void {
    const level = signal.attributes.level;
    const dropped = this.dropped;
    if (!dropped) {
      this.dropped = {
        count: 1,
        first: event,
        last: event,
        level,
        firstIndex: index,
        lastIndex: index,
      };
      return;
    }
    dropped.count += 1;
    if (index < dropped.firstIndex) Object.assign(dropped, { first: event, firstIndex: index });
    if (index > dropped.lastIndex) Object.assign(dropped, { last: event, lastIndex: index });
    if (level && (!dropped.level || levelRank(level) > levelRank(dropped.level)))
      dropped.level = level;
  }

  // Repeats are searched from the latest kept backwards, once: whatever is kept after the limit
  // is a fingerprint's only signal.
  private evictRepeat(): Offered | null {
    for (; this.evictFrom >= 0; this.evictFrom--) {
      const entry = this.kept[this.evictFrom];
      if (!entry) continue;
      const count = this.perFingerprint.get(entry.signal.fingerprint) ?? 0;
      if (count > 1) {
        this.kept[this.evictFrom] = null;
        this.perFingerprint.set(entry.signal.fingerprint, count - 1);
        return entry;
      }
    }
    return null;
  }
}
