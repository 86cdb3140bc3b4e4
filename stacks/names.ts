/**
 * The SST component name of a topology key: `sentry-webhook` is `SentryWebhook`, `signalsDeadLetter`
 * is `SignalsDeadLetter`. Pulumi keys every resource by it, so these are the names deployed stages
 * already have: changing one replaces the resource (a new queue, a new function ARN).
 */
export function componentName(key: string): string {
  return key.replace(/(^|-)(\w)/g, (_match, _dash, letter: string) => letter.toUpperCase());
}
