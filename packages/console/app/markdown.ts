/**
 * A reader for the Markdown the post-mortem report is written in, and nothing more: headings,
 * paragraphs, lists (nested, with task boxes), tables, code, emphasis, and links to http(s) only.
 * It yields a tree that is rendered as elements and text nodes; raw HTML is never interpreted
 * (it stays text), so a hostile alarm name cannot become markup even if the report failed to
 * escape it.
 *
 * No DOM here: the tests import this file under Node.
 */

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "strong"; children: Inline[] }
  | { kind: "em"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] };

export interface ListItem {
  /** `- [ ]` is false, `- [x]` true, a plain item null. */
  checked: boolean | null;
  children: Inline[];
  sublist: ListBlock | null;
}
export interface ListBlock {
  kind: "list";
  ordered: boolean;
  items: ListItem[];
}
export type Align = "left" | "right" | "center" | null;
export type Block =
  | { kind: "heading"; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { kind: "paragraph"; children: Inline[] }
  | ListBlock
  | { kind: "table"; align: Align[]; head: Inline[][]; rows: Inline[][][] }
  | { kind: "code"; text: string };

const HEADING = /^(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const FENCE = /^ {0,3}(```|~~~)/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/** Markdown text to blocks. */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] as string;
    if (line.trim() === "") {
      index++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = (heading[1] as string).length as 1 | 2 | 3 | 4 | 5 | 6;
      blocks.push({ kind: "heading", level, children: parseInline(heading[2] as string) });
      index++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      index++;
      while (
        index < lines.length &&
        !(lines[index] as string).trim().startsWith(fence[1] as string)
      )
        body.push(lines[index++] as string);
      index++;
      blocks.push({ kind: "code", text: body.join("\n") });
      continue;
    }
    if (line.trimStart().startsWith("|") && TABLE_SEPARATOR.test(lines[index + 1] ?? "")) {
      const head = cells(line);
      const align = cells(lines[index + 1] as string).map(alignOf);
      index += 2;
      const rows: Inline[][][] = [];
      while (index < lines.length && (lines[index] as string).trimStart().startsWith("|")) {
        rows.push(cells(lines[index] as string).map(parseInline));
        index++;
      }
      blocks.push({ kind: "table", align, head: head.map(parseInline), rows });
      continue;
    }
    if (LIST_ITEM.test(line)) {
      const [list, next] = parseList(lines, index, indentOf(line));
      blocks.push(list);
      index = next;
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const current = lines[index] as string;
      if (current.trim() === "" || HEADING.test(current) || LIST_ITEM.test(current)) break;
      if (FENCE.test(current) || current.trimStart().startsWith("|")) break;
      paragraph.push(current.trim());
      index++;
    }
    blocks.push({ kind: "paragraph", children: parseInline(paragraph.join(" ")) });
  }
  return blocks;
}

const indentOf = (line: string) => (/^ */.exec(line)?.[0].length ?? 0) as number;

/** A list at `indent`, with deeper items nested under the item before them. */
function parseList(lines: string[], start: number, indent: number): [ListBlock, number] {
  const first = LIST_ITEM.exec(lines[start] as string);
  const list: ListBlock = { kind: "list", ordered: /\d/.test(first?.[2] ?? ""), items: [] };
  let index = start;
  while (index < lines.length) {
    const line = lines[index] as string;
    if (line.trim() === "") {
      // A blank line ends the list unless an item of it follows.
      const next = lines[index + 1] ?? "";
      if (LIST_ITEM.test(next) && indentOf(next) >= indent) {
        index++;
        continue;
      }
      break;
    }
    const item = LIST_ITEM.exec(line);
    const lineIndent = indentOf(line);
    if (item && lineIndent === indent) {
      let content = item[3] as string;
      let checked: boolean | null = null;
      const box = /^\[([ xX])\][ \t]+/.exec(content);
      if (box) {
        checked = box[1] !== " ";
        content = content.slice(box[0].length);
      }
      list.items.push({ checked, children: parseInline(content), sublist: null });
      index++;
      continue;
    }
    const last = list.items[list.items.length - 1];
    if (item && lineIndent > indent && last) {
      const [sublist, next] = parseList(lines, index, lineIndent);
      last.sublist = sublist;
      index = next;
      continue;
    }
    if (!item && lineIndent > indent && last) {
      // A continuation line of the item before.
      last.children.push({ kind: "text", text: " " }, ...parseInline(line.trim()));
      index++;
      continue;
    }
    break;
  }
  return [list, index];
}

function cells(row: string): string[] {
  let line = row.trim();
  if (line.startsWith("|")) line = line.slice(1);
  if (line.endsWith("|") && !line.endsWith("\\|")) line = line.slice(0, -1);
  const result: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === "\\" && line[i + 1] === "|") {
      current += "\\|";
      i++;
    } else if (char === "|") {
      result.push(current.trim());
      current = "";
    } else current += char;
  }
  result.push(current.trim());
  return result;
}

function alignOf(cell: string): Align {
  const left = cell.startsWith(":");
  const right = cell.endsWith(":");
  if (left && right) return "center";
  if (right) return "right";
  if (left) return "left";
  return null;
}

const PUNCTUATION = /[!-/:-@[-`{-~]/;
const ENTITY = /^&(?:(amp|lt|gt|quot|apos|nbsp)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/;
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/** Only http(s) destinations become links; anything else (javascript:, data:...) stays text. */
export function safeHref(url: string): string | null {
  return /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
}

/** Inline Markdown to a tree. */
export function parseInline(source: string): Inline[] {
  const out: Inline[] = [];
  let buffer = "";
  const flush = () => {
    if (buffer) out.push({ kind: "text", text: buffer });
    buffer = "";
  };
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    const next = source[i + 1];
    if (char === "\\" && next !== undefined && PUNCTUATION.test(next)) {
      buffer += next;
      i += 2;
      continue;
    }
    if (char === "&") {
      const entity = ENTITY.exec(source.slice(i, i + 12));
      if (entity) {
        buffer += decodeEntity(entity);
        i += entity[0].length;
        continue;
      }
    }
    if (char === "`") {
      const run = /^`+/.exec(source.slice(i))?.[0] as string;
      const close = source.indexOf(run, i + run.length);
      if (close !== -1) {
        flush();
        const body = source.slice(i + run.length, close);
        out.push({
          kind: "code",
          text: body.length > 2 && /^ .* $/.test(body) ? body.slice(1, -1) : body,
        });
        i = close + run.length;
        continue;
      }
    }
    if (char === "*" && next === "*") {
      const close = findCloser(source, i + 2, "**");
      if (close > i + 2) {
        flush();
        out.push({ kind: "strong", children: parseInline(source.slice(i + 2, close)) });
        i = close + 2;
        continue;
      }
    }
    if ((char === "_" || char === "*") && next !== undefined && next !== " " && next !== char) {
      const before = source[i - 1] ?? " ";
      if (char === "*" || !/[\p{L}\p{N}]/u.test(before)) {
        const close = findCloser(source, i + 1, char);
        const after = source[close + 1] ?? " ";
        if (close > i + 1 && (char === "*" || !/[\p{L}\p{N}]/u.test(after))) {
          flush();
          out.push({ kind: "em", children: parseInline(source.slice(i + 1, close)) });
          i = close + 1;
          continue;
        }
      }
    }
    if (char === "[") {
      const end = findCloser(source, i + 1, "]");
      if (end !== -1 && source[end + 1] === "(") {
        const close = source.indexOf(")", end + 2);
        if (close !== -1) {
          flush();
          const label = parseInline(source.slice(i + 1, end));
          const url = source.slice(end + 2, close).trim();
          const href = safeHref(url);
          if (href) out.push({ kind: "link", href, children: label });
          else out.push(...label, { kind: "text", text: ` (${url})` });
          i = close + 1;
          continue;
        }
      }
    }
    buffer += char;
    i++;
  }
  flush();
  return out;
}

/** The next unescaped `token` from `from`, or -1. */
function findCloser(source: string, from: number, token: string): number {
  for (let i = from; i < source.length; i++) {
    if (source[i] === "\\") {
      i++;
      continue;
    }
    if (source[i] === "`") {
      const run = /^`+/.exec(source.slice(i))?.[0] as string;
      const close = source.indexOf(run, i + run.length);
      if (close !== -1) {
        i = close + run.length - 1;
        continue;
      }
    }
    if (source.startsWith(token, i)) return i;
  }
  return -1;
}

function decodeEntity(match: RegExpExecArray): string {
  if (match[1]) return NAMED[match[1]] as string;
  const code = match[2] ? Number(match[2]) : Number.parseInt(match[3] as string, 16);
  // Invalid or control code points render as the replacement character, never as themselves.
  if (code === 0 || code > 0x10ffff || (code < 0x20 && code !== 9 && code !== 10)) return "\ufffd";
  return String.fromCodePoint(code);
}

/** The plain text of inline nodes (for labels and tests). */
export function plainText(nodes: Inline[]): string {
  return nodes
    .map((node) =>
      node.kind === "text" || node.kind === "code" ? node.text : plainText(node.children),
    )
    .join("");
}
