/**
 * Compiles a glob (`*` any run of characters, `?` exactly one) into an anchored RegExp.
 * Everything else matches literally, so alarm names full of dots and brackets are safe.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/**
 * The same match as {@link globToRegExp}, without backtracking: a glob such as `*a*a*a*a*b` (a
 * silence anyone may type in Slack) makes the RegExp take polynomial time of a high degree, this
 * at most glob length × value length steps. `?` is one UTF-16 unit, as `.` is in the RegExp.
 *
 * @example
 * globMatcher("api-*-latency")("api-checkout-latency"); // true
 */
export function globMatcher(glob: string): (value: string) => boolean {
  return (value) => {
    let at = 0;
    let next = 0;
    // Where the last `*` was, and where in the value it started matching.
    let star = -1;
    let from = 0;
    while (next < value.length) {
      if (at < glob.length && glob[at] === "*") {
        star = at++;
        from = next;
      } else if (at < glob.length && (glob[at] === "?" || glob[at] === value[next])) {
        at++;
        next++;
      } else if (star >= 0) {
        // Let the last `*` take one more character and try again from there.
        at = star + 1;
        next = ++from;
      } else return false;
    }
    while (glob[at] === "*") at++;
    return at === glob.length;
  };
}
