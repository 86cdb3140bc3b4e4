import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drive, type Job, LoadClient } from "./load";

/** The Alertmanager binary on PATH (Debian names it prometheus-alertmanager), if any. */
export function findAlertmanager(): string | undefined {
  for (const name of ["prometheus-alertmanager", "alertmanager"]) {
    try {
      return (
        execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined
      );
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function alertmanagerVersion(binary: string): string {
  try {
    const output = execFileSync(binary, ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return /version ([^\s]+)/.exec(output)?.[1] ?? "unknown";
  } catch (error) {
    const output = String((error as { stderr?: string }).stderr ?? "");
    return /version ([^\s]+)/.exec(output)?.[1] ?? "unknown";
  }
}

/** Alertmanager on loopback with an empty receiver: it keeps alerts in memory and sends nothing. */
export async function startAlertmanager(
  binary: string,
  port: number,
): Promise<{ process: ChildProcess; client: LoadClient; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "alertmanager-"));
  writeFileSync(
    join(dir, "am.yml"),
    "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
  );
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, "am.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { stdio: "ignore" },
  );
  const client = new LoadClient("127.0.0.1", port, 32);
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await client.request("GET", "/-/ready")).status === 200) break;
    } catch {
      // starting
    }
    if (attempt > 200 || child.exitCode !== null) throw new Error("Alertmanager did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    process: child,
    client,
    async stop() {
      client.close();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The storm as Alertmanager alerts: the same count over the same number of alert names. */
export function alertJobs(count: number, alerts: number, perRequest: number): Job[] {
  const alert = (index: number) => ({
    labels: {
      alertname: `storm-alarm-${String(index % alerts).padStart(2, "0")}`,
      severity: "critical",
      account: "123456789012",
    },
    annotations: {
      summary:
        "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (1.5)",
      event: `storm-${index}`,
    },
    startsAt: new Date(Date.now() + index).toISOString(),
    generatorURL: "https://us-east-1.console.aws.amazon.com/cloudwatch/home",
  });
  const jobs: Job[] = [];
  for (let start = 0; start < count; start += perRequest) {
    const size = Math.min(perRequest, count - start);
    jobs.push({
      path: "/api/v2/alerts",
      body: JSON.stringify(Array.from({ length: size }, (_, offset) => alert(start + offset))),
      events: size,
    });
  }
  return jobs;
}

export async function alertmanagerRate(
  binary: string,
  port: number,
  jobs: Job[],
  clients: number,
): Promise<number> {
  const am = await startAlertmanager(binary, port);
  try {
    const events = jobs.reduce((sum, job) => sum + job.events, 0);
    const ms = await drive(am.client, jobs, clients, 200);
    return (events / ms) * 1000;
  } finally {
    await am.stop();
  }
}
