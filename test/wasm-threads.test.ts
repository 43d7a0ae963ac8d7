// The threaded WASM build (lib/engine/wasm-threads.ts) against the single-threaded one: the same small
// GPT training in child processes, one per build, gives the same losses; every process exits on its own.
// One thread is the default; `threads: "cores"` or ZTH_THREADS=n asks for the threaded build, and a
// threaded start that fails (a pool worker dies) or takes too long falls back to the single-threaded
// build, never hangs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";

interface ChildResult {
  engine: string;
  losses: number[];
}

const child = path.join(__dirname, "wasm-threads-child.ts");

function train(name: string, env: NodeJS.ProcessEnv, nodeOptions: string[] = []): ChildResult {
  const run = spawnSync(process.execPath, [...nodeOptions, "--import", "tsx", child], {
    env: { ...process.env, ZTH_ENGINE: "wasm", ...env },
    encoding: "utf8",
    timeout: 120_000, // a child kept alive by a pool worker would hang here: it is killed and fails
  });
  assert.equal(run.signal, null, `${name}: the child did not exit by itself (killed by ${run.signal})`);
  assert.equal(run.status, 0, `${name}: the child failed\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as ChildResult;
}

function withoutThreadsSetting(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.ZTH_THREADS;
  return env;
}

function assertSameLosses(actual: ChildResult, expected: ChildResult): void {
  assert.equal(actual.losses.length, expected.losses.length);
  expected.losses.forEach((loss, step) => {
    // Threads split the same sums differently: float rounding, not different arithmetic.
    assert.ok(Math.abs(actual.losses[step] - loss) <= 1e-4 * Math.abs(loss), `step ${step}: ${actual.losses[step]} vs ${loss}`);
  });
}

let single: ChildResult;

test("by default WASM runs its single-threaded build", () => {
  single = train("ZTH_THREADS unset", withoutThreadsSetting());
  assert.match(single.engine, /^Engine: wasm \(SIMD, 1 thread\) \|/);
  assert.ok(single.losses.at(-1)! < single.losses[0], `the loss goes down: ${single.losses}`);
});

test("ZTH_THREADS=2 runs the threaded build on 2 threads, with the same losses", () => {
  const threaded = train("ZTH_THREADS=2", { ZTH_THREADS: "2" });
  assert.match(threaded.engine, /^Engine: wasm \(SIMD, 2 threads\) \|/);
  assertSameLosses(threaded, single);
});

test('initEngine({ threads: "cores" }) runs a thread per core (at most 4); ZTH_THREADS=1 still wins', () => {
  const cores = Math.min(4, os.availableParallelism());
  const perCore = train("threads: cores", { ...withoutThreadsSetting(), THREADS_OPTION: "cores" });
  assert.match(perCore.engine, new RegExp(`^Engine: wasm \\(SIMD, ${cores} threads?\\) \\|`));
  assertSameLosses(perCore, single);
  const forcedOne = train("threads: cores, ZTH_THREADS=1", { THREADS_OPTION: "cores", ZTH_THREADS: "1" });
  assert.match(forcedOne.engine, /^Engine: wasm \(SIMD, 1 thread\) \|/);
});

test("a threaded start that takes too long falls back to the single-threaded build, with the reason in the engine line", () => {
  const fallback = train("start timeout 1 ms", { ZTH_THREADS: "2", THREADED_START_TIMEOUT_MS: "1" });
  assert.match(fallback.engine, /^Engine: wasm \(SIMD, 1 thread: threaded build failed: it did not start within 0\.001 s\) \|/);
  assertSameLosses(fallback, single);
});

test("a pool worker that dies while the threaded build starts makes it fall back at once, not hang", () => {
  const started = Date.now();
  const fallback = train("pool workers ended", { ZTH_THREADS: "2" }, ["--require", path.join(__dirname, "fixtures", "end-worker-threads.cjs")]);
  assert.match(fallback.engine, /^Engine: wasm \(SIMD, 1 thread: threaded build failed: a pool worker stopped while the threaded build started \(exit code 0\)\) \|/);
  assert.ok(Date.now() - started < 15_000 + 30_000, "well before the start timeout and the training"); // loose: the machine is shared
  assertSameLosses(fallback, single);
});

test("a ZTH_THREADS that is not a whole number >= 1 is a clear error", () => {
  for (const value of ["0", "two"]) {
    const run = spawnSync(process.execPath, ["--import", "tsx", child], {
      env: { ...process.env, ZTH_THREADS: value },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`ZTH_THREADS=${value} is not a thread count: use a whole number >= 1`));
  }
});
