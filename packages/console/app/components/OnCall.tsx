import { until, utc } from "../format";
import type { OnCall } from "../wire";

/**
 * Who is on call in each schedule, one line each: the first thing a responder looking at the
 * list wants next. Nothing at all when the policy has no schedules.
 */
export function OnCallPanel({ items, now }: { items: OnCall[]; now: number }) {
  if (items.length === 0) return null;
  return (
    <section class="oncall" aria-labelledby="oncall-heading">
      <h2 id="oncall-heading">On call</h2>
      <ul>
        {items.map((line) => (
          <li key={line.schedule} data-schedule={line.schedule}>
            <span class="oncall-schedule">{line.schedule}</span>
            {line.person ? (
              <strong class="oncall-person">{line.person}</strong>
            ) : (
              <span class="oncall-person muted">nobody</span>
            )}
            {line.to && (
              <span class="muted">
                until{" "}
                <time dateTime={line.to} title={until(line.to, now)}>
                  {utc(line.to)}
                </time>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
