import type { Incident } from "../incidents/model";
import type { Silence } from "./record";

/**
 * Which of the silences in force at `now` holds an incident (the one ending last), as
 * `silenceFor` answers. Its matcher (./silence.ts, which compiles patterns with RE2) loads only
 * when there is a silence to match: listing incidents with none in force never loads it.
 */
export async function silenceLookup(
  active: ReadonlyArray<Silence>,
  now: number,
): Promise<(incident: Incident) => Silence | undefined> {
  if (active.length === 0) return () => undefined;
  const { silenceFor } = await import("./silence");
  return (incident) => silenceFor(incident, active, now);
}
