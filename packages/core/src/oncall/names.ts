// The names and bounds of on-call things, apart from the schedules' schema and rotations (which
// need luxon): Slack and the API check what people type against them before anything is read.

/** A person's or a schedule's name in the config, in URLs and in Slack. */
export const OnCallNamePattern = /^[a-z0-9][a-z0-9._-]{0,39}$/i;

/** An override's id: `O` and seven Crockford base32 characters. */
export const OverrideIdPattern = /^O[0-9A-HJKMNP-TV-Z]{7}$/;

/** The longest override, and the longest range one calendar read covers. */
export const MAX_ONCALL_RANGE_MS = 90 * 86_400_000;
