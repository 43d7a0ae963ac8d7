// Live mode (scripts/build-live.ts, scripts/live/, lib/browser/) in real headless Chromium, on a site
// built here from the lecture notebooks and a small one of its own, served on 127.0.0.1: Run all on
// 01 gives the lecture's NLL, 03 trains in quick mode with the live line, Stop ends a training cell, a
// compile error shows in its cell with the line, a type error stops its cell from running, WebGL runs
// lecture 01 where the reader picks it, nothing is fetched from outside the site, and a page
// opened from disk says live mode needs a server and keeps its outputs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { findChromium, noChromiumHint } from "../scripts/browser";
import { checkSite } from "../scripts/check-site";
import { notebooksDir, projectRoot } from "../scripts/cli";
import { type Notebook, writeNotebook } from "../scripts/notebook-file";
import { type LiveSite, minutes, openLive as openOnSite, outputsText, runAll, startLiveSite } from "./live-browser";

const chromium = findChromium();
const noBrowser = chromium ? false : `no Chromium, so live mode is not tested: ${noChromiumHint}`;
const tmp = path.join(projectRoot, "build", "tmp");
let notebookDir: string;
let site: LiveSite;

const code = (source: string, i: number) => ({ cell_type: "code" as const, id: `c${i}`, metadata: {}, execution_count: i, outputs: [], source: source });

function smallNotebook(title: string, last: string): Notebook {
  return {
    cells: [
      { cell_type: "markdown", id: "m", metadata: {}, source: `# Live mode check\n\nA page with ${title}.` },
      code(`import { initEngine, describeEngine } from "zero-to-hero";\nconsole.log(describeEngine(await initEngine()));`, 1),
      code(`const answer: number = 6 * 7;\nanswer`, 2),
      code(last, 3),
      code(`console.log("after");`, 4),
    ],
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

before(async () => {
  if (noBrowser) return;
  fs.mkdirSync(tmp, { recursive: true });
  notebookDir = fs.mkdtempSync(path.join(tmp, "live-notebook-"));
  const small = path.join(notebookDir, "99-live-check.ipynb");
  writeNotebook(small, smallNotebook("a compile error", `console.log("before");
const broken: number = (1 + ;`));
  const typed = path.join(notebookDir, "98-type-check.ipynb");
  writeNotebook(typed, smallNotebook("a type error", `console.log("ran");
const n: number = "a";`));
  const notebooks = ["01-bigram.ipynb", "03-mlp.ipynb"].map((file) => path.join(notebooksDir, file));
  site = await startLiveSite([...notebooks, small, typed], chromium);
});

after(async () => {
  await site?.close();
  if (notebookDir) fs.rmSync(notebookDir, { recursive: true, force: true });
  assert.deepEqual(site?.outside ?? [], [], "requests outside the site");
});

const openLive = (file: string) => openOnSite(site, file);

test("Run all on lecture 01's page: the engine line names the browser, and the count model's NLL is 2.4540", { skip: noBrowser, timeout: 5 * minutes }, async () => {
  const page = await openLive("01-bigram.html");
  assert.equal(await runAll(page, 4 * minutes), "Done.");
  const text = await outputsText(page);
  assert.match(text, /Engine: wasm \(SIMD, 1 thread\) \| TensorFlow\.js 4\.22\.0 \| Chromium \d+/);
  assert.match(text, /Result: count model NLL 2\.4540/);
  assert.equal(await page.locator(".cell.failed").count(), 0);
  await page.close();
});

test("lecture 03's page in quick mode trains with the live line and its plot, and prints its result", { skip: noBrowser, timeout: 8 * minutes }, async () => {
  const page = await openLive("03-mlp.html");
  let sawLiveLine = false;
  page.on("console", () => undefined);
  const watch = setInterval(() => {
    void page.evaluate(() => !!document.querySelector(".cell.running [data-live-text]")).then((seen) => { sawLiveLine ||= seen; }, () => undefined);
  }, 200);
  try {
    assert.equal(await runAll(page, 7 * minutes), "Done.");
  } finally {
    clearInterval(watch);
  }
  assert.ok(sawLiveLine, "a running cell showed the live training line");
  const text = await outputsText(page);
  assert.match(text, /train: 2,000 steps in .* \| loss \d\.\d{4}/);
  assert.match(text, /Result: dev \d\.\d{4} \(lecture settings\)/);
  assert.ok((await page.locator(".outputs .zth-plot .main-svg").count()) > 0, "plots drawn by plotly");
  await page.close();
});

test("Stop ends a training cell after its current step; the cell finishes normally", { skip: noBrowser, timeout: 5 * minutes }, async () => {
  const page = await openLive("03-mlp.html");
  await page.selectOption(".live-mode", "full");
  await page.click(".live-run-all");
  // The first training cell in full mode runs far longer than this test: Stop as soon as its line shows.
  await page.waitForSelector(".cell.running [data-live-text]", { timeout: 4 * minutes });
  const running = page.locator(".cell.running");
  await page.click(".live-stop");
  await page.waitForFunction(() => /^(Done|Stopped)/.test(document.querySelector(".live-status")?.textContent ?? ""), undefined, { timeout: minutes });
  const stoppedCell = await running.count();
  assert.equal(stoppedCell, 0, "no cell runs after Stop");
  const text = await outputsText(page);
  assert.match(text, /stopped/i);
  await page.close();
});

test("a compile error shows in its cell with the line; the cells before it keep their outputs", { skip: noBrowser, timeout: 2 * minutes }, async () => {
  const page = await openLive("99-live-check.html");
  assert.match(await runAll(page, minutes), /^Stopped at an error/);
  const failed = page.locator(".cell.failed .outputs");
  assert.equal(await failed.count(), 1);
  assert.match(await failed.innerText(), /Compile error \(TypeScript\):\nline 2, column \d+: Expression expected/);
  assert.match(await outputsText(page), /^42$/m);
  await page.close();
});

test("a type error shows in its cell with line and column, and the cell does not run; Run all stops there", { skip: noBrowser, timeout: 2 * minutes }, async (t) => {
  const page = await openLive("98-type-check.html");
  assert.match(await runAll(page, minutes), /^Stopped at an error/);
  const failed = page.locator(".cell.failed .outputs");
  assert.equal(await failed.count(), 1);
  assert.equal((await failed.innerText()).trim(), "Type error (TypeScript; the cell did not run):\nline 2, column 7: Type 'string' is not assignable to type 'number'.");
  const text = await outputsText(page);
  assert.match(text, /^42$/m);
  assert.doesNotMatch(text, /^(ran|after)$/m);
  const checkMs = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>(".cell[data-check-ms]"), (cell) => Number(cell.dataset.checkMs)));
  assert.equal(checkMs.length, 2, "the two cells before it were checked");
  t.diagnostic(`type check: first cell ${checkMs[0]} ms (loads the declarations), second ${checkMs[1]} ms`);
  await page.close();
});

test("with WebGL chosen, lecture 01's page runs on webgl (the library's plain path) and gives NLL 2.4540", { skip: noBrowser, timeout: 5 * minutes }, async () => {
  const page = await openLive("01-bigram.html");
  await page.selectOption(".live-engine", "webgl");
  assert.equal(await runAll(page, 4 * minutes), "Done.");
  const text = await outputsText(page);
  // Headless Chromium here has WebGL 2 in workers (SwiftShader, on the CPU); where it has none, the line says WASM runs instead.
  assert.match(text, /Engine: webgl \| TensorFlow\.js 4\.22\.0 \| Chromium \d+/);
  assert.match(text, /Result: count model NLL 2\.4540/);
  assert.equal(await page.locator(".cell.failed").count(), 0);
  await page.close();
});

test("where the worker has no WebGL, choosing webgl runs WASM and the engine line says why", { skip: noBrowser, timeout: 2 * minutes }, async () => {
  const page = await openLive("99-live-check.html");
  // Headless Chromium here has WebGL in workers; the worker script is served without OffscreenCanvas to stand for a browser that has none.
  await page.route((url) => url.pathname.endsWith("/assets/live/worker.js"), async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response: response, body: `self.OffscreenCanvas = undefined;\n${await response.text()}` });
  });
  await page.selectOption(".live-engine", "webgl");
  await runAll(page, minutes);
  assert.match(await outputsText(page), /^Engine: wasm \(SIMD, 1 thread\) \| TensorFlow\.js 4\.22\.0 \| Chromium \d+ \| WebGL is not available here \(no OffscreenCanvas in this worker\), so WASM runs$/m);
  await page.close();
});

test("opened from disk, the page says live mode needs a server and keeps its static outputs", { skip: noBrowser, timeout: minutes }, async () => {
  const page = await site.browser.newPage();
  await page.route((url) => !url.href.startsWith("file:"), (route) => route.abort());
  await page.goto(`file://${path.join(site.dir, "site", "99-live-check.html")}`);
  assert.match((await page.textContent(".live-note")) ?? "", /needs the site served over http/);
  assert.equal(await page.locator(".live-run-all").count(), 0);
  await page.close();
});

test("a live page passes the site check (no console error, nothing from outside; with JavaScript off, as before)", { skip: noBrowser, timeout: 2 * minutes }, async () => {
  const small = site.pages.filter((page) => page.file.endsWith("99-live-check.html"));
  const check = await checkSite(path.join(site.dir, "site"), small, { browser: site.browser, screenshots: false });
  assert.deepEqual(check.pages.map((page) => page.problems), [[]]);
});
