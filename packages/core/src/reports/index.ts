export {
  type CountRange,
  hasCounts,
  hourBounds,
  hourExpiresAt,
  hourOf,
  NO_SIGNAL_COUNTS,
  type SignalCounters,
  type SignalCounts,
  SignalCountsSchema,
  sumCounts,
} from "./counters";
export {
  buildPostmortem,
  type Postmortem,
  type PostmortemLine,
  PostmortemLineSchema,
  PostmortemSchema,
  RECOVERY_STATES,
  renderPostmortemMarkdown,
} from "./postmortem";
export { NOISIEST_MAX, type Summary, SummarySchema, summarize, type Timing } from "./summary";
