// Every notebook runs clean in quick mode through the real tslab kernel (our own kernel client, no
// Python), the harness really catches a failing or hanging cell, and the committed notebooks are stripped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { findChromium, launchBrowser, noChromiumHint } from "../scripts/browser";
import { buildSite } from "../scripts/build-site";
import { checkSite, formatSiteCheck } from "../scripts/check-site";
import { projectRoot } from "../scripts/cli";
import { type Notebook, type RunInfo, readNotebook, runInfoKey, writeNotebook } from "../scripts/notebook-file";
import { executeNotebook, findFailures, formatResult, kernelEnvironment, listNotebooks, liveText, resultLine } from "../scripts/run-notebooks";

const minutes = 60_000;
// Apart from build/notebooks and build/site, which hold the course's full run.
const testOutputDir = path.join(projectRoot, "build", "test-notebooks");
const testSiteDir = path.join(projectRoot, "build", "test-site");
const chromium = findChromium();

for (const notebook of listNotebooks()) {
  const name = path.basename(notebook);
  test(`notebook ${name} runs without errors or stderr (quick mode)`, { timeout: 10 * minutes }, async () => {
    // The harness's own deadline comes first, so a hung notebook is reported, not just timed out.
    const result = await executeNotebook(notebook, { quick: true, outputDir: testOutputDir, deadlineSeconds: 9.5 * 60 });
    assert.ok(result.ok, "\n" + formatResult(result));
  });
}

test("the site made from the executed notebooks shows every plot and formula in Chromium, offline", {
  skip: chromium ? false : `no Chromium, so the site's browser check is skipped: ${noChromiumHint}`,
  timeout: 10 * minutes,
}, async () => {
  const executed = listNotebooks().map((file) => path.join(testOutputDir, path.basename(file))).filter((file) => fs.existsSync(file));
  assert.ok(executed.length > 0, "no executed notebooks: the notebook tests above did not run");
  const browser = await launchBrowser(chromium);
  try {
    const site = await buildSite(executed, testSiteDir, { browser });
    assert.deepEqual(site.problems, []);
    const check = await checkSite(testSiteDir, site.pages, { browser, screenshots: false });
    assert.ok(check.ok, "\n" + formatSiteCheck(check));
  } finally {
    await browser.close();
  }
});

/** Runs `body` in a fresh folder inside the project (so the kernel finds this project's node_modules
 *  as for a real notebook), removed afterwards. */
async function inTempDir(prefix: string, body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = path.join(projectRoot, "build", "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmp, prefix));
  try {
    await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("the harness reports a throwing cell and the cells it kept from running", { timeout: 3 * minutes }, () =>
  inTempDir("harness-", async (dir) => {
    const file = path.join(dir, "throws.ipynb");
    writeNotebook(file, tslabNotebook([
      'console.log("first cell ran")',
      'const answer: number = 41;\nthrow new Error("deliberate failure " + (answer + 1));',
      'console.log("third cell ran")',
    ]));
    const result = await executeNotebook(file, { quick: true, outputDir: path.join(dir, "out") });

    assert.equal(result.ok, false);
    assert.equal(result.runError, undefined);
    const [thrown, ...rest] = result.failures;
    assert.equal(thrown.cell, 2);
    assert.equal(thrown.codeCell, 2);
    assert.equal(thrown.kind, "stderr");
    assert.equal(thrown.firstLine, "const answer: number = 41;");
    assert.match(thrown.text, /Error: deliberate failure 42/);
    assert.deepEqual(rest.map((f) => [f.cell, f.kind]), [[3, "skipped"]]);

    const executed = readNotebook(result.outputPath);
    assert.match(JSON.stringify(executed.cells[0].outputs), /first cell ran/, "the first cell ran");
    assert.deepEqual(executed.cells[2].outputs, [], "the third cell did not run");
    assert.match(formatResult(result), /cell 2 \(code cell 2\) wrote to stderr: const answer: number = 41;/);
    assert.equal(executed.cells[0].execution_count, 1);
    assert.equal((executed.metadata[runInfoKey] as RunInfo).ok, false);
  }));

test("a hanging cell is interrupted after its time limit and reported with the cells it kept from running", { timeout: 3 * minutes }, () =>
  inTempDir("timeout-", async (dir) => {
    const file = path.join(dir, "hangs.ipynb");
    writeNotebook(file, tslabNotebook([
      'console.log("Result: 1.2345")',
      "await new Promise((resolve) => setTimeout(resolve, 600_000));",
      'console.log("never")',
    ]));
    const started = Date.now();
    const result = await executeNotebook(file, { quick: true, outputDir: path.join(dir, "out"), cellTimeoutSeconds: 2 });
    assert.ok(Date.now() - started < 60_000, "the run ended soon after the time limit");
    assert.equal(result.ok, false);
    assert.equal(result.result, "1.2345");
    const timeout = result.failures.find((f) => f.kind === "timeout");
    assert.ok(timeout, formatResult(result));
    assert.equal(timeout.cell, 2);
    assert.match(timeout.text, /did not finish within the limit of 2 s for one cell/);
    assert.deepEqual(result.failures.filter((f) => f.kind === "skipped").map((f) => f.cell), [3]);
    assert.match(formatResult(result), /cell 2 \(code cell 2\) timed out: await new Promise/);
  }));

/** Runs a script of scripts/ as a user would, from the project root; resolves to its exit code and output. */
function runScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "scripts", script), ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

test("the runner: a corrupt notebook is named and failed, the next still runs, and an unhandled rejection after its cell ended fails that cell", { timeout: 3 * minutes }, () =>
  inTempDir("runner-", async (dir) => {
    const id = path.basename(dir);
    const corrupt = path.join(dir, `${id}-corrupt.ipynb`);
    fs.writeFileSync(corrupt, '{ "cells": [ {"cell_type": "code", ');
    // A forgotten await: the promise rejects (after file I/O) once the cell has ended.
    const rejects = path.join(dir, `${id}-rejects.ipynb`);
    writeNotebook(rejects, tslabNotebook([
      'import * as fs from "fs";\nasync function save() { await fs.promises.readFile("no-such-file.txt"); }\nsave(); // a forgotten await',
      "await new Promise((resolve) => setTimeout(resolve, 1000)); // the rejection arrives while this cell runs, even on a busy machine",
      'console.log("third cell ran")',
    ]));
    // The same in the last cell: the runner waits a moment before it stops the kernel.
    const rejectsLast = path.join(dir, `${id}-rejects-last.ipynb`);
    writeNotebook(rejectsLast, tslabNotebook(['console.log("first cell ran")', 'import * as fs from "fs";\nfs.promises.readFile("no-such-file.txt"); // a forgotten await']));
    const outputs = [corrupt, rejects, rejectsLast].map((file) => path.join(projectRoot, "build", "notebooks", path.basename(file)));
    try {
      const { code, stdout } = await runScript("run-notebooks.ts", ["--quick", corrupt, rejects, rejectsLast]);
      assert.equal(code, 1, stdout);
      const [before, summary] = stdout.split(/\nnotebook +status/);
      assert.ok(summary, `no summary table at the end:\n${stdout}`);
      // The corrupt file is named, with what is wrong.
      assert.match(before, new RegExp(`${id}-corrupt\\.ipynb: FAILED[^\\n]*\\n.*${id}-corrupt\\.ipynb is not valid JSON`));
      // The rejection fails the cell it came from, with the error, and stops the notebook.
      assert.match(before, /rejects\.ipynb: FAILED in/);
      assert.match(before, /cell 1 \(code cell 1\) wrote to stderr: import \* as fs from "fs";\n\s+\| UnhandledPromiseRejection: Error: ENOENT: no such file or directory, open 'no-such-file.txt'/);
      assert.match(before, /not run after the failure: cell 3/);
      assert.match(before, /rejects-last\.ipynb: FAILED[^\n]*\n  cell 2 \(code cell 2\) wrote to stderr: import \* as fs from "fs";\n\s+\| UnhandledPromiseRejection: Error: ENOENT/);
      assert.deepEqual(readNotebook(outputs[1]).cells[2].outputs, [], "the third cell did not run");
      assert.match(summary, new RegExp(`${id}-corrupt\\.ipynb +FAILED`));
      assert.match(summary, new RegExp(`${id}-rejects\\.ipynb +FAILED`));
      assert.match(summary, new RegExp(`${id}-rejects-last\\.ipynb +FAILED`));
      assert.match(stdout, /0 passed, 3 failed/);
    } finally {
      for (const file of outputs) fs.rmSync(file, { force: true });
    }
  }));

test("--help prints the usage and exits 0 (run-notebooks and course)", { timeout: 2 * minutes }, async () => {
  for (const script of ["run-notebooks.ts", "course.ts"]) {
    const { code, stdout, stderr } = await runScript(script, ["--help"]);
    assert.equal(code, 0, `${script} --help: ${stderr}`);
    assert.match(stdout, new RegExp(`^Usage: npx tsx scripts/${script} \\[--quick\\] \\[notebook\\.ipynb \\.\\.\\.\\]`), script);
  }
  const unknown = await runScript("run-notebooks.ts", ["--quik"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option\(s\): --quik\. Usage: npx tsx scripts\/run-notebooks\.ts/);
});

test("a relative ZTH_DATA_MIRROR is resolved against the folder the command ran in, a URL is kept", () => {
  const env = kernelEnvironment(true, { ZTH_DATA_MIRROR: "../datasets", ZTH_QUICK: undefined }, "/home/learner/course");
  assert.equal(env.ZTH_DATA_MIRROR, "/home/learner/datasets");
  assert.equal(env.ZTH_QUICK, "1");
  const url = kernelEnvironment(false, { ZTH_DATA_MIRROR: "http://mirror.local/data", ZTH_QUICK: "1" }, "/x");
  assert.equal(url.ZTH_DATA_MIRROR, "http://mirror.local/data");
  assert.equal(url.ZTH_QUICK, undefined, "a full run drops a stray ZTH_QUICK");
});

test("the key result is the last printed line that starts with Result:", () => {
  const notebook = tslabNotebook(["a", "b"]);
  notebook.cells[0].outputs = [{ output_type: "stream", name: "stdout", text: ["Result: first\n", "other\n"] }];
  notebook.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "loss 2.1\nResult: dev loss 2.1497\n" }];
  assert.equal(resultLine(notebook), "dev loss 2.1497");
  assert.equal(resultLine(tslabNotebook(["c"])), undefined);
});

test("the terminal's live line reads a live display's text, also when the display is a plot", () => {
  const display = (data: Record<string, string>) => ({ output_type: "display_data", data: data, metadata: {} });
  // LiveDisplay.update(html, text) puts the text beside the HTML; notebook 05 shows its progress as a plot
  const plot = '<div data-live-text="step 25/2000 | 3.01 steps/s &amp; 11 min left"><div class="zth-plot" id="p"></div></div>';
  assert.equal(liveText(display({ "text/html": plot })), "step 25/2000 | 3.01 steps/s & 11 min left");
  assert.equal(liveText(display({ "text/html": '<div class="zth-plot" id="p"></div>' })), undefined); // an unmarked plot
  assert.equal(liveText(display({ "text/html": "<div>step <b>1</b></div><svg><text>2.3</text></svg>" })), "step 1");
  assert.equal(liveText(display({ "text/plain": "a\nstep 2" })), "step 2");
});

test("any stderr output counts as a failure", () => {
  const notebook = tslabNotebook(["console.error('a warning')", "console.log('still running')", "const quiet = 1;"]);
  notebook.cells[0].outputs = [{ output_type: "stream", name: "stderr", text: ["a warning\n"] }];
  notebook.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: ["still running\n"] }];
  const failures = findFailures(notebook);
  assert.deepEqual(failures.map((f) => [f.cell, f.kind, f.text]), [[1, "stderr", "a warning"]]);
});

test("committed notebooks use the tslab kernel and carry no outputs", () => {
  for (const file of listNotebooks()) {
    const name = path.basename(file);
    const notebook = readNotebook(file);
    assert.equal(notebook.metadata.kernelspec?.name, "tslab", `${name}: kernelspec must be "tslab"`);
    notebook.cells.forEach((cell, index) => {
      if (cell.cell_type !== "code") return;
      const where = `${name}, cell ${index + 1}`;
      assert.deepEqual(cell.outputs, [], `${where} has outputs: run \`npx tsx scripts/strip-notebooks.ts\` before committing`);
      assert.equal(cell.execution_count, null, `${where} has an execution count: strip the notebook before committing`);
    });
  }
});

function tslabNotebook(sources: string[]): Notebook {
  return {
    cells: sources.map((source, i) => ({
      cell_type: "code",
      execution_count: null,
      id: `cell-${i}`,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: {
      kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" },
      language_info: { name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}
