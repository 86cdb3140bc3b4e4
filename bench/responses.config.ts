import { defineConfig } from "@firebreak/core";
import shipped from "../monitoring.config";

/**
 * The repository's policy as a team runs it once it leaves dry run: the responses scenario times
 * the alarm to the scale-out call, which the shipped policy (dry run until you say otherwise)
 * only records.
 */
export default defineConfig({ ...shipped, safety: { ...shipped.safety, dryRun: false } });
