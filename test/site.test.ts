// The static site (scripts/build-site.ts) and its browser check (scripts/check-site.ts), on a site
// rendered here from two small executed notebooks: math, highlighted code, every output type, plots.
// The browser part needs Chromium; without it, it is skipped with one note.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { figureHtml, linePlot, plotlyScriptHtml } from "../lib/display/plot";
import { type Browser, findChromium, launchBrowser, noChromiumHint } from "../scripts/browser";
import { buildSite, describeLecture, withoutInlinePlotly } from "../scripts/build-site";
import { renderMarkdown } from "../scripts/markdown";
import { checkSite } from "../scripts/check-site";
import { projectRoot } from "../scripts/cli";
import { type Notebook, type Output, readNotebook, writeNotebook } from "../scripts/notebook-file";

const minutes = 60_000;
const chromium = findChromium();
const noBrowser = chromium ? false : `no Chromium, so the site's browser check is skipped: ${noChromiumHint}`;
const tinyPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const tmp = path.join(projectRoot, "build", "tmp");
let dir: string;

before(() => {
  fs.mkdirSync(tmp, { recursive: true });
  dir = fs.mkdtempSync(path.join(tmp, "site-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function notebook(cells: { markdown?: string; code?: string; outputs?: Output[] }[]): Notebook {
  return {
    cells: cells.map((cell, i) => cell.markdown !== undefined
      ? { cell_type: "markdown", id: `c${i}`, metadata: {}, source: cell.markdown }
      : { cell_type: "code", id: `c${i}`, metadata: {}, execution_count: i, outputs: cell.outputs ?? [], source: cell.code ?? "" }),
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" }, zero_to_hero_run: { mode: "quick", ok: true, seconds: 12.5, result: "loss 2.4540", finished: "2026-11-25T20:00:00.000Z" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

const html = (text: string): Output => ({ output_type: "display_data", data: { "text/html": text }, metadata: {} });

/** Two lectures: math and every output type; then plots, with plotly.js inline as the first cell puts it. */
function writeNotebooks(): string[] {
  const math = notebook([
    { markdown: "# 01 · Math and code\n\nThe loss is $L = -\\frac{1}{n}\\sum_i \\log p_i$ over $n$ examples. More text.\n\n$$\n\\mathrm{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}\n$$\n\nPrices like $5 and $6 stay text; see [the plots](02-plots.ipynb)." },
    {
      code: 'const loss: number = 2.454;\nconsole.log("Result:", loss);',
      outputs: [
        { output_type: "stream", name: "stdout", text: ["Result: 2.454\n"] },
        html("<table><tr><th>a</th></tr><tr><td>1</td></tr></table>"),
        { output_type: "display_data", data: { "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect class="svg-box" width="20" height="10"/></svg>' }, metadata: {} },
        { output_type: "display_data", data: { "image/png": tinyPng, "text/plain": "picture" }, metadata: {} },
        { output_type: "execute_result", execution_count: 1, data: { "text/plain": "42" }, metadata: {} },
      ],
    },
  ]);
  const plots = notebook([
    { markdown: "# 02 · Plots\n\nA loss curve, with $\\log_{10}$ on the y axis." },
    { code: "setupPlots();", outputs: [html(plotlyScriptHtml())] },
    { code: "show(linePlot(losses));", outputs: [html(figureHtml(linePlot([3, 2, 1.5, 1.2], { title: "Loss", width: 400, height: 250 })))] },
    { code: "show(linePlot(other));", outputs: [html(figureHtml(linePlot([1, 2, 4], { title: "Growth", width: 400, height: 250 })))] },
  ]);
  const files = [path.join(dir, "01-math.ipynb"), path.join(dir, "02-plots.ipynb")];
  writeNotebook(files[0], math);
  writeNotebook(files[1], plots);
  return files;
}

test("markdown: $...$ and $$...$$ become KaTeX HTML, dollars in prose stay text, formula errors are reported", () => {
  const env = { formulas: 0, problems: [] as string[] };
  const out = renderMarkdown("An $x_1^2$ and\n\n$$\n\\sum_i a_i\n$$\n\ncosts $20,000 and $30,000 in prose.\n\n*$a * b$* is math; bad: $\\frac{1$.", env);
  assert.equal((out.match(/class="katex"/g) ?? []).length, 3, out);
  assert.match(out, /class="katex-display"/);
  assert.match(out, /costs \$20,000 and \$30,000 in prose/);
  assert.match(out, /<p><em><span class="katex">/);
  assert.equal(env.formulas, 4);
  assert.equal(env.problems.length, 1);
  assert.match(env.problems[0], /\\\\frac\{1/);
  assert.match(out, /<code class="math-error">\\frac\{1<\/code>/);
});

test("the inline copy of plotly.js is left out of a page, the small scripts stay", () => {
  const setup = plotlyScriptHtml();
  const stripped = withoutInlinePlotly(setup);
  assert.ok(setup.length > 1_000_000 && stripped.length < 2_000, `${stripped.length} characters left`);
  assert.match(stripped, /zth-plotly-setup/);
  assert.match(stripped, /<script type="text\/javascript">\n\(function \(\) \{/);
  // A figure's script stays, however large its data (lecture 00's decision boundary is 300 KB).
  const figure = figureHtml(linePlot(Array.from({ length: 30_000 }, (_, i) => i)));
  assert.ok(figure.length > 150_000);
  assert.equal(withoutInlinePlotly(figure), figure);
});

test("a lecture's title and one-line description come from its first markdown", () => {
  const lecture = describeLecture(notebook([{ markdown: "# 03 · The MLP\n\nBengio et al. 2003 in *TypeScript*: embeddings. Then more." }]), "/x/03-mlp.ipynb");
  assert.deepEqual([lecture.page, lecture.title, lecture.description], ["03-mlp.html", "03 · The MLP", "Bengio et al. 2003 in TypeScript: embeddings."]);
});

test("pages: highlighted code, every output type, one local plotly.js, links between lectures", async () => {
  const files = writeNotebooks();
  const site = await buildSite(files, path.join(dir, "plain-site"));
  assert.deepEqual(site.problems, []);
  assert.deepEqual(site.pages.map((p) => [path.basename(p.file), p.plots, p.formulas]), [["01-math.html", 0, 3], ["02-plots.html", 2, 1]]);
  const [math, plots] = site.pages.map((p) => fs.readFileSync(p.file, "utf8"));
  const index = fs.readFileSync(site.index, "utf8");
  assert.match(index, /<a href="01-math.html">01 · Math and code<\/a><p>The loss is/);
  assert.match(index, /run in 13 s \(quick mode\) &middot; result: loss 2.4540/);
  assert.match(math, /<span class="hljs-keyword">const<\/span> <span class="hljs-attr">loss<\/span>: <span class="hljs-built_in">number<\/span>/);
  assert.match(math, /<table><tr><th>a<\/th>/);
  assert.match(math, /<rect class="svg-box"/);
  assert.match(math, /<img src="data:image\/png;base64,iVBOR/);
  assert.match(math, /<pre class="output text">42<\/pre>/);
  assert.match(math, /href="02-plots.html"/);
  assert.match(math, /<a rel="next" href="02-plots.html">/);
  assert.doesNotMatch(math, /plotly\.min\.js/, "a page without plots does not load plotly.js");
  assert.equal((plots.match(/<script src="assets\/plotly.min.js"><\/script>/g) ?? []).length, 1);
  assert.ok(plots.length < 100_000, `the plots page is ${plots.length} characters: plotly.js is not inline`);
  for (const asset of ["plotly.min.js", "katex/katex.min.css", "katex/fonts/KaTeX_Main-Regular.woff2", "highlight.css", "site.css"]) {
    assert.ok(fs.existsSync(path.join(dir, "plain-site", "assets", asset)), asset);
  }
  // Nothing on a page points outside its folder (links to other sites would be fine; there are none).
  for (const page of [math, plots, index]) assert.doesNotMatch(page, /(src|href)="(https?:)?\/\//);
});

let browser: Browser | undefined;
after(async () => browser?.close());

test("in Chromium, served on 127.0.0.1: plots drawn, formulas as KaTeX, no console errors, nothing fetched from outside, pictures without JavaScript", { skip: noBrowser, timeout: 5 * minutes }, async () => {
  browser = await launchBrowser(chromium);
  const files = writeNotebooks();
  const siteDir = path.join(dir, "site");
  const site = await buildSite(files, siteDir, { browser });
  assert.deepEqual(site.problems, []);
  assert.equal((JSON.stringify(readNotebook(files[1])).match(/<img src=\\"data:image\/png;base64,/g) ?? []).length, 2, "each plot's picture is in its notebook");
  const check = await checkSite(siteDir, site.pages, { browser, screenshots: false });
  assert.deepEqual([check.index.problems, ...check.pages.map((p) => p.problems)], [[], [], []]);
  const [math, plots] = check.pages;
  assert.ok(math.formulas >= 3 && math.katexFontLoaded, JSON.stringify(math));
  assert.deepEqual([plots.drawn, plots.pictures], [2, 2]);
});

test("the browser check catches a request outside the site and a plot that is not drawn", { skip: noBrowser, timeout: 3 * minutes }, async () => {
  browser ??= await launchBrowser(chromium);
  const file = path.join(dir, "03-bad.ipynb");
  writeNotebook(file, notebook([
    { markdown: "# 03 · Bad\n\n![remote](http://192.0.2.1/picture.png)" },
    { code: "show(plot)", outputs: [html('<div class="zth-plot" id="never-drawn"><p>note</p></div>')] },
  ]));
  const siteDir = path.join(dir, "bad-site");
  const site = await buildSite([file], siteDir);
  const check = await checkSite(siteDir, site.pages, { browser, screenshots: false });
  const problems = check.pages[0].problems.join("\n");
  assert.equal(check.ok, false);
  assert.match(problems, /request outside the site: http:\/\/192.0.2.1\/picture.png/);
  assert.match(problems, /0 of 1 plots drawn/);
  assert.match(problems, /without JavaScript, 0 of 1 plots show their picture/);
});
