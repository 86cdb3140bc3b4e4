/**
 * Regenerates `events/logs/<name>.json` (the subscription event CloudWatch Logs would deliver)
 * from each hand-written `events/logs/<name>.decoded.json`.
 *
 *   npx tsx events/scripts/encode-logs.ts          # rewrite the encoded fixtures
 *   npx tsx events/scripts/encode-logs.ts --check  # exit 1 if any encoded fixture has drifted
 */
import { existsSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { eventPath, listEvents, loadEvent } from "../fixtures";
import { encodeLogsBatch, LogsBatchSchema, LogsSubscriptionEventSchema } from "../schemas/logs";

const DECODED_SUFFIX = ".decoded.json";
const check = process.argv.includes("--check");
let drifted = 0;

for (const source of listEvents("logs").filter((name) => name.endsWith(DECODED_SUFFIX))) {
  const target = `${source.slice(0, -DECODED_SUFFIX.length)}.json`;
  const batch = LogsBatchSchema.parse(loadEvent(source));

  if (check) {
    const current = existsSync(eventPath(target))
      ? LogsSubscriptionEventSchema.safeParse(loadEvent(target))
      : undefined;
    if (!current?.success || !isDeepStrictEqual(current.data.awslogs.data, batch)) {
      console.error(`${target} does not decode to ${source}`);
      drifted += 1;
    }
    continue;
  }

  writeFileSync(eventPath(target), `${JSON.stringify(encodeLogsBatch(batch), null, 2)}\n`);
  console.log(`${source} -> ${target}`);
}

if (drifted > 0) process.exit(1);
