import type { Logger } from "@firebreak/core";

/**
 * Runs a job every `intervalMs`, and at once when kicked, never two at a time; kicks during a
 * run coalesce into one more run. The local stand-in for a schedule and a stream trigger.
 */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly job: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
  }

  /** Asks for a run now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.job();
        } catch (error) {
          this.logger.error(`${this.name} failed`, { error: String(error) });
        }
      } while (this.again && !this.stopped);
      this.running = null;
    })();
  }

  /** Waits for the current run, if any (tests use it to let work settle). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.settled();
  }
}
