// Markdown as Jupyter shows it, rendered to HTML at build time: markdown-it (CommonMark, raw HTML
// allowed), math ($...$ and $$...$$) typeset by KaTeX, code highlighted by highlight.js (TypeScript
// unless a code block names another language). No script is needed to read the result.
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import katex from "katex";
import MarkdownIt from "markdown-it";
import { type Notebook, joinText } from "./notebook-file";

hljs.registerLanguage("typescript", typescript);

/** markdown-it's per-render scratch object: what this page's formulas added up to. */
export interface RenderEnv {
  formulas: number;
  problems: string[];
  [key: string | symbol]: unknown;
}

/** $...$ inline (pandoc's rule: no space inside the dollars, no digit right after, so "$5 and $6" stays text). */
function mathInline(state: MarkdownIt.StateInline, silent: boolean): boolean {
  const src: string = state.src;
  const start: number = state.pos;
  if (src[start] !== "$") return false;
  const marker = src[start + 1] === "$" ? "$$" : "$";
  let end = start + marker.length;
  while ((end = src.indexOf(marker, end)) !== -1 && src[end - 1] === "\\") end++;
  if (end === -1 || end === start + marker.length) return false;
  const tex = src.slice(start + marker.length, end);
  if (marker === "$" && (/^\s|\s$/.test(tex) || /\d/.test(src[end + 1] ?? ""))) return false;
  if (!silent) {
    const token = state.push(marker === "$$" ? "math_display" : "math_inline", "math", 0);
    token.content = tex;
  }
  state.pos = end + marker.length;
  return true;
}

/** $$ ... $$ as a block of its own lines. */
function mathBlock(state: MarkdownIt.StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  const lineText = (line: number) => state.src.slice(state.bMarks[line] + state.tShift[line], state.eMarks[line]);
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const first = lineText(startLine).trim();
  if (!first.startsWith("$$")) return false;
  const rest = first.slice(2);
  const lines: string[] = [];
  let last = startLine;
  if (rest.includes("$$")) {
    if (!rest.endsWith("$$")) return false; // "$$a$$ and more": inline math in a paragraph
    lines.push(rest.slice(0, -2));
  } else {
    lines.push(rest);
    for (last = startLine + 1; ; last++) {
      if (last >= endLine) return false;
      const text = lineText(last).trim();
      if (text.endsWith("$$")) {
        lines.push(text.slice(0, -2));
        break;
      }
      lines.push(text);
    }
  }
  if (silent) return true;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = lines.join("\n");
  token.map = [startLine, last + 1];
  state.line = last + 1;
  return true;
}

export function renderTex(tex: string, displayMode: boolean, env: RenderEnv): string {
  env.formulas++;
  try {
    return katex.renderToString(tex, { displayMode, throwOnError: true, strict: "ignore", output: "htmlAndMathml" });
  } catch (error) {
    env.problems.push(`formula ${JSON.stringify(tex)}: ${(error as Error).message}`);
    return `<code class="math-error">${escapeHtml(tex)}</code>`;
  }
}

function markdownRenderer(): MarkdownIt.MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false });
  md.inline.ruler.after("escape", "math_inline", mathInline);
  md.block.ruler.after("blockquote", "math_block", mathBlock, { alt: ["paragraph", "reference", "blockquote", "list"] });
  md.renderer.rules.math_inline = (tokens, i, _options, env) => renderTex(tokens[i].content, false, env as unknown as RenderEnv);
  md.renderer.rules.math_display = (tokens, i, _options, env) => renderTex(tokens[i].content, true, env as unknown as RenderEnv);
  md.renderer.rules.math_block = (tokens, i, _options, env) => `<div class="math-display">${renderTex(tokens[i].content, true, env as unknown as RenderEnv)}</div>\n`;
  // A link to another notebook of the course leads to its page.
  const renderLink = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
  md.renderer.rules.link_open = (tokens, i, options, env, self) => {
    const href = String(tokens[i].attrGet("href") ?? "");
    if (href && !/^[a-z]+:/i.test(href)) tokens[i].attrSet("href", href.replace(/^(?:\.\/)?([^/#?]+)\.ipynb(?=$|#)/, "$1.html"));
    return renderLink(tokens, i, options, env, self);
  };
  // Code blocks in markdown: TypeScript unless they say otherwise.
  md.options.highlight = (code, language) => highlightCode(code, language || "typescript");
  return md;
}

const md = markdownRenderer();

export function renderMarkdown(source: string, env: RenderEnv = { formulas: 0, problems: [] }): string {
  return md.render(source, env);
}

/** How many formulas a notebook's markdown holds (what its page must show as KaTeX). */
export function countFormulas(notebook: Notebook): number {
  const env: RenderEnv = { formulas: 0, problems: [] };
  for (const cell of notebook.cells) if (cell.cell_type === "markdown") md.render(joinText(cell.source), env);
  return env.formulas;
}

export function highlightCode(code: string, language: string): string {
  return hljs.getLanguage(language) ? hljs.highlight(code, { language }).value : escapeHtml(code);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
