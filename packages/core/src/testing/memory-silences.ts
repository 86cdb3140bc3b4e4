import type { Silence, SilenceStore } from "../silences/silence";

export class MemorySilenceStore implements SilenceStore {
  readonly silences = new Map<string, Silence>();

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
}
