import type { ScheduleOverride } from "../oncall/model";
import type { OverrideStore } from "../ports";

export class MemoryOverrideStore implements OverrideStore {
  readonly overrides = new Map<string, ScheduleOverride>();

  async put(override: ScheduleOverride): Promise<void> {
    this.overrides.set(`${override.schedule}/${override.id}`, structuredClone(override));
  }

  async delete(schedule: string, id: string): Promise<boolean> {
    return this.overrides.delete(`${schedule}/${id}`);
  }

  async list(schedule: string, from: number, to: number): Promise<ScheduleOverride[]> {
    return [...this.overrides.values()]
      .filter(
        (override) =>
          override.schedule === schedule &&
          Date.parse(override.from) < to &&
          Date.parse(override.to) > from,
      )
      .sort((a, b) => a.from.localeCompare(b.from) || a.createdAt.localeCompare(b.createdAt))
      .map((override) => structuredClone(override));
  }
}
