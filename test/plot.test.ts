// Plots (lib/display/plot.ts), tables (lib/display/table.ts) and the display fallback (lib/display/display.ts), outside a notebook.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { DataFrame } from "danfojs";
import { LiveDisplay, escapeHtml, showHtml } from "../lib/display/display";
import {
  figureHtml,
  heatmap,
  histogram,
  linePlot,
  matrixImage,
  plotlyScriptHtml,
  scatterPlot,
  show,
  type Figure,
} from "../lib/display/plot";
import { showTable, tableHtml } from "../lib/display/table";

/** Runs `f` with console.log captured; returns f's result and the printed lines. */
function captureLog<T>(f: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    return { result: f(), lines };
  } finally {
    console.log = original;
  }
}

/** The figure object embedded in figureHtml's script. */
function embeddedFigure(html: string): Figure {
  const match = /\n  var figure = (.*);\n/.exec(html);
  assert.ok(match, "no `var figure = ...;` line in the script");
  return JSON.parse(match[1]) as Figure;
}

/** The figure as figureHtml hands it to plotly: its width becomes the div's max-width, and plotly fits it. */
function fitted(figure: Figure): Figure {
  const { width: _width, ...layout } = figure.layout;
  return { data: figure.data, layout: { ...layout, autosize: true } };
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

// ---------------------------------------------------------------------------------------------------
// figureHtml

test("figureHtml is a zth-plot div and a script holding the figure's JSON", () => {
  const figure = linePlot([3, 1, 2], { title: "Loss", height: 300, width: 500 });
  const html = figureHtml(figure);
  const div = /<div class="zth-plot" id="(zth-plot-[\w-]+)" style="width:100%;max-width:500px;height:300px;">/.exec(html);
  assert.ok(div, html.slice(0, 200));
  assert.ok(html.includes(`document.getElementById(${JSON.stringify(div[1])})`), "the script draws into its own div");
  assert.match(html, /<script type="text\/javascript">[\s\S]*Plotly\.newPlot[\s\S]*<\/script>$/);
  assert.deepEqual(embeddedFigure(html), fitted(figure));
  assert.match(html, /Plot "Loss": it is drawn by plotly\.js/); // the note where scripts are stripped
});

test("figureHtml gives every figure its own id, and a default height of 400", () => {
  const figure: Figure = { data: [{ type: "scatter", y: [1] }], layout: {} };
  const ids = [figureHtml(figure), figureHtml(figure)].map((html) => /id="([^"]+)"/.exec(html)![1]);
  assert.notEqual(ids[0], ids[1]);
  assert.match(figureHtml(figure), /style="width:100%;height:400px;"/);
});

test('a "</script>" inside trace data cannot close the script early', () => {
  const nasty = "</script><script>alert(1)</script><!-- ";
  const figure: Figure = {
    data: [{ type: "scatter", y: [1, 2], text: [nasty, "</SCRIPT >"], name: nasty }],
    layout: { title: { text: `<b>${nasty}</b>` } },
  };
  const html = figureHtml(figure);
  assert.equal(count(html, /<\/script/gi), 1, "only the script's own closing tag");
  assert.ok(html.trimEnd().endsWith("</script>"));
  assert.equal(count(html, /<script/gi), 1, "no second script opened by the data");
  assert.ok(!html.includes("<!--"));
  assert.deepEqual(embeddedFigure(html), fitted(figure), "the data survives the escaping");
  // The title appears in the HTML note, escaped.
  assert.ok(html.includes(`Plot "${escapeHtml(`<b>${nasty}</b>`)}"`));
});

// ---------------------------------------------------------------------------------------------------
// Figure builders

test("linePlot accepts a number[], a typed array, a Series and a Series[]", () => {
  const fromArray = linePlot([1, 2, 3]);
  assert.deepEqual(fromArray.data, [{ type: "scatter", mode: "lines", y: [1, 2, 3] }]);
  assert.equal(fromArray.layout.showlegend, false);

  const fromTyped = linePlot(new Float32Array([0.5, 0.25]));
  assert.deepEqual(fromTyped.data[0].y, [0.5, 0.25]);
  assert.ok(Array.isArray(fromTyped.data[0].y), "typed arrays become plain arrays for JSON");

  const fromSeries = linePlot({ y: new Float64Array([4, 5]), x: [10, 20], name: "train" });
  assert.deepEqual(fromSeries.data, [{ type: "scatter", mode: "lines", y: [4, 5], x: [10, 20], name: "train" }]);
  assert.equal(fromSeries.layout.showlegend, true);

  const fromList = linePlot([{ y: [1, 2], name: "train" }, { y: [3, 4], name: "val" }], { logY: true, xTitle: "step", yTitle: "loss" });
  assert.equal(fromList.data.length, 2);
  assert.deepEqual(fromList.data.map((t) => t.name), ["train", "val"]);
  assert.equal(fromList.layout.showlegend, true);
  assert.deepEqual(fromList.layout.yaxis, { title: { text: "loss" }, type: "log" });
  assert.deepEqual(fromList.layout.xaxis, { title: { text: "step" } });

  assert.deepEqual(linePlot([]).data, [{ type: "scatter", mode: "lines", y: [] }]);
});

test("layout options: title, size; a figure survives JSON unchanged", () => {
  const figure = linePlot([1], { title: "T", width: 640, height: 200 });
  assert.deepEqual(figure.layout.title, { text: "T" });
  assert.equal(figure.layout.width, 640);
  assert.equal(figure.layout.height, 200);
  assert.equal(linePlot([1]).layout.title, undefined);
  assert.equal(linePlot([1]).layout.height, 400);
  assert.deepEqual(JSON.parse(JSON.stringify(figure)), figure);
});

test("heatmap with cellText draws the text in the cells, row 0 at the top", () => {
  const matrix = [[1, 2], [3, 4]];
  const cellText = [["..<br>1", ".a<br>2"], ["a.<br>3", "aa<br>4"]];
  const figure = heatmap(matrix, { cellText, xLabels: [".", "a"], yLabels: [".", "a"], title: "Counts" });
  assert.equal(figure.data.length, 1);
  const trace = figure.data[0];
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.z, matrix);
  assert.deepEqual(trace.text, cellText);
  assert.equal(trace.texttemplate, "%{text}");
  assert.equal(trace.showscale, false);
  const yaxis = figure.layout.yaxis as Record<string, unknown>;
  const xaxis = figure.layout.xaxis as Record<string, unknown>;
  assert.equal(yaxis.autorange, "reversed");
  assert.deepEqual(yaxis.ticktext, [".", "a"]);
  assert.deepEqual(yaxis.tickvals, [0, 1]);
  assert.deepEqual(xaxis.ticktext, [".", "a"]);
  assert.equal(xaxis.side, "top");
});

test("heatmap without cellText shows a colour scale and no text", () => {
  const trace = heatmap([[0, 1]], { colorscale: "Viridis" }).data[0];
  assert.equal(trace.texttemplate, undefined);
  assert.equal(trace.text, undefined);
  assert.equal(trace.showscale, true);
  assert.equal(trace.colorscale, "Viridis");
  assert.equal((heatmap([[0, 1]]).layout.yaxis as Record<string, unknown>).autorange, "reversed");
});

test("matrixImage is a grey heatmap with a scale, row 0 at the top", () => {
  const matrix = [[0, 1, 0], [1, 0, 0]];
  const figure = matrixImage(matrix, { title: "one-hot" });
  const trace = figure.data[0];
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.z, matrix);
  assert.equal(trace.colorscale, "Greys");
  assert.equal(trace.showscale, true);
  assert.equal((figure.layout.yaxis as Record<string, unknown>).autorange, "reversed");
  assert.equal(matrixImage(matrix, { colorscale: "Hot" }).data[0].colorscale, "Hot");
});

test("histogram is one histogram trace of the values, with optional bins", () => {
  const figure = histogram(new Float32Array([0.5, -1, 2]), { bins: 30, title: "h" });
  assert.deepEqual(figure.data, [{ type: "histogram", x: [0.5, -1, 2], nbinsx: 30 }]);
  assert.deepEqual(histogram([1, 2]).data, [{ type: "histogram", x: [1, 2] }]);
});

test("scatterPlot: markers, or labelled markers with text; equal axes on request", () => {
  const plain = scatterPlot([{ x: [1, 2], y: [3, 4] }]);
  assert.equal(plain.data[0].mode, "markers");
  assert.deepEqual(plain.data[0].x, [1, 2]);
  assert.deepEqual(plain.data[0].y, [3, 4]);
  assert.equal(plain.data[0].text, undefined);
  assert.equal(plain.layout.showlegend, false);

  const labelled = scatterPlot(
    [{ x: new Float32Array([0, 1]), y: new Float32Array([1, 0]), labels: ["a", "b"], name: "C", color: [0, 1] }],
    { equalAxes: true },
  );
  const trace = labelled.data[0];
  assert.equal(trace.mode, "markers+text");
  assert.deepEqual(trace.text, ["a", "b"]);
  assert.deepEqual((trace.marker as Record<string, unknown>).color, [0, 1]);
  assert.equal(trace.name, "C");
  assert.equal(labelled.layout.showlegend, true);
  assert.equal((labelled.layout.yaxis as Record<string, unknown>).scaleanchor, "x");
  assert.equal(scatterPlot([{ x: [0], y: [0] }, { x: [1], y: [1] }]).data.length, 2);
});

// ---------------------------------------------------------------------------------------------------
// The plotly bundle

test("plotlyScriptHtml holds the whole plotly bundle and no raw </script inside it", () => {
  const bundlePath = require.resolve("plotly.js-dist-min");
  const bundle = fs.readFileSync(bundlePath, "utf8");
  const version = (require("plotly.js-dist-min/package.json") as { version: string }).version;
  const html = plotlyScriptHtml();
  // Until its script runs, the note says plotly is not loaded (untrusted notebooks strip scripts).
  assert.match(html, new RegExp(`^<div class="zth-plotly-setup" id="[^"]+">plotly\\.js ${version.replace(/\./g, "\\.")} is not loaded`));
  assert.ok(html.includes(`"plotly.js ${version} loaded for this notebook (offline)."`), "the second script updates the note");
  const open = '<script type="text/javascript">';
  const start = html.indexOf(open) + open.length;
  const end = html.indexOf("</script>", start);
  assert.ok(start > open.length - 1 && end > start);
  const inside = html.slice(start, end);
  assert.ok(!/<\/script/i.test(inside), "the bundle part must not close the script");
  assert.equal(inside.length, bundle.length + count(bundle, /<\/script/gi)); // only the escapes were added
  assert.ok(inside.includes("newPlot"));
});

// ---------------------------------------------------------------------------------------------------
// Tables

test("tableHtml makes a table with a header, rows, a caption, and 4 decimals for fractions", () => {
  const html = tableHtml({ columns: ["name", "p"], values: [["emma", 0.123456], ["ava", 1]] }, "Names");
  assert.equal(
    html,
    '<table class="zth-table"><caption>Names</caption><thead><tr><th>name</th><th>p</th></tr></thead>\n<tbody>\n' +
      '<tr><td style="text-align:right">emma</td><td style="text-align:right">0.1235</td></tr>\n' +
      '<tr><td style="text-align:right">ava</td><td style="text-align:right">1</td></tr>\n</tbody></table>',
  );
});

test("tableHtml escapes HTML in cells, headers and the caption", () => {
  const html = tableHtml({ columns: ["<th>", 'a"b'], values: [["<script>alert(1)</script>", "x & y"]] }, "<i>c</i>");
  assert.ok(!html.includes("<script"));
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(html.includes("<th>&lt;th&gt;</th><th>a&quot;b</th>"));
  assert.ok(html.includes("x &amp; y"));
  assert.ok(html.includes("<caption>&lt;i&gt;c&lt;/i&gt;</caption>"));
});

test("tableHtml handles a one-column frame given as a flat list of values", () => {
  const flat = tableHtml({ columns: ["x"], values: [1, 2.5, "<3"] });
  assert.equal(count(flat, /<tr>/g), 4); // header + 3 rows
  assert.ok(flat.includes('<tr><td style="text-align:right">2.5000</td></tr>'));
  assert.ok(flat.includes("&lt;3"));
  assert.equal(flat, tableHtml({ columns: ["x"], values: [[1], [2.5], ["<3"]] }));
});

test("tableHtml works with real danfojs DataFrames", () => {
  const frame = new DataFrame({ name: ["emma", "<b>"], count: [4410, 6763], p: [0.5, 0.25] });
  const html = tableHtml(frame);
  assert.ok(html.includes("<th>name</th><th>count</th><th>p</th>"));
  assert.ok(html.includes('<tr><td style="text-align:right">emma</td><td style="text-align:right">4410</td><td style="text-align:right">0.5000</td></tr>'));
  assert.ok(html.includes("&lt;b&gt;"));
  const oneColumn = tableHtml(new DataFrame({ x: [1, 2, 3] }));
  assert.equal(count(oneColumn, /<tr>/g), 4);
  assert.ok(oneColumn.includes('<tr><td style="text-align:right">3</td></tr>'));
});

// ---------------------------------------------------------------------------------------------------
// Outside a notebook: false, and the fallback text on the console

test("showHtml outside a notebook prints the fallback text instead (and does not report success)", () => {
  // lib/display/display.ts is being changed from returning a boolean to returning nothing: accept either.
  const html = captureLog((): unknown => showHtml("<b>bold</b>", "plain text"));
  assert.ok(html.result === false || html.result === undefined, `showHtml returned ${html.result}`);
  assert.deepEqual(html.lines, ["plain text"]);
  const silent = captureLog(() => showHtml("<b>bold</b>"));
  assert.deepEqual(silent.lines, []);
});

test("show, showTable and LiveDisplay print their plain-text stand-ins outside a notebook", () => {
  assert.deepEqual(captureLog(() => show(linePlot([1], { title: "Loss" }))).lines, ['(figure "Loss": shown in a notebook)']);
  assert.deepEqual(captureLog(() => show(linePlot([1]))).lines, ["(figure: shown in a notebook)"]);
  const table = captureLog(() => showTable({ columns: ["a", "b"], values: [[1, 0.5], [2, 0.25]] }, "T"));
  assert.deepEqual(table.lines, ["T\na\tb\n1\t0.5000\n2\t0.2500"]);
  const live = new LiveDisplay();
  assert.deepEqual(captureLog(() => live.update("<code>step 1</code>", "step 1")).lines, ["step 1"]);
});

test("escapeHtml escapes &, <, > and double quotes", () => {
  assert.equal(escapeHtml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
  assert.equal(escapeHtml("&lt;"), "&amp;lt;");
});

test("windowMeans averages each full window at the step that ends it, and drops a partial last window", async () => {
  const { windowMeans } = await import("../lib/display/plot");
  assert.deepEqual(windowMeans([1, 2, 3, 4, 5, 6, 7], 3), { x: [3, 6], y: [2, 5] });
  assert.deepEqual(windowMeans(new Float32Array([1, 3]), 1), { x: [1, 2], y: [1, 3] });
  assert.throws(() => windowMeans([1], 0), /window must be an integer >= 1/);
});
