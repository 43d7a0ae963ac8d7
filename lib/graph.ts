// Drawing a micrograd computation graph, as micrograd's draw_dot does: Graphviz DOT text, rendered to
// SVG by Graphviz compiled to WebAssembly (@viz-js/viz), so it works offline.
import { instance, type Viz } from "@viz-js/viz";
import { topologicalOrder, type Value } from "./micrograd";

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
  return (await graphviz).renderString(graphDot(root), { format: "svg" });
}
