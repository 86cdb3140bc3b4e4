import type { MaintenanceWindow } from "../maintenance/record";
import { windowLasts } from "../maintenance/window";
import type { Silence, SilenceStore } from "../silences/record";

export class MemorySilenceStore implements SilenceStore {
  readonly silences = new Map<string, Silence>();
  readonly windows = new Map<string, MaintenanceWindow>();

  async put(silence: Silence): Promise<void> {
    this.silences.set(silence.id, structuredClone(silence));
  }

  async get(id: string): Promise<Silence | null> {
    return structuredClone(this.silences.get(id) ?? null);
  }

  async delete(id: string): Promise<boolean> {
    return this.silences.delete(id);
  }

  async listActive(now: number): Promise<Silence[]> {
    return [...this.silences.values()]
      .filter((silence) => Date.parse(silence.endsAt) > now)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async putWindow(window: MaintenanceWindow): Promise<void> {
    this.windows.set(window.id, structuredClone(window));
  }

  async deleteWindow(id: string): Promise<boolean> {
    return this.windows.delete(id);
  }

  async listWindows(now: number): Promise<MaintenanceWindow[]> {
    return [...this.windows.values()]
      .filter((window) => windowLasts(window, now))
      .map((window) => structuredClone(window))
      .sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? ""));
  }
}
