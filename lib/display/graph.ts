// Drawing a micrograd computation graph, as micrograd's draw_dot does: Graphviz DOT text, rendered to
// SVG by Graphviz compiled to WebAssembly (@viz-js/viz), so it works offline.
import { instance, type Viz } from "@viz-js/viz";
import { escapeHtml, showHtml } from "./display";
import { base64Utf8 } from "./base64";
import { topologicalOrder, type Value } from "../micrograd";

/** Backslash-escapes what Graphviz's record labels treat as syntax: { } | < > " and \ itself. */
const escapeRecord = (text: string) => text.replace(/[{}|<>"\\]/g, (c) => `\\${c}`);

/**
 * The graph behind `root` in DOT, left to right: each Value is a box "label | data | grad" (4 decimals);
 * each Value made by an operation gets a small extra node for that operation ("+", "*", "tanh"...)
 * feeding into it.
 */
export function graphDot(root: Value): string {
  const nodes = topologicalOrder(root);
  const id = new Map(nodes.map((node, i) => [node, `v${i}`]));
  const lines = ["digraph {", "  rankdir=LR;"];
  for (const node of nodes) {
    const name = id.get(node)!;
    const label = `{ ${escapeRecord(node.label)} | data ${node.data.toFixed(4)} | grad ${node.grad.toFixed(4)} }`;
    lines.push(`  ${name} [shape=record, label="${label}"];`);
    if (node.op) {
      lines.push(`  ${name}_op [label="${node.op.replace(/["\\]/g, (c) => `\\${c}`)}"];`);
      lines.push(`  ${name}_op -> ${name};`);
      for (const child of node.children) lines.push(`  ${id.get(child)} -> ${name}_op;`);
    }
  }
  lines.push("}");
  return lines.join("\n");
}

// Graphviz starts once (compiling its WebAssembly) and is reused for every drawing.
let graphviz: Promise<Viz> | undefined;

/** The graph behind `root` as SVG text, ready for tslab's `display.svg` (or `display.html`). */
export async function drawGraph(root: Value): Promise<string> {
  graphviz ??= instance();
  const svg = (await graphviz).renderString(graphDot(root), { format: "svg" });
  // Keep only the <svg> element: the XML declaration and DOCTYPE Graphviz puts in front break
  // nbconvert's HTML export (its SVG cleaner rejects a string with an encoding declaration).
  return svg.slice(svg.indexOf("<svg"));
}

/**
 * The graph as an HTML <img> holding the SVG (a data: URL), scaled down to fit the page width.
 * An <img> displays the same everywhere: an image/svg+xml output is emptied by nbconvert 6.5's HTML
 * export (its cleaner strips every element inside <svg>), while an <img> survives it and untrusted
 * notebooks alike.
 */
export async function graphHtml(root: Value): Promise<string> {
  const src = `data:image/svg+xml;base64,${base64Utf8(await drawGraph(root))}`;
  const alt = `computation graph of ${root.label || "a Value"}`;
  return `<img src="${src}" alt="${escapeHtml(alt)}" style="max-width:100%">`;
}

/** Draws the graph behind `root` under the current cell, like micrograd's `draw_dot(root)`. */
export async function showGraph(root: Value): Promise<void> {
  showHtml(await graphHtml(root), `(graph of ${root.label || "a Value"}: ${topologicalOrder(root).length} Values, drawn in a notebook)`);
}
