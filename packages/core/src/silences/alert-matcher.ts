import type { AlertMatch } from "../config/schema";
import { compileMatch, type SignalMatcher } from "../policy/match";
import type { Severity } from "../severity";
import type { HoldSubject } from "./hold";

// Apart from hold.ts, which the incident store reads: matching loads RE2, which only windows
// and inhibit rules need, not every function that reads incidents.

export type SubjectMatcher = (subject: HoldSubject) => boolean;

const compiled = new WeakMap<AlertMatch, SubjectMatcher>();

/**
 * Compiles an alert match (a rule's signal keys, plus `service` and `severity`), once per match
 * object: windows and inhibit rules are asked about every alert of a batch.
 */
export function alertMatcher(match: AlertMatch): SubjectMatcher {
  const known = compiled.get(match);
  if (known) return known;
  const { service, severity, ...signalKeys } = match;
  const signal: SignalMatcher = compileMatch(signalKeys);
  const services = service === undefined ? null : new Set([service].flat());
  const severities = severity === undefined ? null : new Set<Severity>([severity].flat());
  const matcher: SubjectMatcher = (subject) =>
    (services === null || (subject.service !== null && services.has(subject.service))) &&
    (severities === null || severities.has(subject.severity)) &&
    signal({
      source: subject.source,
      kind: "trigger",
      deliveryId: subject.fingerprint,
      fingerprint: subject.fingerprint,
      title: subject.title,
      at: subject.at,
      attributes: subject.attributes,
      link: subject.link,
      detail: null,
    });
  compiled.set(match, matcher);
  return matcher;
}
