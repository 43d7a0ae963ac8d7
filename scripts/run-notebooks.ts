// Runs notebooks through the real tslab kernel with nbconvert, as a learner's Jupyter would, and
// fails loudly on any cell error or stderr output.
//
//   tsx scripts/run-notebooks.ts --quick [notebooks/x.ipynb ...]   quick mode (ZTH_QUICK=1), no HTML
//   tsx scripts/run-notebooks.ts --full  [notebooks/x.ipynb ...]   full run, then HTML, plot pictures
//                                                                  (embed-plot-images.ts) + browser check
//
// Executed notebooks go to build/notebooks/, HTML to build/html/.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkHtml, findChromium, formatHtmlReport, launchBrowser } from "./check-html";
import { embedPlotImages, formatEmbedResult } from "./embed-plot-images";
import { notebooksDir, prepareJupyter, projectRoot } from "./kernel";
import { type Cell, type Notebook, joinText, readNotebook, writeNotebook } from "./notebook-file";
import { filesIn, runMain } from "./cli";

export const buildNotebooksDir = path.join(projectRoot, "build", "notebooks");
export const buildHtmlDir = path.join(projectRoot, "build", "html");

export interface CellFailure {
  /** 1-based position among all cells, as a reader counts them in Jupyter. */
  cell: number;
  /** 1-based position among code cells only. */
  codeCell: number;
  /** First line of the cell's source, to recognise it. */
  firstLine: string;
  /** stderr: the cell wrote to stderr (tslab reports exceptions and type errors this way);
   *  error: a Jupyter error output; skipped: the cell came after a failure and has no output. */
  kind: "stderr" | "error" | "skipped";
  text: string;
}

export interface NotebookResult {
  notebook: string; // path as given, relative to the project when inside it
  ok: boolean;
  failures: CellFailure[];
  /** Set when nbconvert itself failed (kernel died, cell timeout, bad JSON...): its stderr tail. */
  nbconvertError?: string;
  seconds: number;
  outputPath: string;
}

export interface ExecuteOptions {
  quick: boolean;
  outputDir?: string;
  /** nbconvert's limit for one cell. */
  cellTimeoutSeconds?: number;
  /** Hard limit for the whole run; the run is interrupted and reported as failed after it. */
  deadlineSeconds?: number;
}

/** notebooks/*.ipynb, sorted, so the course runs in lecture order. */
export function listNotebooks(dir: string = notebooksDir): string[] {
  return filesIn(dir, ".ipynb");
}

/** Executes one notebook and inspects every cell of the result. Never throws for notebook errors. */
export async function executeNotebook(notebookPath: string, options: ExecuteOptions): Promise<NotebookResult> {
  const input = path.resolve(notebookPath);
  const outputDir = path.resolve(options.outputDir ?? buildNotebooksDir);
  const outputPath = path.join(outputDir, path.basename(input));
  const shown = displayPath(input);
  fs.mkdirSync(outputDir, { recursive: true });
  // A stale result from an earlier run must never be mistaken for this run's.
  fs.rmSync(outputPath, { force: true });

  const { python, env } = prepareJupyter();
  // Full runs must not inherit a stray ZTH_QUICK from the shell.
  if (options.quick) env.ZTH_QUICK = "1";
  else delete env.ZTH_QUICK;

  const timeout = options.cellTimeoutSeconds ?? (options.quick ? 600 : 3600);
  const args = [
    "-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
    `--ExecutePreprocessor.timeout=${timeout}`,
    "--output-dir", outputDir,
    input,
  ];
  const started = Date.now();
  // nbconvert starts the kernel in the notebook's folder; running from there as well keeps any
  // relative path in a cell meaning the same as in a learner's Jupyter.
  const run = await runProcess(python, args, { cwd: path.dirname(input), env, deadlineSeconds: options.deadlineSeconds });
  const seconds = (Date.now() - started) / 1000;

  if (run.timedOut || run.code !== 0 || !fs.existsSync(outputPath)) {
    const why = run.timedOut
      ? `interrupted after the deadline of ${options.deadlineSeconds} s`
      : `nbconvert exited with ${run.code ?? run.signal}`;
    // nbconvert writes no notebook then; its exception (for a cell timeout: a preview of the cell) is the report.
    return { notebook: shown, ok: false, failures: [], nbconvertError: `${why}:\n${pythonError(run.stderr)}`, seconds, outputPath };
  }

  const executed = readNotebook(outputPath);
  const failures = findFailures(executed);
  numberExecutedCells(executed, failures);
  writeNotebook(outputPath, executed);
  return { notebook: shown, ok: failures.length === 0, failures, seconds, outputPath };
}

/**
 * Every sign of trouble in an executed notebook. tslab reports a thrown exception or a type error
 * as stderr text (not as an `error` output), and after a failure it skips the remaining cells,
 * which then have no output at all. Any stderr counts: the notebooks keep stderr clean, so a reader
 * never sees red text that is not an error.
 */
export function findFailures(notebook: Notebook): CellFailure[] {
  const failures: CellFailure[] = [];
  const runnable = codeCells(notebook);
  for (const { cell, where } of runnable) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "stream" && output.name === "stderr") {
        failures.push({ ...where, kind: "stderr", text: cleanText(joinText(output.text)) });
      } else if (output.output_type === "error") {
        const traceback = (output.traceback ?? []).join("\n");
        failures.push({ ...where, kind: "error", text: cleanText(traceback || `${output.ename}: ${output.evalue}`) });
      }
    }
  }
  // nbconvert records no execution counts for tslab, so "not run" is read from the outputs: when
  // every cell after the last failure is without output, the kernel skipped them. (A warning on
  // stderr does not stop the run; then later cells have output and none is called skipped.)
  const lastFailure = failures.at(-1)?.cell;
  if (lastFailure !== undefined) {
    const after = runnable.filter(({ where }) => where.cell > lastFailure);
    if (after.every(({ cell }) => (cell.outputs ?? []).length === 0)) {
      for (const { where } of after) failures.push({ ...where, kind: "skipped", text: "" });
    }
  }
  return failures;
}

/** Code cells that Jupyter runs (it skips empty ones), with their positions for reports. */
function codeCells(notebook: Notebook): { cell: Cell; where: Pick<CellFailure, "cell" | "codeCell" | "firstLine"> }[] {
  const result: { cell: Cell; where: Pick<CellFailure, "cell" | "codeCell" | "firstLine"> }[] = [];
  let codeCell = 0;
  notebook.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    codeCell++;
    const source = joinText(cell.source);
    if (source.trim() !== "") result.push({ cell, where: { cell: index + 1, codeCell, firstLine: firstLine(source) } });
  });
  return result;
}

/**
 * Gives the cells that ran the execution counts nbconvert leaves empty with tslab, so the saved
 * notebook and its HTML show In [1], In [2]... like a notebook run by hand.
 */
function numberExecutedCells(notebook: Notebook, failures: CellFailure[]): void {
  const skipped = new Set(failures.filter((f) => f.kind === "skipped").map((f) => f.cell));
  let count = 0;
  for (const { cell, where } of codeCells(notebook)) {
    if (skipped.has(where.cell)) continue;
    cell.execution_count = ++count;
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "execute_result") output.execution_count = count;
    }
  }
}

/** A readable report: where each failure is, what the cell starts with, and what it printed. */
export function formatResult(result: NotebookResult): string {
  const lines: string[] = [];
  const status = result.ok ? "ok" : "FAILED";
  lines.push(`${result.notebook}: ${status} in ${result.seconds.toFixed(1)} s`);
  if (result.nbconvertError) lines.push(indent(result.nbconvertError, "    "));
  const skipped = result.failures.filter((f) => f.kind === "skipped");
  for (const failure of result.failures) {
    if (failure.kind === "skipped") continue;
    const label = failure.kind === "stderr" ? "wrote to stderr" : "raised an error";
    lines.push(`  cell ${failure.cell} (code cell ${failure.codeCell}) ${label}: ${failure.firstLine}`);
    lines.push(indent(limitLines(withoutKernelFrames(failure.text), 25), "    | "));
  }
  if (skipped.length > 0) {
    lines.push(`  not run after the failure: ${skipped.length > 1 ? "cells" : "cell"} ${ranges(skipped.map((f) => f.cell))}`);
  }
  return lines.join("\n");
}

/** `nbconvert --to html`; returns an error text or undefined. */
export async function exportHtml(executedPath: string, htmlDir: string = buildHtmlDir): Promise<string | undefined> {
  const { python, env } = prepareJupyter();
  fs.mkdirSync(htmlDir, { recursive: true });
  const run = await runProcess(python, ["-m", "nbconvert", "--to", "html", "--output-dir", htmlDir, executedPath], { env });
  return run.code === 0 ? undefined : `HTML export of ${displayPath(executedPath)} failed (exit ${run.code}):\n${tail(run.stderr, 20)}`;
}

// ---------------------------------------------------------------------------------------------
// helpers

interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; deadlineSeconds?: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-100_000); // a tail is all a report needs
    });
    let killTimer: NodeJS.Timeout | undefined;
    const deadline =
      options.deadlineSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            // SIGINT lets nbclient shut the kernel down; SIGKILL if it does not stop.
            child.kill("SIGINT");
            killTimer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          }, options.deadlineSeconds * 1000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      resolve({ code, signal, stderr, timedOut });
    });
  });
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

function firstLine(source: string): string {
  const line = source.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 100 ? line.slice(0, 97) + "..." : line.trim();
}

function cleanText(text: string): string {
  // Tracebacks may carry terminal colour codes.
  return text.replace(/\u001b\[[0-9;]*m/g, "").trimEnd();
}

/**
 * The exception at the end of a Python traceback (e.g. "nbclient.exceptions.DeadKernelError: Kernel
 * died", or a cell timeout with a preview of the cell); the frames above it are Jupyter's internals.
 */
function pythonError(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  let start = -1;
  lines.forEach((line, i) => {
    if (/^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b/.test(line)) start = i;
  });
  return start >= 0 ? lines.slice(start).join("\n") : tail(stderr, 30);
}

/** Stack frames inside tslab and node:vm say nothing about the notebook; drop them. */
function withoutKernelFrames(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s+at .*(node_modules[\\/]tslab[\\/]|\(node:vm:|sigintHandlersWrap)/.test(line))
    .join("\n");
}

/** [2, 3, 4, 7] -> "2-4, 7" */
function ranges(numbers: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j > i ? `${numbers[i]}-${numbers[j]}` : `${numbers[i]}`);
    i = j;
  }
  return parts.join(", ");
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function limitLines(text: string, max: number): string {
  const lines = text.split("\n");
  return lines.length <= max ? text : [...lines.slice(0, max), `... (${lines.length - max} more lines)`].join("\n");
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}

// ---------------------------------------------------------------------------------------------
// command line

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes("--quick");
  if (quick && argv.includes("--full")) throw new Error("Give either --quick or --full, not both.");
  const unknown = argv.filter((a) => a.startsWith("--") && a !== "--quick" && a !== "--full");
  if (unknown.length > 0) throw new Error(`Unknown option(s): ${unknown.join(" ")}. Usage: run-notebooks [--quick|--full] [notebook.ipynb ...]`);
  const given = argv.filter((a) => !a.startsWith("--"));
  const notebooks = given.length > 0 ? given : listNotebooks();
  if (notebooks.length === 0) {
    console.log(`No notebooks found in ${displayPath(notebooksDir)}.`);
    return 0;
  }
  if (!process.env.ZTH_DATA_MIRROR) console.log("note: ZTH_DATA_MIRROR is not set: notebooks use data/ or download the data sets.");

  const { python } = prepareJupyter();
  console.log(`Running ${notebooks.length} notebook(s) in ${quick ? "quick" : "full"} mode with ${python} -m nbconvert\n`);
  const results: NotebookResult[] = [];
  const htmlFailed = new Set<NotebookResult>();
  const htmlPages = new Map<string, NotebookResult>(); // page -> its notebook
  for (const notebook of notebooks) {
    const result = await executeNotebook(notebook, { quick });
    results.push(result);
    console.log(formatResult(result));
    if (!quick && fs.existsSync(result.outputPath)) {
      // HTML even for a failed notebook: the page shows where it went wrong.
      const started = Date.now();
      const error = await exportHtml(result.outputPath);
      if (error) {
        console.log(indent(error, "  "));
        htmlFailed.add(result);
      } else {
        const page = path.join(buildHtmlDir, path.basename(result.outputPath, ".ipynb") + ".html");
        htmlPages.set(page, result);
        console.log(`  html: ${displayPath(page)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
  }

  if (!quick && htmlPages.size > 0) {
    const chromium = findChromium();
    if (!chromium) {
      console.log("\nSkipping plot pictures and the browser check of build/html: no Chromium (set CHROMIUM or install chromium);"
        + " the notebooks work, but show no plot where scripts do not run.");
    } else {
      const browser = await launchBrowser(chromium);
      try {
        // Static pictures of the plots for untrusted notebooks and GitHub; this re-exports the HTML.
        console.log(`\nEmbedding plot pictures (for viewers without scripts), with ${chromium}`);
        for (const [page, result] of htmlPages) {
          const embedded = await embedPlotImages(result.outputPath, page, { browser, exportHtml });
          console.log(formatEmbedResult(embedded));
          if (!embedded.ok) htmlFailed.add(result);
        }
        const started = Date.now();
        console.log(`\nChecking ${htmlPages.size} HTML page(s) in ${chromium}`);
        const report = await checkHtml([...htmlPages.keys()], { browser });
        console.log(formatHtmlReport(report));
        console.log(`  browser check: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        for (const page of report.pages) {
          const result = htmlPages.get(page.file);
          if (!page.ok && result) htmlFailed.add(result);
        }
      } finally {
        await browser.close();
      }
    }
  }

  console.log("\nSummary");
  for (const r of results) {
    const status = !r.ok ? "FAILED" : htmlFailed.has(r) ? "HTML  " : "ok    ";
    console.log(`  ${status} ${r.seconds.toFixed(1).padStart(7)} s  ${r.notebook}`);
  }
  const total = results.reduce((sum, r) => sum + r.seconds, 0);
  console.log(`  total  ${total.toFixed(1).padStart(7)} s`);
  const failed = results.filter((r) => !r.ok || htmlFailed.has(r)).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

runMain(module, main);
