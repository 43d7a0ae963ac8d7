// For Jupyter's own UI (`npm run jupyter`, check-classic-ui.ts), not for running the course (that is
// kernel-client.ts, no Python): finds a Python that has Jupyter's nbconvert and nbclient, and registers the tslab kernel in a
// project-local folder (.jupyter/, git-ignored), so nothing has to be installed globally and the
// kernel always runs this project's own tslab.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { projectRoot } from "./cli";

const jupyterDataDir = path.join(projectRoot, ".jupyter", "share", "jupyter");
const tslabBinary = path.join(projectRoot, "node_modules", ".bin", "tslab");

/** Exits 0 when `python` can import every module named. */
export function pythonHas(python: string, modules: string[]): boolean {
  const result = spawnSync(python, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore" });
  return result.status === 0;
}

const installHint = [
  "Install Jupyter, then try again:",
  "  Debian/Ubuntu:  sudo apt-get install jupyter-nbconvert python3-nbclient   (add jupyter-notebook for the UI)",
  "  elsewhere:      pip install nbconvert nbclient   (or: pip install jupyterlab)",
  "Or point JUPYTER_PYTHON at a Python that has them.",
].join("\n");

let cachedPython: string | undefined;

/**
 * The Python to run Jupyter with: $JUPYTER_PYTHON if set, else the first of `python3` (on PATH)
 * and `/usr/bin/python3` that can import nbconvert and nbclient. Why not just `python3`: on many
 * machines the first python3 on PATH (pyenv, a venv) is not the one Jupyter was installed into.
 */
export function findJupyterPython(): string {
  if (cachedPython) return cachedPython;
  const fromEnv = process.env.JUPYTER_PYTHON;
  if (fromEnv) {
    if (!pythonHas(fromEnv, ["nbconvert", "nbclient"])) {
      throw new Error(`JUPYTER_PYTHON=${fromEnv} cannot import nbconvert and nbclient.\n${installHint}`);
    }
    return (cachedPython = fromEnv);
  }
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    if (pythonHas(candidate, ["nbconvert", "nbclient"])) return (cachedPython = candidate);
  }
  throw new Error(`No Python with Jupyter's nbconvert and nbclient was found (tried python3, /usr/bin/python3).\n${installHint}`);
}

/**
 * Writes .jupyter/share/jupyter/kernels/tslab/kernel.json unless it is already there and points at
 * this checkout's tslab (a moved or re-cloned project gets a fresh one).
 */
export function ensureKernelspec(python: string): void {
  const kernelJson = path.join(jupyterDataDir, "kernels", "tslab", "kernel.json");
  if (fs.existsSync(kernelJson)) {
    const spec = JSON.parse(fs.readFileSync(kernelJson, "utf8")) as { argv?: string[] };
    if (spec.argv?.[0] === tslabBinary) return;
  }
  if (!fs.existsSync(tslabBinary)) {
    throw new Error(`${tslabBinary} is missing: run \`npm ci\` (or \`npm install\`) first.`);
  }
  const result = spawnSync(
    tslabBinary,
    ["install", `--python=${python}`, `--prefix=${path.join(projectRoot, ".jupyter")}`, `--binary=${tslabBinary}`],
    { encoding: "utf8" },
  );
  if (result.status !== 0 || !fs.existsSync(kernelJson)) {
    throw new Error(`tslab install failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
}

/** The environment for any Jupyter process: finds our kernelspec before any global one. */
export function jupyterEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const existing = base.JUPYTER_PATH;
  return { ...base, JUPYTER_PATH: existing ? `${jupyterDataDir}${path.delimiter}${existing}` : jupyterDataDir };
}

/** One call for the scripts: the Python to use and an env whose Jupyter sees the tslab kernel. */
export function prepareJupyter(base: NodeJS.ProcessEnv = process.env): { python: string; env: NodeJS.ProcessEnv } {
  const python = findJupyterPython();
  ensureKernelspec(python);
  return { python, env: jupyterEnv(base) };
}

if (require.main === module) {
  // `tsx scripts/kernel.ts` prints what it found: handy when a contributor's setup differs.
  const { python, env } = prepareJupyter();
  console.log(`python:       ${python}`);
  console.log(`JUPYTER_PATH: ${env.JUPYTER_PATH}`);
}
