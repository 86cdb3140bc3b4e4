import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { round } from "./load";

/** The machine a figure was measured on, as every result file records it. */
export const MACHINE = {
  cpu: cpus()[0]?.model.trim() ?? "unknown",
  cores: cpus().length,
  memoryGb: round(totalmem() / 2 ** 30, 1),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};

/** Writes bench/results/<name> (JSON with the time and the machine first, or text as given). */
export function writeResult(name: string, content: Record<string, unknown> | string): void {
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const text =
    typeof content === "string"
      ? content
      : `${JSON.stringify({ at: new Date().toISOString(), machine: MACHINE, ...content }, null, 2)}\n`;
  writeFileSync(new URL(name, dir), text);
}
