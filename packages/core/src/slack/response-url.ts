/**
 * Slack's response URLs live on hooks.slack.com; nothing else is ever posted to. The text itself
 * must say so too, not only its parse: URL parsers forgive leading spaces, tabs inside and
 * `%2e` in host names, and whichever one posts the reply need not be this one.
 */
export function isSlackResponseUrl(url: string): boolean {
  if (!url.startsWith("https://hooks.slack.com/") || /[^\x21-\x7e]/.test(url)) return false;
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com" && parsed.port === ""
    );
  } catch {
    return false;
  }
}
