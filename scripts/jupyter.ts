// Starts Jupyter in notebooks/ with this project's tslab kernel: JupyterLab when it is installed,
// else the classic Notebook. Extra arguments go to Jupyter (e.g. `npm run jupyter -- --port 8889`).
import { spawn, spawnSync } from "node:child_process";
import { prepareJupyter } from "./kernel";
import { notebooksDir } from "./cli";

function main(extraArgs: string[]): void {
  const { python, env } = prepareJupyter();
  const hasLab = spawnSync(python, ["-m", "jupyterlab", "--version"], { stdio: "ignore" }).status === 0;
  const hasNotebook = hasLab || spawnSync(python, ["-m", "notebook", "--version"], { stdio: "ignore" }).status === 0;
  if (!hasNotebook) {
    console.error(
      `${python} has neither JupyterLab nor the classic Notebook.\n` +
        "Install one: Debian/Ubuntu: sudo apt-get install jupyter-notebook; elsewhere: pip install jupyterlab",
    );
    process.exit(1);
  }
  const args = ["-m", hasLab ? "jupyterlab" : "notebook", ...extraArgs];
  // Jupyter refuses to run as root without this (e.g. in a container).
  if (process.getuid?.() === 0 && !extraArgs.includes("--allow-root")) args.push("--allow-root");

  console.log(`Running in ${notebooksDir}:\n  JUPYTER_PATH=${env.JUPYTER_PATH} ${python} ${args.join(" ")}\n`);
  const child = spawn(python, args, { cwd: notebooksDir, env, stdio: "inherit" });
  // Ctrl-C reaches Jupyter directly (same terminal), which asks before it stops; we only wait.
  // Other stop signals are passed on, so Jupyter never outlives this script.
  process.on("SIGINT", () => undefined);
  for (const signal of ["SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main(process.argv.slice(2));
