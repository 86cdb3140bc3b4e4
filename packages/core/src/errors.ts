import type { z } from "zod";

/** Base of every error Firebreak raises on purpose. `code` is stable; `message` is for people. */
export abstract class FirebreakError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A caller's mistake. Its message is safe to show the caller (it never carries secrets or
 * internals), and `status` is the HTTP status that reports it.
 */
export abstract class ClientError extends FirebreakError {
  abstract readonly status: number;
}

export class InvalidInputError extends ClientError {
  readonly code = "invalid_request";
  readonly status = 400;
}

/** A payload that is not one of the formats Firebreak accepts, or is malformed. */
export class InvalidEventError extends ClientError {
  readonly code = "invalid_event";
  readonly status = 400;
}

export class UnauthorizedError extends ClientError {
  readonly code = "unauthorized";
  readonly status = 401;
}

export class ForbiddenError extends ClientError {
  readonly code = "forbidden";
  readonly status = 403;
}

export class NotFoundError extends ClientError {
  readonly code = "not_found";
  readonly status = 404;
}

export class ConflictError extends ClientError {
  readonly code = "conflict";
  readonly status = 409;
}

export class PayloadTooLargeError extends ClientError {
  readonly code = "payload_too_large";
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends ClientError {
  readonly code = "unsupported_media_type";
  readonly status = 415;
}

/** The config is invalid; the message lists every bad path. Raised once, at start. */
export class ConfigError extends FirebreakError {
  readonly code = "invalid_config";
}

/** Someone else changed the item first; reload and try again. */
export class VersionConflictError extends FirebreakError {
  readonly code = "version_conflict";
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`${key} was changed concurrently`, options);
  }
}

/** A key, and an issue, as long as an error message repeats them: payloads choose their keys. */
const MAX_KEY = 40;
const MAX_ISSUE = 240;

const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** Renders a path the way people write it: `rules[1].match.alarmName` (long keys cut). */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${cut(String(part), MAX_KEY)}` : cut(String(part), MAX_KEY);
  }
  return out || "(root)";
}

/**
 * One line per zod issue, each naming the path; unknown keys are named in the path itself.
 * Only the first `max` issues are listed, each cut short (messages may quote the input), so a
 * hostile payload cannot make a huge error.
 */
export function formatIssues(error: z.ZodError, max = 5): string {
  const lines = error.issues.slice(0, max).map((issue) => cut(formatIssue(issue, []), MAX_ISSUE));
  const more = error.issues.length - max;
  if (more > 0) lines.push(`(${more} more)`);
  return lines.join("; ");
}

function formatIssue(issue: z.core.$ZodIssue, parent: ReadonlyArray<PropertyKey>): string {
  const path = [...parent, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${formatPath([...path, key])}: unknown key`).join("; ");
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // "Invalid input" says nothing: report the alternative that got furthest, i.e. the first
    // issue that is not a plain type mismatch (a string that is not a level, say).
    const candidates = issue.errors.flat();
    const telling = candidates.find((candidate) => candidate.code !== "invalid_type");
    if (telling) return formatIssue(telling, path);
  }
  return `${formatPath(path)}: ${issue.message}`;
}
