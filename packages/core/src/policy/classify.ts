import type { MonitoringConfig, Rule } from "../config/schema";
import type { RuleSeverity } from "../severity";
import type { Signal } from "../signal";
import { levelRank } from "../signal";
import { compileMatch, type SignalMatcher } from "./match";

export interface Classification {
  /** `ignore`: drop the signal before any incident exists. */
  severity: RuleSeverity;
  /** The rule that matched, or null when the default (the signal's suggested severity) applied. */
  rule: Rule | null;
}

/** The policy compiled for use: rules in order, first match wins, else the default. */
export class Policy {
  private readonly rules: ReadonlyArray<{ rule: Rule; matches: SignalMatcher }>;
  /** Rules that pick log lines by content (a `message` or `level`), not just by log group. */
  private readonly logLineRules: ReadonlyArray<SignalMatcher>;
  private readonly services: ReadonlyArray<{ name: string; matches: SignalMatcher[] }>;

  constructor(readonly config: MonitoringConfig) {
    this.rules = config.rules.map((rule) => ({ rule, matches: compileMatch(rule.match) }));
    this.logLineRules = this.rules
      .filter(({ rule }) => rule.match.message !== undefined || rule.match.level !== undefined)
      .map(({ matches }) => matches);
    this.services = Object.entries(config.services).map(([name, service]) => ({
      name,
      matches: service.match.map(compileMatch),
    }));
  }

  /** The first service with a `match` entry that matches the signal, or null. */
  serviceOf(signal: Signal): string | null {
    for (const { name, matches } of this.services) {
      if (matches.some((match) => match(signal))) return name;
    }
    return null;
  }

  classify(signal: Signal): Classification {
    for (const { rule, matches } of this.rules) {
      if (matches(signal)) return { severity: rule.severity, rule };
    }
    // A source that grades its own alerts (a GuardDuty score) is a better default than the policy's.
    return { severity: signal.suggestedSeverity ?? this.config.default.severity, rule: null };
  }

  /**
   * Log lines are mostly noise: a line becomes a signal when it is at least `logs.minLevel`,
   * or when a rule picks it by content (a `message` pattern or a `level`). A rule naming only
   * a log group classifies that group's errors; it does not turn its INFO lines into incidents.
   */
  keepsLogLine(signal: Signal): boolean {
    const level = signal.attributes.level;
    if (level && levelRank(level) >= levelRank(this.config.logs.minLevel)) return true;
    return this.logLineRules.some((matches) => matches(signal));
  }

  rule(name: string): Rule | undefined {
    return this.rules.find(({ rule }) => rule.name === name)?.rule;
  }
}
