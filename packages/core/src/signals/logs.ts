import type { LogsBatch } from "@firebreak/events";
import { clip, type Level, MAX_DETAIL, MAX_TITLE, normaliseLevel, type Signal } from "../signal";
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
 */
export function signalsFromLogs(batch: LogsBatch, options: LogsOptions): Signal[] {
  if (batch.messageType !== "DATA_MESSAGE") return [];
  const { logGroup, logStream } = batch;
  const streamKey = shortHash(`${logGroup}\n${logStream}`);
  const groupName = logGroup.split("/").filter(Boolean).at(-1) ?? logGroup;
  const signals: Signal[] = [];
  for (const event of batch.logEvents) {
    const line = parseLogLine(event.message);
    if (line.platform) continue;
    const named =
      line.errorName && !line.text.startsWith(line.errorName)
        ? `${line.errorName}: ${line.text}`
        : line.text;
    const firstLine = named.split("\n", 1)[0] ?? named;
    const url = options.region ? logsConsoleUrl(options.region, logGroup, logStream) : undefined;
    const signal: Signal = displaySafe({
      source: "logs",
      kind: "trigger",
      deliveryId: `${event.id}:${streamKey}`,
      fingerprint: logsFingerprint(logGroup, errorSignature(named)),
      title: clip(`${groupName}: ${firstLine}`, MAX_TITLE),
      at: new Date(event.timestamp).toISOString(),
      attributes: {
        account: batch.owner,
        ...(options.region ? { region: options.region } : {}),
        logGroup,
        logStream,
        ...(line.level ? { level: line.level } : {}),
        message: clip(named, MAX_DETAIL),
      },
      link: {
        label: clip(`${logGroup} ${logStream}`, MAX_TITLE),
        ...(url ? { url } : {}),
      },
      detail: clip(event.message.trim(), MAX_DETAIL),
    });
    if (options.keep(signal)) signals.push(signal);
  }
  return signals;
}
