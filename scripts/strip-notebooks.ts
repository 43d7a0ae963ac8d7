// Removes outputs and execution counts from the notebooks before a commit, so the repository holds
// only what a learner writes and diffs stay readable. The notebook's metadata (kernelspec,
// language_info) is kept.
//
//   tsx scripts/strip-notebooks.ts [notebooks/x.ipynb ...]   strip in place (default: notebooks/*.ipynb)
//   tsx scripts/strip-notebooks.ts --check [...]             only report; exit 1 if any needs stripping
import * as fs from "node:fs";
import * as path from "node:path";
import { notebooksDir } from "./cli";
import { type Notebook, formatNotebook, readNotebook } from "./notebook-file";

/** The notebook as it should be committed. */
export function stripNotebook(notebook: Notebook): Notebook {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
    // Timing that nbclient and JupyterLab record per cell: run-specific, like outputs.
    delete cell.metadata.execution;
  }
  return notebook;
}

/** Strips one file in place; returns whether it changed. */
export function stripFile(file: string, options: { check?: boolean } = {}): boolean {
  const before = fs.readFileSync(file, "utf8");
  const after = formatNotebook(stripNotebook(readNotebook(file)));
  if (after === before) return false;
  if (!options.check) fs.writeFileSync(file, after);
  return true;
}

function main(argv: string[]): number {
  const check = argv.includes("--check");
  const given = argv.filter((a) => a !== "--check");
  const files = given.length > 0
    ? given
    : fs.readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(notebooksDir, f));
  const changed = files.filter((file) => stripFile(file, { check }));
  for (const file of changed) console.log(`${check ? "needs stripping" : "stripped"}: ${path.relative(process.cwd(), file)}`);
  if (changed.length === 0) console.log(`${files.length} notebook(s) already clean.`);
  return check && changed.length > 0 ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
