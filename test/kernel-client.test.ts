// The Jupyter kernel client (scripts/kernel-client.ts) against the real tslab kernel: outputs as
// nbformat stores them, live display updates, interrupt, shutdown, and no kernel left behind when
// the process that started it is stopped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
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

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  test(`a runner stopped with ${signal} leaves no kernel behind`, { timeout: 2 * minutes }, async () => {
    const script = path.join(tmp, `runner-${signal}.ts`);
    fs.writeFileSync(script, `import { startKernel } from "../../scripts/kernel-client";
startKernel({ cwd: __dirname }).then((k) => console.log("kernel " + k.pid));
setInterval(() => undefined, 1000);
`);
    const runner = spawn(process.execPath, ["--import", "tsx", script], { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        runner.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /kernel (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        runner.once("exit", () => reject(new Error(`the runner exited before starting a kernel: ${out}`)));
      });
      assert.ok(isRunning(pid));
      runner.kill(signal);
      assert.ok(await waitUntilGone(pid, 10_000), `kernel ${pid} still runs after its runner got ${signal}`);
    } finally {
      runner.kill("SIGKILL");
      fs.rmSync(script, { force: true });
    }
  });
}
