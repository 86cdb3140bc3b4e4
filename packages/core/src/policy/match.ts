import type { Match } from "../config/schema";
import type { Signal } from "../signal";
import { globToRegExp } from "./glob";

/** A compiled `match` block: a predicate over signals. */
export type SignalMatcher = (signal: Signal) => boolean;

/**
 * Compiles a match block once (globs and regular expressions built up front), so classifying a
 * storm costs one pass of cheap tests per rule.
 */
export function compileMatch(match: Match): SignalMatcher {
  const tests: SignalMatcher[] = [];
  const attribute = (key: keyof Signal["attributes"], test: (value: string) => boolean) =>
    tests.push((signal) => {
      const value = signal.attributes[key];
      return value !== undefined && test(value);
    });

  if (match.source) {
    const source = match.source;
    tests.push((signal) => signal.source === source);
  }
  if (match.alarmName) {
    const glob = globToRegExp(match.alarmName);
    attribute("alarmName", (value) => glob.test(value));
  }
  if (match.namespace) {
    const glob = globToRegExp(match.namespace);
    attribute("namespace", (value) => glob.test(value));
  }
  if (match.metricName) {
    const metricName = match.metricName;
    attribute("metricName", (value) => value === metricName);
  }
  if (match.logGroup) {
    const glob = globToRegExp(match.logGroup);
    attribute("logGroup", (value) => glob.test(value));
  }
  if (match.level) {
    const levels = new Set<string>(Array.isArray(match.level) ? match.level : [match.level]);
    attribute("level", (value) => levels.has(value));
  }
  if (match.message) {
    const pattern = new RegExp(match.message);
    attribute("message", (value) => pattern.test(value));
  }
  if (match.project) {
    const project = match.project;
    attribute("project", (value) => value === project);
  }
  return (signal) => tests.every((test) => test(signal));
}
