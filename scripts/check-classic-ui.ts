// Opens notebooks in the classic Jupyter Notebook UI (Notebook 6) in headless Chromium, as a learner
// would, and checks that every plot is shown: either drawn by plotly or, where the page strips
// scripts (an untrusted notebook), as the PNG picture that embed-plot-images.ts put in its place.
//
//   tsx scripts/check-classic-ui.ts [--no-run] [--dir DIR] [x.ipynb ...]
//
//   default       runs every cell (Cell > Run All) of each notebook in notebooks/ (ZTH_QUICK=1 unless
//                 ZTH_QUICK is set), waits for the kernel, then counts the plots drawn
//   --no-run      only opens the notebooks and looks at their stored outputs (e.g. --dir build/notebooks)
//   --dir DIR     the folder the server serves (default notebooks/); notebooks are named relative to it
//
// The notebooks are never written: the page's save, autosave and checkpoint requests are refused
// (and reported), and the files' hashes are compared before and after. The server runs on
// 127.0.0.1 on a free port without a token, and is stopped (with its kernels) at the end.
// Screenshots of each plot go to build/screenshots/classic/.
// Offline, pass ZTH_DATA_MIRROR through the environment. Jupyter keeps which notebooks are trusted
// in JUPYTER_DATA_DIR (nbsignatures.db); point it at a scratch folder for a repeatable trust check.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "./browser";
import { prepareJupyter } from "./kernel";
import { notebooksDir, projectRoot, runMain } from "./cli";

export const classicScreenshotDir = path.join(projectRoot, "build", "screenshots", "classic");

export interface PlotState {
  /** The trace type plotly drew (e.g. "heatmap"), when it drew one. */
  drawnType?: string;
  /** A picture shown in the plot's place (the PNG fallback) and whether it loaded. */
  image?: { loaded: boolean; width: number; height: number };
  /** Text left in the plot's place (the grey note, or "plotly.js is not loaded..."). */
  text?: string;
  screenshot?: string;
}

export interface ClassicReport {
  notebook: string;
  ran: boolean;
  trusted: boolean;
  codeCells: number;
  executedCells: number;
  plotContainers: number; // <div class="zth-plot"> in the page (the sanitizer of an untrusted page may drop the class)
  drawn: number; // of those, drawn by plotly
  images: number; // <img> shown in output areas that carry a data:image/png (the fallback pictures)
  imagesLoaded: number;
  plots: PlotState[];
  cellProblems: string[]; // stderr or error outputs, per cell
  pageErrors: string[];
  consoleErrors: string[];
  refusedWrites: string[]; // save/checkpoint requests the page made and we refused
  seconds: number;
  ok: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface ClassicServer {
  url: string;
  process: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts `python -m notebook` serving `dir`, with this project's kernelspec, and waits until it answers. */
export async function startClassicServer(dir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<ClassicServer> {
  const { python, env } = prepareJupyter();
  const port = await freePort();
  const args = ["-m", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0",
    "--NotebookApp.token=", "--NotebookApp.password=", `--notebook-dir=${dir}`];
  if (process.getuid?.() === 0) args.push("--allow-root");
  const child = spawn(python, args, { cwd: dir, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Jupyter Notebook exited (${child.exitCode}):\n${log}`);
    try {
      const response = await fetch(`${url}/api/status`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`Jupyter Notebook did not answer on ${url} within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = async (): Promise<void> => {
    // Shut the kernels down first, then the server (it would also clean up on SIGTERM).
    try {
      const sessions = (await (await fetch(`${url}/api/sessions`)).json()) as { id: string }[];
      for (const s of sessions) await fetch(`${url}/api/sessions/${s.id}`, { method: "DELETE" });
    } catch {
      // the server may already be gone
    }
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url, process: child, log: () => log, stop };
}

function hashFile(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Opens one notebook (path relative to the served folder), optionally runs it, and reports. */
export async function checkNotebookInClassicUi(
  browser: Browser,
  server: ClassicServer,
  notebook: string,
  options: { run: boolean; runTimeoutMs?: number; screenshots?: boolean },
): Promise<ClassicReport> {
  const started = Date.now();
  const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const refusedWrites: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  // Never let the page write the notebook: saves (PUT), checkpoints (POST), renames (PATCH), deletes.
  await page.route(/\/api\/contents\//, (route) => {
    const method = route.request().method();
    if (method === "GET") return route.continue();
    refusedWrites.push(`${method} ${new URL(route.request().url()).pathname}`);
    return route.abort();
  });
  // Anything outside the local server: refused at once (the page must work offline).
  await page.route((url) => !url.href.startsWith(server.url), (route) => route.abort());

  const notebookUrl = `${server.url}/notebooks/${notebook.split("/").map(encodeURIComponent).join("/")}`;
  await page.goto(notebookUrl, { waitUntil: "load" });
  await page.waitForFunction(() => {
    const J = (window as any).Jupyter;
    return !!(J && J.notebook && J.notebook._fully_loaded);
  }, undefined, { timeout: 60_000 }).catch(() => { throw new Error(`${notebook}: the page did not load within 60 s`); });
  await page.evaluate(() => (window as any).Jupyter.notebook.set_autosave_interval(0));
  const trusted = await page.evaluate(() => (window as any).Jupyter.notebook.trusted === true);

  if (options.run) {
    // Wait for the kernel, then Cell > Run All, then until no cell is queued or running.
    await page.waitForFunction(() => {
      const k = (window as any).Jupyter.notebook.kernel;
      return !!(k && k.is_connected && k.is_connected() && k.info_reply && k.info_reply.protocol_version);
    }, undefined, { timeout: 90_000 }).catch(() => { throw new Error(`${notebook}: the kernel did not start within 90 s`); });
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await page.waitForFunction(
      () => (window as any).Jupyter.notebook.get_cells().every((c: any) => c.cell_type !== "code" || c.input_prompt_number !== "*"),
      undefined,
      { timeout: options.runTimeoutMs ?? 600_000, polling: 500 },
    );
  }

  // Plotly draws asynchronously (each plot's script polls for window.Plotly): give it up to 15 s.
  await page
    .waitForFunction(
      () => Array.from(document.querySelectorAll(".zth-plot")).every((d) => d.querySelector(".main-svg")),
      undefined,
      { timeout: 15_000 },
    )
    .catch(() => undefined);

  interface CellInfo {
    index: number;
    type: string;
    prompt: number | string | null | undefined;
    firstLine: string;
    outputs: { type: string; name?: string; text: string }[];
  }
  const cells: CellInfo[] = await page.evaluate(() =>
    (window as any).Jupyter.notebook.get_cells().map((c: any, i: number) => ({
      index: i + 1,
      type: c.cell_type as string,
      prompt: c.input_prompt_number as number | string | null | undefined,
      firstLine: String(c.get_text()).split("\n")[0].slice(0, 70),
      outputs: c.cell_type === "code"
        ? c.output_area.outputs.map((o: any) => ({
            type: o.output_type as string,
            name: o.name as string | undefined,
            text: o.output_type === "stream" ? String(o.text).slice(0, 400)
              : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : "",
          }))
        : [],
    })),
  );
  const codeCells = cells.filter((c) => c.type === "code");
  const executedCells = codeCells.filter((c) => typeof c.prompt === "number").length;
  const cellProblems: string[] = [];
  for (const c of codeCells) {
    for (const o of c.outputs) {
      if ((o.type === "stream" && o.name === "stderr") || o.type === "error") {
        cellProblems.push(`cell ${c.index} (${c.firstLine}): ${o.type === "error" ? "error" : "stderr"}: ${o.text.trim()}`);
      }
    }
    if (options.run && typeof c.prompt !== "number") cellProblems.push(`cell ${c.index} (${c.firstLine}): not executed`);
  }

  const plots: PlotState[] = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>(".zth-plot")).map((div) => {
      const state: { drawnType?: string; image?: { loaded: boolean; width: number; height: number }; text?: string } = {};
      const data = (div as any).data as { type?: string }[] | undefined;
      if (div.querySelector(".main-svg")) state.drawnType = data?.[0]?.type ?? "?";
      const img = div.querySelector("img");
      if (img) state.image = { loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth, height: img.naturalHeight };
      if (!state.drawnType && !img) state.text = (div.textContent ?? "").trim().slice(0, 160);
      return state;
    }),
  );
  // The fallback pictures, wherever they are (an untrusted page's sanitizer may drop the plot's class).
  const imageStates = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLImageElement>(".output_html img")).filter((img) => img.src.startsWith("data:image/png"))
      .map((img) => img.complete && img.naturalWidth > 0),
  );

  const name = path.basename(notebook, ".ipynb");
  if (options.screenshots ?? true) {
    fs.mkdirSync(classicScreenshotDir, { recursive: true });
    const suffix = options.run ? "run" : trusted ? "trusted" : "untrusted";
    const divs = page.locator(".zth-plot");
    const count = await divs.count();
    if (count > 0) {
      for (let i = 0; i < count; i++) {
        const file = path.join(classicScreenshotDir, `${name}-${suffix}-plot${i + 1}.png`);
        await divs.nth(i).scrollIntoViewIfNeeded();
        await divs.nth(i).screenshot({ path: file }).then(() => (plots[i].screenshot = file), () => undefined);
      }
    } else {
      // No plot containers (an untrusted page without class attributes): shoot the output areas holding pictures.
      const imgs = page.locator(".output_html img[src^='data:image/png']");
      const n = await imgs.count();
      for (let i = 0; i < n; i++) {
        const file = path.join(classicScreenshotDir, `${name}-${suffix}-image${i + 1}.png`);
        await imgs.nth(i).scrollIntoViewIfNeeded();
        await imgs.nth(i).screenshot({ path: file }).catch(() => undefined);
      }
    }
  }
  await page.close(); // without saving; beforeunload handlers are not run

  const drawn = plots.filter((p) => p.drawnType).length;
  const imagesLoaded = imageStates.filter(Boolean).length;
  // Every plot is visible: drawn, or its picture loaded. Where scripts cannot run, count the pictures.
  const visible = plots.length > 0 ? plots.every((p) => p.drawnType || p.image?.loaded) : imageStates.length === imagesLoaded;
  const ok = visible && pageErrors.length === 0 && cellProblems.length === 0 && refusedWrites.length === 0 &&
    (!options.run || executedCells === codeCells.length);
  return {
    notebook, ran: options.run, trusted, codeCells: codeCells.length, executedCells, plotContainers: plots.length, drawn,
    images: imageStates.length, imagesLoaded, plots, cellProblems, pageErrors, consoleErrors, refusedWrites,
    seconds: (Date.now() - started) / 1000, ok,
  };
}

export function formatClassicReport(r: ClassicReport): string {
  const lines = [
    `${r.ok ? "ok    " : "FAILED"} ${r.notebook}${r.ran ? ` (ran ${r.executedCells}/${r.codeCells} code cells)` : " (not run)"}, ${r.trusted ? "trusted" : "not trusted"} at load: ` +
      `${r.drawn}/${r.plotContainers} plots drawn, ${r.imagesLoaded}/${r.images} PNG pictures shown, ${r.pageErrors.length} page error(s) (${r.seconds.toFixed(1)} s)`,
  ];
  r.plots.forEach((p, i) => {
    const what = p.drawnType ? `drawn (${p.drawnType})` : p.image ? `picture ${p.image.loaded ? `${p.image.width}x${p.image.height}` : "NOT LOADED"}` : `NOT DRAWN: "${p.text}"`;
    lines.push(`         plot ${i + 1}: ${what}${p.screenshot ? `  ${path.relative(process.cwd(), p.screenshot)}` : ""}`);
  });
  for (const e of r.cellProblems) lines.push(`         ${e}`);
  for (const e of r.pageErrors) lines.push(`         page error: ${e}`);
  for (const e of r.refusedWrites) lines.push(`         refused write: ${e}`);
  for (const e of r.consoleErrors) lines.push(`         (console: ${e})`);
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  let run = true;
  let dir = notebooksDir;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--no-run") run = false;
    else if (argv[i] === "--dir") dir = path.resolve(argv[++i]);
    else names.push(argv[i]);
  }
  const notebooks = (names.length > 0 ? names : fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort())
    .map((n) => (path.isAbsolute(n) ? path.relative(dir, n) : fs.existsSync(path.join(dir, n)) ? n : path.relative(dir, path.resolve(n))));
  for (const n of notebooks) {
    if (n.startsWith("..") || !fs.existsSync(path.join(dir, n))) throw new Error(`${n} is not a notebook inside ${dir}`);
  }
  const before = new Map(notebooks.map((n) => [n, hashFile(path.join(dir, n))]));
  // The server creates an (empty) .ipynb_checkpoints/ beside a notebook it opens: remove it afterwards if it is ours.
  const checkpointDirs = [...new Set(notebooks.map((n) => path.join(dir, path.dirname(n), ".ipynb_checkpoints")))].filter((d) => !fs.existsSync(d));
  const server = await startClassicServer(dir, process.env.ZTH_QUICK === undefined ? { ZTH_QUICK: "1" } : {});
  console.log(`Classic Notebook on ${server.url}, serving ${path.relative(process.cwd(), dir) || "."}`);
  const browser = await launchBrowser();
  let ok = true;
  try {
    for (const n of notebooks) {
      const report = await checkNotebookInClassicUi(browser, server, n, { run });
      console.log(formatClassicReport(report));
      ok &&= report.ok;
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  for (const d of checkpointDirs) {
    if (fs.existsSync(d) && fs.readdirSync(d).length === 0) fs.rmdirSync(d);
  }
  for (const n of notebooks) {
    if (hashFile(path.join(dir, n)) !== before.get(n)) {
      console.log(`FAILED ${n} was modified on disk during the check`);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

runMain(module, main);
