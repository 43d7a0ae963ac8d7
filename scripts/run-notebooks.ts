// Runs notebooks through the real tslab kernel (kernel-client.ts: Node only, no Python), cell by cell
// as Jupyter would, and fails loudly on any cell error or stderr output, also one that comes after its
// cell has ended (a promise the cell forgot to await, rejected later) or from an unreadable notebook.
//
//   tsx scripts/run-notebooks.ts [--quick] [notebooks/x.ipynb ...]     (--help for the usage)
//
// Executed notebooks go to build/notebooks/ (the course command, course.ts, then renders the site from
// them). While it runs, the terminal shows the notebook, the cell, the time and a long cell's live
// training progress; at the end a table with each notebook's time and key result (the last line a
// notebook prints that starts with "Result:").
import * as fs from "node:fs";
import * as path from "node:path";
import { type ExecutionResult, type Kernel, startKernel } from "./kernel-client";
import { type Cell, type Notebook, type Output, type RunInfo, joinText, readNotebook, runInfoKey, writeNotebook } from "./notebook-file";
import { filesIn, notebookArguments, notebooksDir, projectRoot, runMain } from "./cli";

export const buildNotebooksDir = path.join(projectRoot, "build", "notebooks");

/** After the last cell, how long a rejection the notebook forgot to await has to show before the kernel stops. */
const SETTLE_MS = 200;

export interface CellFailure {
  /** 1-based position among all cells, as a reader counts them in Jupyter. */
  cell: number;
  /** 1-based position among code cells only. */
  codeCell: number;
  /** First line of the cell's source, to recognise it. */
  firstLine: string;
  /** stderr: the cell wrote to stderr (tslab reports exceptions and type errors this way);
   *  error: a Jupyter error output, or the kernel said "error" without output; timeout: the cell ran
   *  too long and was interrupted; kernel: the kernel died; skipped: not run after a failure. */
  kind: "stderr" | "error" | "timeout" | "kernel" | "skipped";
  text: string;
}

export interface NotebookResult {
  notebook: string; // path as given, relative to the current folder when inside it
  ok: boolean;
  failures: CellFailure[];
  /** Set when the notebook could not be read or the kernel could not be started. */
  runError?: string;
  seconds: number;
  result?: string;
  outputPath: string;
}

export interface Progress {
  notebook: string;
  /** 1-based code cell being run, of `cells`; 0 while the kernel starts. */
  cell: number;
  cells: number;
  seconds: number;
  /** The latest text of a live display in this cell (e.g. the training progress line). */
  live?: string;
}

export interface ExecuteOptions {
  quick: boolean;
  outputDir?: string;
  /** The limit for one cell. */
  cellTimeoutSeconds?: number;
  /** The limit for the whole notebook, kernel start included. */
  deadlineSeconds?: number;
  onProgress?: (progress: Progress) => void;
  /** A kernel already starting for this notebook (startNotebookKernel): runNotebooks starts the next one early. */
  kernel?: Promise<Kernel>;
}

/** A kernel for this notebook: in its folder, so any relative path in a cell means what it means in Jupyter. */
export function startNotebookKernel(notebookPath: string, quick: boolean): Promise<Kernel> {
  return startKernel({ cwd: path.dirname(path.resolve(notebookPath)), env: kernelEnvironment(quick) });
}

/** notebooks/*.ipynb, sorted, so the course runs in lecture order. */
export function listNotebooks(dir: string = notebooksDir): string[] {
  return filesIn(dir, ".ipynb");
}

/**
 * The kernel's environment. ZTH_DATA_MIRROR may be given relative to the folder the command was run
 * in; the kernel runs in the notebook's folder, so it gets the absolute path.
 */
export function kernelEnvironment(quick: boolean, base: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): NodeJS.ProcessEnv {
  const env = { ...base };
  // A full run must not inherit a stray ZTH_QUICK from the shell.
  if (quick) env.ZTH_QUICK = "1";
  else delete env.ZTH_QUICK;
  const mirror = env.ZTH_DATA_MIRROR;
  if (mirror && !/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)) env.ZTH_DATA_MIRROR = path.resolve(cwd, mirror);
  return env;
}

/** Executes one notebook cell by cell and inspects every output. Never throws for notebook errors. */
export async function executeNotebook(notebookPath: string, options: ExecuteOptions): Promise<NotebookResult> {
  const input = path.resolve(notebookPath);
  const outputDir = path.resolve(options.outputDir ?? buildNotebooksDir);
  const outputPath = path.join(outputDir, path.basename(input));
  const shown = displayPath(input);
  fs.mkdirSync(outputDir, { recursive: true });
  // A stale result from an earlier run must never be mistaken for this run's.
  fs.rmSync(outputPath, { force: true });

  const started = Date.now();
  let notebook: Notebook;
  try {
    notebook = readNotebook(input);
  } catch (error) {
    void options.kernel?.then((unused) => unused.shutdown(), () => undefined); // started for nothing
    // Reported like any failed notebook, so the others still run and the summary names this one.
    return { notebook: shown, ok: false, failures: [], runError: (error as Error).message, seconds: (Date.now() - started) / 1000, outputPath };
  }
  const cells = codeCells(notebook);
  const deadline = options.deadlineSeconds === undefined ? Infinity : started + options.deadlineSeconds * 1000;
  const cellLimitMs = (options.cellTimeoutSeconds ?? (options.quick ? 600 : 3600)) * 1000;
  const runFailures: CellFailure[] = [];
  let runError: string | undefined;
  let kernel: Kernel | undefined;
  /** Each run cell's number of error outputs when it finished, to notice one that comes later. */
  const failuresShown = new Map<Cell, number>();
  for (const { cell } of cells) {
    cell.outputs = [];
    cell.execution_count = null;
  }
  // The progress is reported when a cell starts, when its live display changes, and every second
  // in between, so the elapsed time keeps moving through a long cell.
  let current = { cell: 0, live: undefined as string | undefined }; // 0: the kernel is starting
  const report = () => options.onProgress?.({ notebook: shown, cell: current.cell, cells: cells.length, seconds: (Date.now() - started) / 1000, live: current.live });
  const ticker = options.onProgress ? setInterval(report, 1000) : undefined;
  try {
    report();
    kernel = await (options.kernel ?? startNotebookKernel(input, options.quick));
    for (const [index, { cell, where }] of cells.entries()) {
      current = { cell: index + 1, live: undefined };
      report();
      const untilDeadline = deadline - Date.now();
      const byDeadline = untilDeadline < cellLimitMs;
      const timeoutMs = Math.max(1000, Math.min(cellLimitMs, untilDeadline));
      const run = await kernel.execute(joinText(cell.source), {
        timeoutMs,
        onOutput: (output, _event, displayId) => {
          // Only a display that updates in place (the training progress), not every table or plot.
          const live = displayId ? liveText(output) : undefined;
          if (live) {
            current.live = live;
            report();
          }
        },
      });
      recordExecution(cell, run);
      failuresShown.set(cell, failureOutputs(cell));
      const failure = executionFailure(run, cell, where, byDeadline ? `the notebook's deadline of ${options.deadlineSeconds} s` : `the limit of ${timeoutMs / 1000} s for one cell`);
      if (failure) runFailures.push(failure);
      // An earlier cell that reported an error after it ended (findFailures lists it) fails the notebook as well.
      const lateError = cells.slice(0, index).some((earlier) => failureOutputs(earlier.cell) > (failuresShown.get(earlier.cell) ?? 0));
      if (run.status !== "ok" || lateError) {
        // As Jupyter's "Run All": a failed cell stops the notebook.
        const notRun = cells.slice(index + 1);
        runFailures.push(...notRun.map(({ where }) => ({ ...where, kind: "skipped" as const, text: "" })));
        break;
      }
    }
    // A rejection the last cells forgot to await still gets the time to show (findFailures then lists it).
    await kernel.settle(SETTLE_MS);
  } catch (error) {
    runError = error instanceof Error ? error.message : String(error);
  } finally {
    clearInterval(ticker);
    await kernel?.shutdown();
  }

  const seconds = (Date.now() - started) / 1000;
  const failures = [...findFailures(notebook), ...runFailures].sort((a, b) => a.cell - b.cell);
  const ok = failures.length === 0 && runError === undefined;
  const result = resultLine(notebook);
  const info: RunInfo = { mode: options.quick ? "quick" : "full", ok, seconds, ...(result ? { result } : {}), finished: new Date().toISOString() };
  notebook.metadata[runInfoKey] = info;
  writeNotebook(outputPath, inNbformatLines(notebook));
  return { notebook: shown, ok, failures, ...(runError ? { runError } : {}), seconds, ...(result ? { result } : {}), outputPath };
}

/** The cell's outputs and execution count, and its timing as nbclient records it. */
function recordExecution(cell: Cell, run: ExecutionResult): void {
  cell.outputs = run.outputs;
  cell.execution_count = run.executionCount;
  for (const output of run.outputs) {
    if (output.output_type === "execute_result") output.execution_count = run.executionCount;
  }
  cell.metadata.execution = { "shell.execute_reply.started": run.started, "shell.execute_reply": run.finished };
}

/** What to report for a cell that did not end "ok", beyond its stderr and error outputs (findFailures reads those). */
function executionFailure(run: ExecutionResult, cell: Cell, where: Where, limit: string): CellFailure | undefined {
  switch (run.status) {
    case "ok":
      return undefined;
    case "timeout":
      return { ...where, kind: "timeout", text: `did not finish within ${limit}; it was interrupted.` };
    case "dead":
      return { ...where, kind: "kernel", text: run.error ?? "the kernel died" };
    default: {
      // A failed cell normally explains itself on stderr (findFailures reports that).
      const explained = (cell.outputs ?? []).some((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"));
      return explained ? undefined : { ...where, kind: "error", text: `the kernel answered "${run.status}" without an error message` };
    }
  }
}

/**
 * Every sign of trouble in a notebook's outputs. tslab reports a thrown exception or a type error
 * as stderr text (not as an `error` output). Any stderr counts: the notebooks keep stderr clean, so
 * a reader never sees red text that is not an error.
 */
export function findFailures(notebook: Notebook): CellFailure[] {
  const failures: CellFailure[] = [];
  for (const { cell, where } of codeCells(notebook)) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "stream" && output.name === "stderr") {
        failures.push({ ...where, kind: "stderr", text: cleanText(joinText(output.text)) });
      } else if (output.output_type === "error") {
        const traceback = (output.traceback ?? []).join("\n");
        failures.push({ ...where, kind: "error", text: cleanText(traceback || `${output.ename}: ${output.evalue}`) });
      }
    }
  }
  return failures;
}

/** How many outputs of `cell` are stderr or errors. */
function failureOutputs(cell: Cell): number {
  return (cell.outputs ?? []).filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr")).length;
}

/** The last line the notebook printed that starts with "Result:", without that word. */
export function resultLine(notebook: Notebook): string | undefined {
  let result: string | undefined;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const text = output.output_type === "stream" && output.name === "stdout" ? joinText(output.text)
        : output.output_type === "execute_result" ? joinText((output.data as Record<string, string | string[]> | undefined)?.["text/plain"])
        : "";
      for (const line of text.split("\n")) if (line.startsWith("Result:")) result = line.slice("Result:".length).trim();
    }
  }
  return result;
}

/**
 * The text of a live display (training progress): its text/plain, else the text that LiveDisplay puts
 * beside its HTML (`data-live-text`, also for a live plot), else the HTML's text up to any picture.
 */
export function liveText(output: Output): string | undefined {
  if (output.output_type !== "display_data") return undefined;
  const data = (output.data ?? {}) as Record<string, string | string[]>;
  const plain = joinText(data["text/plain"]);
  if (plain) return plain.trim().split("\n").at(-1);
  const html = joinText(data["text/html"]);
  const marked = /^\s*<div data-live-text="([^"]*)">/.exec(html);
  if (marked) return unescapeHtml(marked[1]) || undefined;
  if (!html || html.includes("zth-plot")) return undefined; // a plot, not a progress line
  const text = unescapeHtml(html.replace(/<(svg|script|style)\b[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim();
  return text || undefined;
}

function unescapeHtml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

type Where = Pick<CellFailure, "cell" | "codeCell" | "firstLine">;

/** Code cells that Jupyter runs (it skips empty ones), with their positions for reports. */
function codeCells(notebook: Notebook): { cell: Cell; where: Where }[] {
  const result: { cell: Cell; where: Where }[] = [];
  let codeCell = 0;
  notebook.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    codeCell++;
    const source = joinText(cell.source);
    if (source.trim() !== "") result.push({ cell, where: { cell: index + 1, codeCell, firstLine: firstLine(source) } });
  });
  return result;
}

/** nbformat's on-disk form: sources, streams and text mime data as lists of lines. */
function inNbformatLines(notebook: Notebook): Notebook {
  const lines = (text: string | string[] | undefined) => (typeof text === "string" ? text.match(/[^\n]*\n|[^\n]+$/g) ?? [] : text);
  for (const cell of notebook.cells) {
    cell.source = lines(cell.source) ?? [];
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "stream") output.text = lines(output.text);
      const data = output.data as Record<string, unknown> | undefined;
      for (const [type, value] of Object.entries(data ?? {})) {
        if (typeof value === "string" && (type.startsWith("text/") || type === "image/svg+xml" || type === "application/javascript")) data![type] = lines(value);
      }
    }
  }
  return notebook;
}

// ---------------------------------------------------------------------------------------------
// reports

/** A readable report: where each failure is, what the cell starts with, and what it printed. */
export function formatResult(result: NotebookResult): string {
  const lines: string[] = [];
  lines.push(`${result.notebook}: ${result.ok ? "ok" : "FAILED"} in ${result.seconds.toFixed(1)} s${result.result ? ` | Result: ${result.result}` : ""}`);
  if (result.runError) lines.push(indent(result.runError, "    "));
  const skipped = result.failures.filter((f) => f.kind === "skipped");
  const labels = { stderr: "wrote to stderr", error: "raised an error", timeout: "timed out", kernel: "lost its kernel" };
  for (const failure of result.failures) {
    if (failure.kind === "skipped") continue;
    lines.push(`  cell ${failure.cell} (code cell ${failure.codeCell}) ${labels[failure.kind]}: ${failure.firstLine}`);
    lines.push(indent(limitLines(withoutKernelFrames(failure.text), 25), "    | "));
  }
  if (skipped.length > 0) {
    lines.push(`  not run after the failure: ${skipped.length > 1 ? "cells" : "cell"} ${ranges(skipped.map((f) => f.cell))}`);
  }
  return lines.join("\n");
}

/** The closing table: notebook, status, seconds, key result. */
export function formatSummary(rows: { notebook: string; status: string; seconds: number; result?: string }[]): string {
  const name = Math.max(8, ...rows.map((r) => r.notebook.length));
  const lines = [`${"notebook".padEnd(name)}  status  seconds  result`];
  for (const r of rows) lines.push(`${r.notebook.padEnd(name)}  ${r.status.padEnd(6)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.result ?? ""}`);
  const total = rows.reduce((sum, r) => sum + r.seconds, 0);
  lines.push(`${"total".padEnd(name)}          ${total.toFixed(1).padStart(7)}`);
  return lines.join("\n");
}

/**
 * One status line in the terminal. On a terminal it is redrawn in place (at most 10 times a
 * second); in a log (CI) it is printed at most every 30 s, so a long cell still shows it is alive.
 */
export class StatusLine {
  private last = 0;
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  update(text: string): void {
    const now = Date.now();
    if (this.stream.isTTY) {
      if (now - this.last < 100) return;
      const width = (this.stream.columns || 100) - 1;
      this.stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + "…" : text}`);
      this.shown = true;
    } else {
      if (now - this.last < 30_000) return;
      this.stream.write(`  ... ${text}\n`);
    }
    this.last = now;
  }

  /** Call before printing anything else. */
  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
    this.last = 0;
  }
}

export function describeProgress(progress: Progress): string {
  const live = progress.live ? ` | ${progress.live}` : "";
  const where = progress.cell === 0 ? "starting the kernel" : `cell ${progress.cell}/${progress.cells}`;
  return `${path.basename(progress.notebook)}  ${where}  ${progress.seconds.toFixed(0)} s${live}`;
}

/** Runs the notebooks one after another with a live status line and reports each; returns their results. */
export async function runNotebooks(notebooks: string[], options: { quick: boolean; outputDir?: string }): Promise<NotebookResult[]> {
  if (!process.env.ZTH_DATA_MIRROR) console.log("note: ZTH_DATA_MIRROR is not set: notebooks use data/ or download the data sets.");
  console.log(`Running ${notebooks.length} notebook(s) in ${options.quick ? "quick" : "full"} mode through the tslab kernel\n`);
  const status = new StatusLine();
  const results: NotebookResult[] = [];
  // Each notebook's kernel starts while the one before runs (a few seconds each, on the second core),
  // so the course does not wait for it: a notebook's time counts only what is left of its kernel's start.
  let kernel = notebooks.length > 0 ? startNotebookKernel(notebooks[0], options.quick) : undefined;
  kernel?.catch(() => undefined); // a kernel that cannot start is reported by the notebook that needs it
  for (const [index, notebook] of notebooks.entries()) {
    const mine = kernel;
    kernel = index + 1 < notebooks.length ? startNotebookKernel(notebooks[index + 1], options.quick) : undefined;
    kernel?.catch(() => undefined);
    const result = await executeNotebook(notebook, { ...options, kernel: mine, onProgress: (p) => status.update(describeProgress(p)) });
    status.clear();
    console.log(formatResult(result));
    results.push(result);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// helpers

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

/** Stack frames inside tslab, commander and node:vm say nothing about the notebook; drop them. */
function withoutKernelFrames(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s+at .*(node_modules[\\/](tslab|commander)[\\/]|\(node:vm:|sigintHandlersWrap)/.test(line))
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

function limitLines(text: string, max: number): string {
  const lines = text.split("\n");
  return lines.length <= max ? text : [...lines.slice(0, max), `... (${lines.length - max} more lines)`].join("\n");
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}

// ---------------------------------------------------------------------------------------------
// command line

const usage = `Usage: npx tsx scripts/run-notebooks.ts [--quick] [notebook.ipynb ...]
Runs the notebooks (by default every notebooks/*.ipynb, in lecture order) through the tslab kernel,
cell by cell, writes the executed notebooks to build/notebooks/ and ends with a table of each one's
time and key result. Exits 1 when a notebook failed.
  --quick   shortened training (ZTH_QUICK=1), as the tests run them
  --help    this text
Environment: ZTH_DATA_MIRROR, a folder or URL holding the data sets (else data/ or a download).`;

async function main(argv: string[]): Promise<number> {
  const args = notebookArguments(argv, usage);
  if (!args) return 0;
  const { quick } = args;
  const notebooks = args.notebooks.length > 0 ? args.notebooks : listNotebooks();
  if (notebooks.length === 0) {
    console.log(`No notebooks found in ${displayPath(notebooksDir)}.`);
    return 0;
  }
  const results = await runNotebooks(notebooks, { quick });
  console.log("\n" + formatSummary(results.map((r) => ({ notebook: path.basename(r.notebook), status: r.ok ? "ok" : "FAILED", seconds: r.seconds, result: r.result }))));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

runMain(module, main);
