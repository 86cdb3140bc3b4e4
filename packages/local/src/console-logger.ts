import { displayLine, type Logger } from "@firebreak/core";

const LEVELS = ["debug", "info", "warn", "error"] as const;
export type ConsoleLevel = (typeof LEVELS)[number];

/**
 * The local stack's own lines: short and readable, extras as compact JSON. Each is one line with
 * no control character or escape sequence left in it: alarm names and log text reach these lines,
 * and a terminal would act on them (clear the screen, start a forged `[firebreak]` line).
 */
export function consoleLogger(
  level: ConsoleLevel = "info",
  write = (line: string) => console.log(line),
): Logger {
  const threshold = LEVELS.indexOf(level);
  const log =
    (at: ConsoleLevel) =>
    (message: string, ...extra: Array<Record<string, unknown>>) => {
      if (LEVELS.indexOf(at) < threshold) return;
      const details = extra.length ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : "";
      const tag = at === "info" ? "" : ` ${at.toUpperCase()}`;
      write(`[firebreak]${tag} ${displayLine(`${message}${details}`)}`);
    };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
