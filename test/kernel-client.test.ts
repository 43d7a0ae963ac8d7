// The Jupyter kernel client (scripts/kernel-client.ts) against the real tslab kernel: outputs as
// nbformat stores them, live display updates, interrupt, shutdown, and no kernel left behind when
// the process that started it is stopped.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { projectRoot } from "../scripts/cli";
import { type Kernel, startKernel } from "../scripts/kernel-client";
import type { Output } from "../scripts/notebook-file";

const minutes = 60_000;
// Inside the project, so the kernel finds this project's node_modules as for a real notebook.
const tmp = path.join(projectRoot, "build", "tmp");
let kernel: Kernel;

before(async () => {
  fs.mkdirSync(tmp, { recursive: true });
  kernel = await startKernel({ cwd: tmp });
});
after(async () => kernel?.shutdown());

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !isRunning(pid);
}

test("consecutive prints become one stream output; stderr is its own", { timeout: 2 * minutes }, async () => {
  const run = await kernel.execute('console.log("a"); console.log("b"); console.error("c"); console.log("d")');
  assert.equal(run.status, "ok");
  assert.equal(typeof run.executionCount, "number");
  assert.deepEqual(run.outputs, [
    { output_type: "stream", name: "stdout", text: "a\nb\n" },
    { output_type: "stream", name: "stderr", text: "c\n" },
    { output_type: "stream", name: "stdout", text: "d\n" },
  ]);
});

test("a display's updates replace its output, also from a later cell, and are reported as they come", { timeout: 2 * minutes }, async () => {
  const seen: string[] = [];
  const first = await kernel.execute(
    'import * as tslab from "tslab";\nconst live = tslab.newDisplay();\nlive.text("step 1");\nawait new Promise((r) => setTimeout(r, 20));\nlive.text("step 2");',
    { onOutput: (output: Output) => seen.push(String((output.data as Record<string, string>)["text/plain"])) },
  );
  assert.equal(first.status, "ok");
  assert.deepEqual(first.outputs, [{ output_type: "display_data", data: { "text/plain": "step 2" }, metadata: {} }]);
  assert.deepEqual(seen, ["step 1", "step 2"]);
  const second = await kernel.execute('live.text("done"); tslab.display.html("<b>new</b>")');
  assert.deepEqual(second.outputs, [{ output_type: "display_data", data: { "text/html": "<b>new</b>" }, metadata: {} }]);
  assert.deepEqual(first.outputs[0].data, { "text/plain": "done" }, "the earlier cell's output was updated");
});

test("a failing cell reports error with its stderr, and the kernel runs the next cell", { timeout: 2 * minutes }, async () => {
  const failed = await kernel.execute('throw new Error("deliberate")');
  assert.equal(failed.status, "error");
  assert.match(String(failed.outputs[0]?.text), /Error: deliberate/);
  const next = await kernel.execute('console.log("next")');
  assert.equal(next.status, "ok");
});

test("interrupt ends a running cell; a timeout interrupts it and says so", { timeout: 2 * minutes }, async () => {
  const running = kernel.execute("await new Promise((r) => setTimeout(r, 600_000))");
  setTimeout(() => kernel.interrupt(), 1000);
  const interrupted = await running;
  assert.equal(interrupted.status, "error");
  assert.match(String(interrupted.outputs[0]?.text), /Interrupted/);

  const timedOut = await kernel.execute("await new Promise((r) => setTimeout(r, 600_000))", { timeoutMs: 1000 });
  assert.equal(timedOut.status, "timeout");
  assert.match(timedOut.error ?? "", /did not finish within 1 s and was interrupted/);
  assert.equal((await kernel.execute("1 + 1")).status, "ok", "the kernel survives");
});

test("shutdown ends the kernel process", { timeout: 2 * minutes }, async () => {
  const own = await startKernel({ cwd: tmp });
  assert.ok(isRunning(own.pid));
  await own.shutdown();
  assert.ok(await waitUntilGone(own.pid, 5000), "the kernel process is gone");
});

/** The kernels' connection folders (they hold the HMAC key) in `tmpdir`. */
function connectionFolders(tmpdir: string): string[] {
  return fs.readdirSync(tmpdir).filter((name) => name.startsWith("zth-kernel-"));
}

/** Starts a runner (a script that starts a kernel) with its own temp folder; `started` resolves to the kernel's pid. */
function startRunner(signal: string): { runner: ChildProcess; tmpdir: string; started: Promise<number>; cleanUp: () => void } {
  const tmpdir = fs.mkdtempSync(path.join(tmp, `runner-tmp-${signal}-`));
  const script = path.join(tmp, `runner-${signal}.ts`);
  fs.writeFileSync(script, `import { startKernel } from "../../scripts/kernel-client";
startKernel({ cwd: __dirname }).then((k) => console.log("kernel " + k.pid));
setInterval(() => undefined, 1000);
`);
  const runner = spawn(process.execPath, ["--import", "tsx", script], { cwd: projectRoot, env: { ...process.env, TMPDIR: tmpdir }, stdio: ["ignore", "pipe", "pipe"] });
  const started = new Promise<number>((resolve, reject) => {
    let out = "";
    runner.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /kernel (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    runner.once("exit", () => reject(new Error(`the runner exited before starting a kernel: ${out}`)));
  });
  started.catch(() => undefined);
  const cleanUp = () => {
    runner.kill("SIGKILL");
    fs.rmSync(script, { force: true });
    fs.rmSync(tmpdir, { recursive: true, force: true });
  };
  return { runner, tmpdir, started, cleanUp };
}

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  test(`a runner stopped with ${signal} leaves no kernel behind, nor its connection file`, { timeout: 2 * minutes }, async () => {
    const { runner, tmpdir, started, cleanUp } = startRunner(signal);
    try {
      const pid = await started;
      assert.ok(isRunning(pid));
      assert.deepEqual(connectionFolders(tmpdir), [], "the connection file is removed once the kernel has read it");
      const exited = new Promise((resolve) => runner.once("exit", resolve));
      runner.kill(signal);
      assert.ok(await waitUntilGone(pid, 10_000), `kernel ${pid} still runs after its runner got ${signal}`);
      await exited;
      assert.deepEqual(connectionFolders(tmpdir), []);
    } finally {
      cleanUp();
    }
  });
}

test("Ctrl-C while a kernel starts removes its connection folder", { timeout: 2 * minutes }, async () => {
  const { runner, tmpdir, cleanUp } = startRunner("SIGINT");
  try {
    const deadline = Date.now() + 60_000;
    while (connectionFolders(tmpdir).length === 0) {
      assert.ok(Date.now() < deadline, "no connection folder appeared");
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise((resolve) => runner.once("exit", (code, signal) => resolve(signal ?? code)));
    runner.kill("SIGINT");
    assert.equal(await exited, 130, "the runner stops its kernels and exits with 130");
    assert.deepEqual(connectionFolders(tmpdir), [], "the folder with the HMAC key is gone");
  } finally {
    cleanUp();
  }
});
