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
