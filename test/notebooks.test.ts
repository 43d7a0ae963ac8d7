// Every notebook runs clean in quick mode through the real tslab kernel, the harness really
// catches a failing cell, and the committed notebooks are stripped.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { projectRoot } from "../scripts/kernel";
import { type Notebook, readNotebook, writeNotebook } from "../scripts/notebook-file";
import { executeNotebook, findFailures, formatResult, listNotebooks } from "../scripts/run-notebooks";

const minutes = 60_000;
// Apart from build/notebooks, which holds the full run that build/html is made from.
const testOutputDir = path.join(projectRoot, "build", "test-notebooks");

for (const notebook of listNotebooks()) {
  const name = path.basename(notebook);
  test(`notebook ${name} runs without errors or stderr (quick mode)`, { timeout: 10 * minutes }, async () => {
    // The harness's own deadline comes first, so a hung notebook is reported, not just timed out.
    const result = await executeNotebook(notebook, { quick: true, outputDir: testOutputDir, deadlineSeconds: 9.5 * 60 });
    assert.ok(result.ok, "\n" + formatResult(result));
  });
}

test("the harness reports a throwing cell and the cells it kept from running", { timeout: 3 * minutes }, async () => {
  // Inside the project, so the kernel finds this project's node_modules as for a real notebook.
  const tmp = path.join(projectRoot, "build", "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmp, "harness-"));
  try {
    const file = path.join(dir, "throws.ipynb");
    writeNotebook(file, tslabNotebook([
      'console.log("first cell ran")',
      'const answer: number = 41;\nthrow new Error("deliberate failure " + (answer + 1));',
      'console.log("third cell ran")',
    ]));
    const result = await executeNotebook(file, { quick: true, outputDir: path.join(dir, "out") });

    assert.equal(result.ok, false);
    assert.equal(result.nbconvertError, undefined);
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
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("any stderr output counts as a failure, while later cells with output ran", () => {
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
