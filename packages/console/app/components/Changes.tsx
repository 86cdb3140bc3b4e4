import { utc } from "../format";
import { changeLine, httpUrl } from "../grouping";
import type { Change } from "../wire";

/** The changes to the incident's service and its dependencies in the hour before it started. */
export function Changes({ changes, firstSeenAt }: { changes: Change[]; firstSeenAt: string }) {
  if (changes.length === 0) {
    return <p class="muted">No changes recorded in the hour before it started.</p>;
  }
  const started = Date.parse(firstSeenAt);
  return (
    <ul class="changes">
      {changes.map((change) => {
        const url = httpUrl(change.url);
        return (
          <li key={change.id}>
            <span class="change-line">{changeLine(change, started)}</span>{" "}
            <span class="muted small">
              <time dateTime={change.at}>{utc(change.at)}</time>, from {change.origin}
            </span>
            {url && (
              <>
                {" "}
                <a href={url} target="_blank" rel="noopener noreferrer">
                  details
                </a>
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}
