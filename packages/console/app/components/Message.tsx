import { ApiError } from "../api";

/** What went wrong, in words: the API's own message where it gave one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return `Could not reach the API (${error.message}).`;
    return `${error.message} (${error.status})`;
  }
  return error instanceof Error ? error.message : "Something went wrong.";
}

export type Outcome = { ok: boolean; text: string } | null;

/** The result of a button press, announced politely to screen readers. */
export function OutcomeLine({ outcome }: { outcome: Outcome }) {
  return (
    <p class={`outcome ${outcome ? (outcome.ok ? "ok" : "error") : ""}`} role="status">
      {outcome?.text ?? ""}
    </p>
  );
}
