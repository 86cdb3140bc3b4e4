import type { Match } from "../config/schema";
import type { Signal } from "../signal";
import { globMatcher } from "./glob";
import { compilePattern } from "./pattern";

/** The attributes that hold one text value (not `dimensions`). */
type TextAttribute = Exclude<keyof Signal["attributes"], "dimensions">;

/** A compiled `match` block: a predicate over signals. */
export type SignalMatcher = (signal: Signal) => boolean;

/**
 * Compiles a match block once (globs up front, a regular expression on its first use), so
 * classifying a storm costs one pass of cheap tests per rule, each linear in the value it reads.
 */
export function compileMatch(match: Match): SignalMatcher {
  const tests: SignalMatcher[] = [];
  const attribute = (key: TextAttribute, test: (value: string) => boolean) =>
    tests.push((signal) => {
      const value = signal.attributes[key];
      return value !== undefined && test(value);
    });

  if (match.source) {
    const source = match.source;
    tests.push((signal) => signal.source === source);
  }
  if (match.alarmName) {
    attribute("alarmName", globMatcher(match.alarmName));
  }
  if (match.namespace) {
    attribute("namespace", globMatcher(match.namespace));
  }
  if (match.metricName) {
    const metricName = match.metricName;
    attribute("metricName", (value) => value === metricName);
  }
  if (match.logGroup) {
    attribute("logGroup", globMatcher(match.logGroup));
  }
  if (match.level) {
    const levels = new Set<string>(Array.isArray(match.level) ? match.level : [match.level]);
    attribute("level", (value) => levels.has(value));
  }
  if (match.message) {
    // Compiled on the first signal that reaches it: the tests before it (source, names) turn
    // most signals away, and an alarm never compiles a log rule's pattern. Patterns were checked
    // when the policy or the silence was (config/match.ts).
    const source = match.message;
    let compiled: ((text: string) => boolean) | undefined;
    attribute("message", (value) => {
      compiled ??= compilePattern(source);
      return compiled(value);
    });
  }
  if (match.findingType) {
    attribute("findingType", globMatcher(match.findingType));
  }
  if (match.eventTypeCode) {
    attribute("eventTypeCode", globMatcher(match.eventTypeCode));
  }
  if (match.project) {
    const project = match.project;
    attribute("project", (value) => value === project);
  }
  return (signal) => tests.every((test) => test(signal));
}
