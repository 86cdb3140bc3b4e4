import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useApi } from "../App";
import { type Block, type Inline, type ListBlock, parseMarkdown } from "../markdown";
import { describeError } from "./Message";

/** The post-mortem, fetched when asked for, rendered from its Markdown as elements and text. */
export function Postmortem({ incidentId }: { incidentId: string }) {
  const api = useApi();
  const [state, setState] = useState<
    | { kind: "idle" }
    | { kind: "loading" }
    | { kind: "ready"; markdown: string }
    | { kind: "error"; text: string }
  >({ kind: "idle" });
  const [copied, setCopied] = useState<string | null>(null);

  async function load() {
    setState({ kind: "loading" });
    try {
      setState({ kind: "ready", markdown: await api.postmortem(incidentId) });
    } catch (error) {
      setState({ kind: "error", text: describeError(error) });
    }
  }

  async function copy(markdown: string) {
    try {
      await navigator.clipboard.writeText(markdown);
      setCopied("Copied the Markdown.");
    } catch {
      setCopied("Could not copy: the browser refused the clipboard.");
    }
  }

  return (
    <div class="postmortem-wrap">
      <div class="respond-buttons">
        <button type="button" onClick={() => void load()} disabled={state.kind === "loading"}>
          {state.kind === "ready" ? "Reload post-mortem" : "Open post-mortem"}
        </button>
        {state.kind === "ready" && (
          <button type="button" class="quiet" onClick={() => void copy(state.markdown)}>
            Copy Markdown
          </button>
        )}
        <span role="status" class="muted small">
          {state.kind === "loading" ? "Loading…" : (copied ?? "")}
        </span>
      </div>
      {state.kind === "error" && (
        <p class="banner error" role="alert">
          Could not load the post-mortem: {state.text}
        </p>
      )}
      {state.kind === "ready" && (
        <div class="postmortem markdown" data-testid="postmortem">
          {parseMarkdown(state.markdown).map((block, index) => renderBlock(block, index))}
        </div>
      )}
    </div>
  );
}

function renderBlock(block: Block, key: number): ComponentChildren {
  switch (block.kind) {
    case "heading": {
      // The page has its h1 and h2s: the report's headings sit below them.
      const level = Math.min(6, block.level + 2);
      const Tag = `h${level}` as "h3";
      return <Tag key={key}>{inline(block.children)}</Tag>;
    }
    case "paragraph":
      return <p key={key}>{inline(block.children)}</p>;
    case "code":
      return (
        <pre key={key}>
          <code>{block.text}</code>
        </pre>
      );
    case "list":
      return renderList(block, key);
    case "table":
      return (
        <div class="table-scroll" key={key}>
          <table>
            <thead>
              <tr>
                {block.head.map((cell, column) => (
                  <th key={column} scope="col" class={alignClass(block.align[column])}>
                    {inline(cell)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {block.rows.map((row, rowIndex) => (
                <tr key={rowIndex}>
                  {row.map((cell, column) => (
                    <td key={column} class={alignClass(block.align[column])}>
                      {inline(cell)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

function renderList(list: ListBlock, key: number): ComponentChildren {
  const items = list.items.map((item, index) => (
    <li key={index} class={item.checked === null ? undefined : "task"}>
      {item.checked !== null && (
        <span class="checkbox" role="img" aria-label={item.checked ? "done" : "to do"}>
          {item.checked ? "☑" : "☐"}
        </span>
      )}
      {inline(item.children)}
      {item.sublist && renderList(item.sublist, 0)}
    </li>
  ));
  return list.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
}

const alignClass = (align: string | null | undefined) => (align ? `align-${align}` : undefined);

function inline(nodes: Inline[]): ComponentChildren {
  return nodes.map((node, index) => {
    switch (node.kind) {
      case "text":
        return node.text;
      case "code":
        return <code key={index}>{node.text}</code>;
      case "strong":
        return <strong key={index}>{inline(node.children)}</strong>;
      case "em":
        return <em key={index}>{inline(node.children)}</em>;
      case "link":
        return (
          <a key={index} href={node.href} target="_blank" rel="noopener noreferrer">
            {inline(node.children)}
          </a>
        );
      default:
        return null;
    }
  });
}
