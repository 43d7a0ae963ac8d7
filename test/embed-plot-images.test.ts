// Putting plot pictures into executed notebooks (scripts/embed-plot-images.ts): the rewriting only,
// no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { figureHtml, linePlot } from "../lib/display/plot";
import { embedImagesInHtml, embedImagesInNotebook, plotIds } from "../scripts/embed-plot-images";
import type { Notebook } from "../scripts/notebook-file";

const png = "data:image/png;base64,iVBORw0KGgo=";

/** The id lib/display/plot.ts gave a figure's <div>. */
function idOf(html: string): string {
  const match = /<div class="zth-plot" id="([^"]+)"/.exec(html);
  assert.ok(match, "no plot <div> in the figure's HTML");
  return match[1];
}

const scriptOf = (html: string) => html.slice(html.indexOf("<script"));

test("a plot's note is replaced by its picture, titled by the plot, and its script is kept", () => {
  const html = figureHtml(linePlot([3, 2, 1], { title: 'Loss "per" <step>', width: 500, height: 300 }));
  const id = idOf(html);
  const result = embedImagesInHtml(html, new Map([[id, png]]));
  assert.deepEqual(result.embedded, [id]);
  assert.ok(
    result.html.startsWith(
      `<div class="zth-plot" id="${id}" style="width:100%;max-width:500px;height:300px;">`
        + `<img src="${png}" alt="Loss &quot;per&quot; &lt;step&gt;" style="max-width:100%"></div>\n<script`,
    ),
    result.html.slice(0, 300),
  );
  assert.ok(!result.html.includes("it is drawn by plotly.js"), "the note is gone");
  assert.equal(scriptOf(result.html), scriptOf(html));
});

test("a plot without a title gets a generic alt text", () => {
  const html = figureHtml(linePlot([1, 2]));
  const result = embedImagesInHtml(html, new Map([[idOf(html), png]]));
  assert.match(result.html, /<img src="data:image\/png;base64,[^"]+" alt="Plot" style="max-width:100%"><\/div>/);
});

test("plots without a picture and other HTML stay as they are", () => {
  const plot = figureHtml(linePlot([1, 2], { title: "kept" }));
  const table = "<table><tr><td>a</td></tr></table>";
  assert.deepEqual(embedImagesInHtml(plot, new Map([["zth-plot-other", png]])), { html: plot, embedded: [] });
  assert.deepEqual(embedImagesInHtml(table, new Map([[idOf(plot), png]])), { html: table, embedded: [] });
});

test("embedding again replaces the earlier picture and keeps its alt text", () => {
  const html = figureHtml(linePlot([1, 2], { title: "twice" }));
  const id = idOf(html);
  const once = embedImagesInHtml(html, new Map([[id, png]])).html;
  const newer = "data:image/png;base64,AAAA";
  const twice = embedImagesInHtml(once, new Map([[id, newer]]));
  assert.deepEqual(twice.embedded, [id]);
  assert.equal(twice.html, once.replace(png, newer));
  assert.equal((twice.html.match(/<img /g) ?? []).length, 1);
});

test("a notebook's plot outputs get their pictures, in Jupyter's list-of-lines form; other outputs are untouched", () => {
  const first = figureHtml(linePlot([1, 2], { title: "first" }));
  const second = figureHtml(linePlot([2, 1], { title: "second" }));
  const lines = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const table = { output_type: "display_data", data: { "text/html": ["<table>\n", "</table>"] }, metadata: {} };
  const stream = { output_type: "stream", name: "stdout", text: ["zth-plot\n"] };
  const notebook: Notebook = {
    cells: [
      { cell_type: "markdown", source: "# plots", metadata: {} },
      { cell_type: "code", source: "show(a)", metadata: {}, outputs: [stream, { output_type: "display_data", data: { "text/html": lines(first) }, metadata: {} }] },
      { cell_type: "code", source: "show(b)", metadata: {}, outputs: [table, { output_type: "execute_result", data: { "text/html": second, "text/plain": "b" }, metadata: {}, execution_count: 2 }] },
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  const untouched = JSON.parse(JSON.stringify(notebook)) as Notebook;
  assert.deepEqual(plotIds(notebook), [idOf(first), idOf(second)]);

  const embedded = embedImagesInNotebook(notebook, new Map([[idOf(first), png], [idOf(second), png]]));
  assert.deepEqual(embedded, [idOf(first), idOf(second)]);
  const [firstOutput, secondOutput] = [notebook.cells[1].outputs![1], notebook.cells[2].outputs![1]];
  const firstHtml = (firstOutput.data as { "text/html": string[] })["text/html"];
  assert.ok(Array.isArray(firstHtml) && firstHtml.every((line, i) => line.endsWith("\n") || i === firstHtml.length - 1));
  assert.equal(firstHtml.join(""), embedImagesInHtml(first, new Map([[idOf(first), png]])).html);
  assert.equal((secondOutput.data as { "text/html": string })["text/html"], embedImagesInHtml(second, new Map([[idOf(second), png]])).html);
  assert.equal((secondOutput.data as { "text/plain": string })["text/plain"], "b");
  // Everything but the two plot outputs' HTML is as it was.
  assert.deepEqual(notebook.cells[0], untouched.cells[0]);
  assert.deepEqual(notebook.cells[1].outputs![0], untouched.cells[1].outputs![0]);
  assert.deepEqual(notebook.cells[2].outputs![0], untouched.cells[2].outputs![0]);
});
