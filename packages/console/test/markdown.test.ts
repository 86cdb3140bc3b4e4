import { describe, expect, it } from "vitest";
import {
  type Block,
  type Inline,
  parseInline,
  parseMarkdown,
  plainText,
  safeHref,
} from "../app/markdown";

const kinds = (nodes: Inline[]) => nodes.map((node) => node.kind);

describe("the post-mortem's Markdown", () => {
  it("reads the report's blocks: headings, tables with alignment, nested and task lists", () => {
    const blocks = parseMarkdown(
      [
        "# Post-mortem: checkout (BG099SZ)",
        "",
        "_Ongoing: the report so far._",
        "",
        "| Source | Signals |",
        "| --- | ---: |",
        "| cloudwatch | 3 |",
        "",
        "- **a1** scale `ecs-service:us-east-1/prod/checkout`",
        "  - Before: desiredCount 2",
        "- [ ] Action, owner, due date",
      ].join("\n"),
    );
    expect(blocks.map((block) => block.kind)).toEqual(["heading", "paragraph", "table", "list"]);
    const table = blocks[2] as Extract<Block, { kind: "table" }>;
    expect(table.align).toEqual([null, "right"]);
    expect(table.rows.map((row) => row.map(plainText))).toEqual([["cloudwatch", "3"]]);
    const list = blocks[3] as Extract<Block, { kind: "list" }>;
    expect(kinds(list.items[0]?.children ?? [])).toEqual(["strong", "text", "code"]);
    expect(plainText(list.items[0]?.sublist?.items[0]?.children ?? [])).toBe(
      "Before: desiredCount 2",
    );
    expect(list.items[1]?.checked).toBe(false);
  });

  it("keeps HTML as text: entities and escapes decode to characters, never to markup", () => {
    const nodes = parseInline(
      "&lt;img src=x onerror=alert(1)&gt; \\[x\\] \\*not bold\\* <b>raw</b> &#60;",
    );
    expect(nodes).toEqual([
      { kind: "text", text: "<img src=x onerror=alert(1)> [x] *not bold* <b>raw</b> <" },
    ]);
  });

  it("links only to http(s); anything else stays text", () => {
    expect(parseInline("[console](https://example.com/a?b=1)")).toEqual([
      {
        kind: "link",
        href: "https://example.com/a?b=1",
        children: [{ kind: "text", text: "console" }],
      },
    ]);
    for (const url of [
      "javascript:alert(1)",
      "JAVASCRIPT:alert(1)",
      "data:text/html,<x>",
      "//evil.example",
      "vbscript:x",
    ]) {
      const nodes = parseInline(`[click](${url})`);
      expect(nodes.some((node) => node.kind === "link")).toBe(false);
      expect(plainText(nodes)).toBe(`click (${url})`);
    }
    expect(safeHref("https://ok.example/path")).toBe("https://ok.example/path");
    expect(safeHref(" javascript:alert(1)")).toBeNull();
  });

  it("reads emphasis and code, and leaves intraword underscores alone", () => {
    expect(kinds(parseInline("**bold** _em_ `a*b_c`"))).toEqual([
      "strong",
      "text",
      "em",
      "text",
      "code",
    ]);
    expect(parseInline("snake_case_name")).toEqual([{ kind: "text", text: "snake_case_name" }]);
    expect(parseInline("`x <b>`")).toEqual([{ kind: "code", text: "x <b>" }]);
  });

  it("decodes invalid character references to the replacement character", () => {
    expect(plainText(parseInline("&#0;&#x110000;&#7;"))).toBe("\ufffd\ufffd\ufffd");
  });
});
