// Every lecture 00-05 top to bottom in quick mode on its live page in headless Chromium, its `Result:`
// line compared with the same notebook's quick run in Node (the runner's executed notebook, which
// records its Result line; the site is built from those executed notebooks). Same seeds, same WASM
// engine: the numbers agree exactly (measured: see README, Live mode), and the test asserts that,
// number by number, printing each page's time and every difference; and that every other line Node
// printed is on the page too (times, speeds and checkpoint folders aside). Its name sorts it after
// notebooks.test.ts, whose quick runs (build/test-notebooks/) it reuses when they are fresh.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { findChromium, noChromiumHint } from "../scripts/browser";
import { notebooksDir, projectRoot } from "../scripts/cli";
import { type Notebook, type RunInfo, joinText, readNotebook, runInfoKey } from "../scripts/notebook-file";
import { executeNotebook, resultLine } from "../scripts/run-notebooks";
import { type LiveSite, minutes, openLive, outputsText, runAll, startLiveSite } from "./live-browser";

const chromium = findChromium();
const noBrowser = chromium ? false : `no Chromium, so the lectures' live pages are not compared with Node: ${noChromiumHint}`;
const lectures = ["00-micrograd", "01-bigram", "02-simple-nn", "03-mlp", "04-init-batchnorm", "05-gpt"];
/** Largest difference allowed between a number of the page's Result line and Node's. */
const tolerance = 0;
const nodeRuns = [path.join(projectRoot, "build", "test-notebooks"), path.join(projectRoot, "build", "notebooks")];
let site: LiveSite;
const nodeNotebooks = new Map<string, Notebook>();

/** The newest change to the library's sources that Node runs (lib/browser/ is the browser's only). */
function libraryChanged(dir = path.join(projectRoot, "lib")): number {
  return Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["dist", "browser", "node_modules"].includes(entry.name) ? 0 : libraryChanged(file);
    return entry.name.endsWith(".ts") ? fs.statSync(file).mtimeMs : 0;
  }));
}

/** A quick run of `lecture` in Node newer than its notebook and the library's sources, if the runner left one. */
function recordedRun(lecture: string): string | undefined {
  const source = path.join(notebooksDir, `${lecture}.ipynb`);
  const newest = Math.max(fs.statSync(source).mtimeMs, libraryChanged());
  return nodeRuns.map((dir) => path.join(dir, `${lecture}.ipynb`)).find((file) => {
    if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < newest) return false;
    const info = readNotebook(file).metadata[runInfoKey] as RunInfo | undefined;
    return info?.mode === "quick" && info.ok && info.result !== undefined;
  });
}

before(async () => {
  if (noBrowser) return;
  const executed: string[] = [];
  for (const lecture of lectures) {
    let file = recordedRun(lecture);
    if (!file) {
      const run = await executeNotebook(path.join(notebooksDir, `${lecture}.ipynb`), { quick: true, outputDir: nodeRuns[0], deadlineSeconds: 9.5 * 60 });
      assert.ok(run.ok && run.result, `${lecture} failed in Node's quick run: fix that first (npx tsx scripts/run-notebooks.ts --quick notebooks/${lecture}.ipynb)`);
      file = run.outputPath;
    }
    nodeNotebooks.set(lecture, readNotebook(file));
    executed.push(file);
  }
  site = await startLiveSite(executed, chromium);
});

after(async () => {
  await site?.close();
  assert.deepEqual(site?.outside ?? [], [], "requests outside the site");
});

/** Lines that depend on the machine or the moment (times, speeds, the engine line, where the data came from), left out of the comparison. */
const machineDependent = /\d\s*(s|ms|min|seconds?|steps\/s|GFLOP\/s|MB)\b|Engine:|Node v|Chromium|took|elapsed|^(copied|downloaded) /i;

/** Notebook 05's checkpoint errors: they name a fresh temporary folder, and live mode's say where it keeps checkpoints. */
const checkpointMessage = /checkpoint|^\s*config\.|^Delete /i;

/** Every line a notebook's cells printed (stdout and last values), in order; a line may come in several stream outputs. */
function printedLines(notebook: Notebook): string[] {
  return notebook.cells.flatMap((cell) => (cell.outputs ?? []).map((output) =>
    output.output_type === "stream" && output.name === "stdout" ? joinText(output.text)
      : output.output_type === "execute_result" ? joinText((output.data as Record<string, string | string[]> | undefined)?.["text/plain"]) + "\n" : "")
    .join("").split("\n"))
    .filter((line) => line.trim() !== "");
}

const numbers = (line: string) => [...line.matchAll(/-?\d[\d,]*(\.\d+)?/g)].map((m) => Number(m[0].replace(/,/g, "")));
const template = (line: string) => line.replace(/-?\d[\d,]*(\.\d+)?/g, "#");

for (const lecture of lectures) {
  test(`lecture ${lecture}'s live page: Run all in quick mode prints Node's Result line`, { skip: noBrowser, timeout: 15 * minutes }, async (t) => {
    const page = await openLive(site, `${lecture}.html`);
    const started = Date.now();
    const status = await runAll(page, 14 * minutes);
    const seconds = (Date.now() - started) / 1000;
    const text = await outputsText(page);
    await page.close();
    assert.equal(status, "Done.", `Run all ended with "${status}":\n${text.slice(-2000)}`);
    const browserLines = text.split("\n").filter((line) => line.startsWith("Result:"));
    const browser = browserLines.at(-1)?.slice("Result:".length).trim();
    const node = resultLine(nodeNotebooks.get(lecture)!)!;
    assert.ok(browser, `no Result line on the page:\n${text.slice(-2000)}`);
    const differences = numbers(browser).map((value, i) => Math.abs(value - numbers(node)[i]));
    // Node's console.log lays arrays out over several lines where the page's uses one: compare without whitespace.
    const squeeze = (line: string) => line.replace(/\s+/g, "");
    const shown = squeeze(text);
    const compared = printedLines(nodeNotebooks.get(lecture)!).filter((line) => !machineDependent.test(line));
    const differing = compared.filter((line) => !shown.includes(squeeze(line)));
    const unexplained = differing.filter((line) => !checkpointMessage.test(line));
    t.diagnostic(`${lecture}: ${compared.length - differing.length} of ${compared.length} lines Node printed (times and speeds left out) appear on the page, whitespace aside${differing.length ? `; not: ${differing.slice(0, 5).map((l) => JSON.stringify(l)).join(", ")}` : ""}`);
    t.diagnostic(`${lecture}: Run all ${seconds.toFixed(1)} s | Chromium: ${browser} | Node: ${node} | largest difference ${Math.max(0, ...differences)}`);
    assert.equal(template(browser), template(node), "the same Result line apart from its numbers");
    assert.ok(differences.every((d) => d <= tolerance), `differences ${differences.join(", ")} above ${tolerance}`);
    assert.deepEqual(unexplained, [], "every other line Node printed is on the page too");
  });
}
