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
