// initEngine with threads (ZTH_THREADS=2) inside the real tslab kernel, started as the notebook runner
// starts it (watchdog preloaded), gets WASM's threaded build within seconds: it once never finished
// there (the watchdog, preloaded into every worker thread too, ended the pool's workers as they loaded).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import { startKernel, type Kernel } from "../scripts/kernel-client";
import { notebooksDir } from "../scripts/cli";
import { joinText } from "../scripts/notebook-file";

let kernel: Kernel;

before(async () => {
  kernel = await startKernel({ cwd: notebooksDir, env: { ...process.env, ZTH_QUICK: "1", ZTH_ENGINE: "wasm", ZTH_THREADS: "2" } });
});

after(async () => {
  await kernel?.shutdown();
});

test("initEngine() with ZTH_THREADS=2 in a notebook cell starts the threaded WASM build within seconds", async (t) => {
  const started = Date.now();
  const result = await kernel.execute(`import { describeEngine, initEngine } from "zero-to-hero";\nconsole.log(describeEngine(await initEngine()));`, { timeoutMs: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  const text = result.outputs.map((output) => joinText(output.text)).join("");
  assert.equal(result.status, "ok", `${result.error ?? ""}\n${text}`);
  assert.match(text, /^Engine: wasm \(SIMD, 2 threads\) \|/, "the threaded build, not the fallback");
  // ~3 s on an idle 2-core machine; the bound leaves room for a shared one, and is below the 15 s start timeout.
  assert.ok(seconds < 12, `initEngine took ${seconds.toFixed(1)} s`);
  t.diagnostic(`initEngine took ${seconds.toFixed(1)} s, load average ${os.loadavg()[0].toFixed(1)}`);
});
