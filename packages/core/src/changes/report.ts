import * as z from "zod";
import type { IncidentRecord, TimelineEntry } from "../incidents/model";
import type { Change } from "./model";
import { changeLine } from "./text";
import { watchRuleName } from "./watch";

/** The post-mortem's account of changes: what changed before, and what deploy watching undid. */
export const PostmortemChangesSchema = z.object({
  before: z
    .array(z.string())
    .describe(
      "Changes to the service and its dependencies in the hour before it started: `changed 4 minutes before: checkout 42 → 43 by ci (commit abc123)`",
    ),
  rolledBack: z
    .array(z.string())
    .describe(
      "Deploy-watch rollbacks that ran: `rolled back 43 (deployed 6 minutes earlier): checkout-5xx fired in its bake window`",
    ),
});
export type PostmortemChanges = z.infer<typeof PostmortemChangesSchema>;

/**
 * The changes section of a post-mortem. A deploy-watch rollback is told once it ran (succeeded,
 * or simulated), in the words its plan recorded.
 */
export function postmortemChanges(
  record: IncidentRecord,
  timeline: ReadonlyArray<TimelineEntry>,
  changes: ReadonlyArray<Change>,
): PostmortemChanges {
  const start = Date.parse(record.incident.firstSeenAt);
  const service = record.incident.service ?? null;
  const watch = service === null ? null : watchRuleName(service);
  const rolledBack = record.actions.flatMap((action) => {
    if (action.rule !== watch || (action.status !== "succeeded" && action.status !== "simulated"))
      return [];
    const planned = timeline.find(
      (entry) => entry.type === "action" && entry.id === action.id && entry.status === "planned",
    );
    const reason = planned?.type === "action" ? planned.reason : null;
    return reason?.startsWith("rolled back ") ? [reason.split("; ")[0] as string] : [];
  });
  return { before: changes.map((change) => changeLine(change, start)), rolledBack };
}

/**
 * The section in Markdown, or nothing when nothing changed. `safe` makes a line safe Markdown
 * (authors and commits come from whoever called `POST /changes`).
 */
export function postmortemChangesMarkdown(
  section: PostmortemChanges,
  safe: (text: string) => string,
): string[] {
  if (section.before.length === 0 && section.rolledBack.length === 0) return [];
  return [
    "",
    "## Changes",
    "",
    ...section.rolledBack.map((line) => `- **${safe(line)}**`),
    ...section.before.map((line) => `- ${safe(line)}`),
    ...(section.before.length === 0 ? ["- no change in the hour before it started"] : []),
  ];
}
