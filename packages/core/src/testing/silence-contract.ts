import { beforeEach, describe, expect, it } from "vitest";
import { newSilenceId, parseMatcher, type Silence, type SilenceStore } from "../silences/silence";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");

export function aSilence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: newSilenceId(),
    match: parseMatcher("alarmName=api-*"),
    matcher: "alarmName=api-*",
    reason: "deploying the API",
    createdBy: "api:ops",
    createdAt: new Date(NOW).toISOString(),
    endsAt: new Date(NOW + 3_600_000).toISOString(),
    ...overrides,
  };
}

/** The behaviour every SilenceStore must have (memory fake and DynamoDB alike). */
export function describeSilenceStoreContract(
  name: string,
  makeStore: () => Promise<SilenceStore>,
): void {
  describe(`SilenceStore contract: ${name}`, () => {
    let store: SilenceStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("keeps, finds and removes silences", async () => {
      const silence = aSilence();
      await store.put(silence);
      expect(await store.get(silence.id)).toEqual(silence);
      expect(await store.delete(silence.id)).toBe(true);
      expect(await store.get(silence.id)).toBeNull();
      expect(await store.delete(silence.id)).toBe(false);
    });

    it("lists only the silences still in force, oldest first", async () => {
      const ended = aSilence({ endsAt: new Date(NOW - 1).toISOString() });
      const first = aSilence({ createdAt: new Date(NOW - 2000).toISOString() });
      const second = aSilence({ createdAt: new Date(NOW - 1000).toISOString() });
      for (const silence of [second, ended, first]) await store.put(silence);
      expect((await store.listActive(NOW)).map((silence) => silence.id)).toEqual([
        first.id,
        second.id,
      ]);
      expect(await store.listActive(NOW + 2 * 3_600_000)).toEqual([]);
    });
  });
}
