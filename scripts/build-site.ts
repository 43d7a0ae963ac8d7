// Renders the executed notebooks (build/notebooks/*.ipynb) as a static site in build/site/: an index
// page and one page per lecture, readable from disk or any static host, with no request outside the
// folder.
//
//   tsx scripts/build-site.ts [--no-pictures] [build/notebooks/x.ipynb ...]
//
// - Markdown, math and code highlighting at build time (markdown.ts), so no script is needed to read
//   a formula; KaTeX's CSS and fonts are copied beside the pages.
// - Outputs: text, HTML (tables, our plots), PNG, SVG, errors. The first cell's copy of plotly.js
//   (lib/display/plot.ts puts 4.8 MB inline into each notebook) is left out; every page with plots
//   loads one local assets/plotly.min.js instead.
// - Plot pictures: with Chromium, each plot's PNG goes into its notebook (embed-plot-images.ts) and the
//   page is rendered again, so readers without scripts see every plot.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "./browser";
import { type RenderEnv, countFormulas, escapeHtml, highlightCode, renderMarkdown, renderTex } from "./markdown";
import { embedPlotImages, plotIds } from "./embed-plot-images";
import { type Notebook, type Output, type RunInfo, joinText, readNotebook, runInfoKey } from "./notebook-file";
import { filesIn, projectRoot, runMain, twoAtATime } from "./cli";
import { buildLive } from "./build-live";

export const siteDir = path.join(projectRoot, "build", "site");
export const executedNotebooksDir = path.join(projectRoot, "build", "notebooks");
const courseTitle = "Neural Networks: Zero to Hero, in TypeScript";

// ---------------------------------------------------------------------------------------------
// outputs

/** Inline <script>s that carry a whole copy of plotly.js (the notebook's first cell): the page loads the local file instead. */
export function withoutInlinePlotly(html: string): string {
  // Recognised by the bundle's own banner: a figure's script can be as large (a fine contour grid)
  // and also names Plotly, but must stay.
  return html.replace(/<script\b[^>]*>([\s\S]*?)<\/script>/gi, (whole, body: string) => (/^\s*\/\*\*?\s*\*?\s*plotly\.js v\d/.test(body) ? "" : whole));
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

function renderOutput(output: Output, env: RenderEnv): string {
  if (output.output_type === "stream") {
    return `<pre class="output stream ${output.name === "stderr" ? "stderr" : "stdout"}">${escapeHtml(stripAnsi(joinText(output.text)))}</pre>`;
  }
  if (output.output_type === "error") {
    const text = (output.traceback ?? []).join("\n") || `${output.ename}: ${output.evalue}`;
    return `<pre class="output stderr">${escapeHtml(stripAnsi(text))}</pre>`;
  }
  const data = (output.data ?? {}) as Record<string, string | string[]>;
  const text = (type: string) => joinText(data[type]);
  if (data["text/html"] !== undefined) return `<div class="output html">${withoutInlinePlotly(text("text/html"))}</div>`;
  if (data["image/svg+xml"] !== undefined) return `<div class="output svg">${text("image/svg+xml")}</div>`;
  for (const type of ["image/png", "image/jpeg", "image/gif"]) {
    if (data[type] !== undefined) return `<div class="output image"><img src="data:${type};base64,${text(type).replace(/\s/g, "")}" alt="output picture"></div>`;
  }
  if (data["text/markdown"] !== undefined) return `<div class="output markdown">${renderMarkdown(text("text/markdown"), env)}</div>`;
  if (data["text/latex"] !== undefined) return `<div class="output math-display">${renderTex(text("text/latex").replace(/^\$\$?|\$\$?$/g, ""), true, env)}</div>`;
  if (data["text/plain"] !== undefined) return `<pre class="output text">${escapeHtml(stripAnsi(text("text/plain")))}</pre>`;
  return "";
}

// ---------------------------------------------------------------------------------------------
// pages

export interface Lecture {
  /** Page file name, e.g. "03-mlp.html". */
  page: string;
  title: string;
  description: string;
  run?: RunInfo;
}

/** The lecture's title (its first heading) and a one-line description (the first sentence after it). */
export function describeLecture(notebook: Notebook, notebookFile: string): Lecture {
  const page = path.basename(notebookFile, ".ipynb") + ".html";
  const markdown = notebook.cells.filter((c) => c.cell_type === "markdown").map((c) => joinText(c.source)).join("\n\n");
  const heading = /^#{1,3}\s+(.+)$/m.exec(markdown);
  const title = heading ? plainText(heading[1]) : path.basename(notebookFile, ".ipynb");
  const afterHeading = heading ? markdown.slice(heading.index + heading[0].length) : markdown;
  const paragraph = afterHeading.split(/\n\s*\n/).map((p) => p.trim()).find((p) => p && !/^(#|```|\$\$|[-*] |\||<)/.test(p)) ?? "";
  // A sentence ends at ". " before a capital letter ("et al. 2003" does not end one).
  const sentence = plainText(paragraph).match(/^.*?[.!?](?=\s+[A-Z]|$)/)?.[0] ?? plainText(paragraph);
  const description = sentence.length > 220 ? sentence.slice(0, 217) + "..." : sentence;
  return { page, title, description, run: notebook.metadata[runInfoKey] as RunInfo | undefined };
}

/** Markdown to one line of plain text (links, emphasis and code marks removed; math left as written). */
function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

function pager(lectures: Lecture[], index: number): string {
  const previous = lectures[index - 1];
  const next = lectures[index + 1];
  const link = (lecture: Lecture | undefined, rel: string, label: string) =>
    lecture ? `<a rel="${rel}" href="${lecture.page}">${label}</a>` : `<span></span>`;
  return `<nav class="pager">${link(previous, "prev", `&larr; ${escapeHtml(previous?.title ?? "")}`)}<a href="index.html">All lectures</a>${link(next, "next", `${escapeHtml(next?.title ?? "")} &rarr;`)}</nav>`;
}

function pageShell(title: string, body: string, options: { plotly: boolean; live?: boolean }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/katex/katex.min.css">
<link rel="stylesheet" href="assets/highlight.css">
<link rel="stylesheet" href="assets/site.css">
${options.plotly ? `<script src="assets/plotly.min.js"></script>\n` : ""}${options.live ? `<script src="assets/live/page.js" defer></script>\n` : ""}</head>
<body>
${body}
</body>
</html>
`;
}

export interface RenderedPage {
  html: string;
  formulas: number;
  plots: number;
  problems: string[];
}

/** One lecture's page. */
export function renderLecturePage(notebook: Notebook, lectures: Lecture[], index: number, options: { live?: boolean } = {}): RenderedPage {
  const env: RenderEnv = { formulas: 0, problems: [] };
  const cells = notebook.cells.map((cell) => {
    const source = joinText(cell.source);
    if (cell.cell_type === "markdown") return `<section class="cell markdown">${renderMarkdown(source, env)}</section>`;
    if (cell.cell_type !== "code") return `<pre class="cell raw">${escapeHtml(source)}</pre>`;
    const prompt = `In&nbsp;[${cell.execution_count ?? "&nbsp;"}]:`;
    const outputs = (cell.outputs ?? []).map((output) => renderOutput(output, env)).join("\n");
    return `<section class="cell code"><div class="input"><div class="prompt">${prompt}</div><pre><code class="hljs language-typescript">${highlightCode(source, "typescript")}</code></pre></div>${outputs ? `\n<div class="outputs">${outputs}</div>` : ""}</section>`;
  });
  const plots = plotIds(notebook).length;
  const lecture = lectures[index];
  const run = lecture.run;
  const runNote = run ? `<p class="run-note">Run ${run.mode === "quick" ? "in <strong>quick mode</strong> (shortened training) " : ""}in ${formatSeconds(run.seconds)} on ${run.finished.slice(0, 10)}.</p>` : "";
  const body = `<header>${pager(lectures, index)}</header>
<main>
${runNote}
${cells.join("\n")}
</main>
<footer>${pager(lectures, index)}</footer>`;
  const html = pageShell(`${lecture.title} | ${courseTitle}`, body, { plotly: plots > 0 || !!options.live, live: options.live });
  return { html, formulas: env.formulas, plots, problems: env.problems };
}

/** The index: the lectures in order, each with its description, run time and key result. */
export function renderIndexPage(lectures: Lecture[]): string {
  const items = lectures.map((lecture) => {
    const run = lecture.run;
    const facts = run
      ? [`${run.ok ? "" : "<strong>failed</strong> &middot; "}run in ${formatSeconds(run.seconds)}${run.mode === "quick" ? " (quick mode)" : ""}`,
        ...(run.result ? [`result: ${escapeHtml(run.result)}`] : [])].join(" &middot; ")
      : "";
    return `<li><a href="${lecture.page}">${escapeHtml(lecture.title)}</a><p>${escapeHtml(lecture.description)}</p>${facts ? `<p class="facts">${facts}</p>` : ""}</li>`;
  });
  const body = `<main>
<h1>${escapeHtml(courseTitle)}</h1>
<p>Neural language models built from scratch, lecture by lecture, with TensorFlow.js in TypeScript notebooks. Each page is a notebook as it ran: its code, its printed results and its plots (interactive where scripts run, pictures where they do not).</p>
<ol class="lectures">
${items.join("\n")}
</ol>
</main>`;
  return pageShell(courseTitle, body, { plotly: false });
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}


// ---------------------------------------------------------------------------------------------
// the site

const siteCss = `body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; margin: 0; }
main, header, footer { max-width: 1000px; margin: 0 auto; padding: 0 20px; }
h1, h2, h3 { line-height: 1.25; }
a { color: #0b5cad; }
.pager { display: flex; justify-content: space-between; gap: 12px; padding: 14px 0; border-bottom: 1px solid #e4e4e4; }
footer .pager { border-bottom: 0; border-top: 1px solid #e4e4e4; margin-top: 32px; }
.run-note { color: #666; font-size: 14px; }
.cell { margin: 14px 0; }
.cell.code .input { display: flex; gap: 8px; }
.prompt { color: #303f9f; font: 13px/1.4 ui-monospace, monospace; min-width: 64px; text-align: right; padding-top: 10px; }
.cell.code pre { flex: 1; margin: 0; overflow-x: auto; }
.cell.code pre code.hljs { background: #f7f7f7; border: 1px solid #e4e4e4; border-radius: 4px; padding: 8px 10px; font-size: 13.5px; display: block; }
.outputs { margin-left: 72px; overflow-x: auto; }
pre.output { font: 13px/1.4 ui-monospace, monospace; margin: 6px 0; white-space: pre-wrap; }
pre.output.stderr { background: #fdecea; padding: 6px; }
.output.html table { border-collapse: collapse; font-size: 14px; }
.output.html th, .output.html td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
.output img, .output svg { max-width: 100%; height: auto; }
.math-display { overflow-x: auto; }
.math-error { color: #b00020; }
ol.lectures li { margin: 18px 0; }
ol.lectures li > a { font-size: 19px; font-weight: 600; }
ol.lectures p { margin: 4px 0; }
.facts { color: #555; font-size: 14px; }
.live-bar { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #e4e4e4; z-index: 10; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.live-status, .live-note { color: #555; font-size: 14px; }
.live-run { align-self: flex-start; margin-top: 6px; }
.cell.running .prompt { color: #b26a00; }
.cell.running pre code.hljs { border-color: #f0a030; }
`;

/** KaTeX's CSS and fonts, highlight.js's theme, plotly.js and our CSS, beside the pages. */
function copyAssets(dir: string): void {
  const assets = path.join(dir, "assets");
  const katexDist = path.join(path.dirname(require.resolve("katex/package.json")), "dist");
  fs.mkdirSync(path.join(assets, "katex"), { recursive: true });
  fs.copyFileSync(path.join(katexDist, "katex.min.css"), path.join(assets, "katex", "katex.min.css"));
  fs.cpSync(path.join(katexDist, "fonts"), path.join(assets, "katex", "fonts"), { recursive: true });
  const highlightStyles = path.join(path.dirname(require.resolve("highlight.js/package.json")), "styles");
  fs.copyFileSync(path.join(highlightStyles, "github.css"), path.join(assets, "highlight.css"));
  fs.copyFileSync(require.resolve("plotly.js-dist-min"), path.join(assets, "plotly.min.js"));
  fs.writeFileSync(path.join(assets, "site.css"), siteCss);
}

export interface SitePage {
  /** The page's file, and the executed notebook it was made from. */
  file: string;
  notebook: string;
  formulas: number;
  plots: number;
}

export interface SiteResult {
  index: string;
  pages: SitePage[];
  /** Formulas KaTeX could not render, plot pictures that could not be taken: each names its notebook. */
  problems: string[];
  pictures: "embedded" | "skipped";
  /** Live mode's files and their sizes in bytes, when built. */
  live?: Record<string, number>;
}

/** The pages a site built from `notebookFiles` has, with the plots and formulas each must show. */
export function sitePages(notebookFiles: string[], dir: string = siteDir): SitePage[] {
  return notebookFiles.map((file) => {
    const notebook = readNotebook(file);
    return { file: path.join(dir, path.basename(file, ".ipynb") + ".html"), notebook: file, formulas: countFormulas(notebook), plots: plotIds(notebook).length };
  });
}

/**
 * Writes the site for `notebookFiles` (in lecture order) into `dir`. With a `browser`, each plot's
 * picture is first put into its notebook (the notebook file is rewritten) and the page rendered again.
 */
export async function buildSite(notebookFiles: string[], dir: string = siteDir, options: { browser?: Browser; live?: boolean } = {}): Promise<SiteResult> {
  fs.mkdirSync(dir, { recursive: true });
  copyAssets(dir);
  const live = options.live ? await buildLive(dir) : undefined;
  const notebooks = notebookFiles.map((file) => readNotebook(file));
  const lectures = notebooks.map((notebook, i) => describeLecture(notebook, notebookFiles[i]));
  fs.writeFileSync(path.join(dir, "index.html"), renderIndexPage(lectures));
  // Two pages at a time: each waits mostly on the browser drawing its plots.
  const rendered = await twoAtATime(notebookFiles, async (file, i) => {
    const pageFile = path.join(dir, lectures[i].page);
    const write = (notebook: Notebook) => {
      const page = renderLecturePage(notebook, lectures, i, { live: !!live });
      fs.writeFileSync(pageFile, page.html);
      return page;
    };
    const problems: string[] = [];
    let page = write(notebooks[i]);
    if (options.browser && page.plots > 0) {
      const embedded = await embedPlotImages(file, pageFile, { browser: options.browser });
      problems.push(...embedded.errors.map((error) => `${path.basename(file)}: plot picture: ${error}`));
      page = write(readNotebook(file));
    }
    problems.push(...page.problems.map((problem) => `${path.basename(file)}: ${problem}`));
    return { page: { file: pageFile, notebook: file, formulas: page.formulas, plots: page.plots }, problems: problems };
  });
  const pages: SitePage[] = rendered.map((r) => r.page);
  const problems = rendered.flatMap((r) => r.problems);
  return { index: path.join(dir, "index.html"), pages, problems, pictures: options.browser ? "embedded" : "skipped", live: live?.sizes };
}

// ---------------------------------------------------------------------------------------------
// command line

async function main(argv: string[]): Promise<number> {
  const pictures = !argv.includes("--no-pictures");
  const given = argv.filter((a) => !a.startsWith("--"));
  const notebooks = given.length > 0 ? given : filesIn(executedNotebooksDir, ".ipynb");
  if (notebooks.length === 0) {
    console.log("No executed notebooks: run `npm run course` first (it writes build/notebooks/ and the site).");
    return 1;
  }
  const { findChromium, launchBrowser, noChromiumHint } = await import("./browser");
  const chromium = pictures ? findChromium() : undefined;
  if (pictures && !chromium) console.log(`note: no Chromium, so no plot pictures for readers without scripts: ${noChromiumHint}.`);
  const browser = chromium ? await launchBrowser(chromium) : undefined;
  try {
    const site = await buildSite(notebooks, siteDir, { browser, live: !argv.includes("--no-live") });
    console.log(`Site: ${path.relative(process.cwd(), site.index)} and ${site.pages.length} lecture page(s)`);
    for (const problem of site.problems) console.log(`  problem: ${problem}`);
    return site.problems.length === 0 ? 0 : 1;
  } finally {
    await browser?.close();
  }
}

runMain(module, main);
