// The threaded WASM build (lib/engine/wasm-threads.ts) against the single-threaded one: the same small
// GPT training in two child processes, one per build, gives the same losses; both exit on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

interface ChildResult {
  engine: string;
  losses: number[];
}

function train(threads: string): ChildResult {
  const child = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "wasm-threads-child.ts")], {
    env: { ...process.env, ZTH_THREADS: threads, ZTH_ENGINE: "wasm" },
    encoding: "utf8",
    timeout: 120_000, // a child kept alive by a pool worker would hang here: it is killed and fails
  });
  assert.equal(child.signal, null, `ZTH_THREADS=${threads}: the child did not exit by itself (killed by ${child.signal})`);
  assert.equal(child.status, 0, `ZTH_THREADS=${threads}: the child failed\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as ChildResult;
}

test("threaded (2 threads) and single-threaded WASM train the same losses, and both processes exit by themselves", () => {
  const single = train("1");
  const threaded = train("2");
  assert.match(single.engine, /^Engine: wasm \(SIMD, 1 thread\) \|/);
  assert.match(threaded.engine, /^Engine: wasm \(SIMD, 2 threads\) \|/);
  assert.equal(threaded.losses.length, single.losses.length);
  single.losses.forEach((loss, step) => {
    // Threads split the same sums differently: float rounding, not different arithmetic.
    assert.ok(Math.abs(threaded.losses[step] - loss) <= 1e-4 * Math.abs(loss), `step ${step}: ${threaded.losses[step]} vs ${loss}`);
  });
  assert.ok(single.losses.at(-1)! < single.losses[0], `the loss goes down: ${single.losses}`);
});

test("a ZTH_THREADS that is not a whole number >= 1 is a clear error", () => {
  for (const value of ["0", "two"]) {
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "wasm-threads-child.ts")], {
      env: { ...process.env, ZTH_THREADS: value },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(child.status, 1);
    assert.match(child.stderr, new RegExp(`ZTH_THREADS=${value} is not a thread count: use a whole number >= 1`));
  }
});
