// Run by wasm-threads.test.ts in a child process (ZTH_THREADS set by the test, or not): starts the
// engine, trains a small GPT for a few steps and prints the engine line and the losses as one JSON line.
// The process must then exit by itself: a pool worker left running would keep it alive.
// THREADED_START_TIMEOUT_MS, when set, is the threaded build's start timeout (a tiny one forces the fallback);
// THREADS_OPTION=cores passes initEngine's `threads: "cores"`, as the GPT notebook does.
import { describeEngine, initEngine } from "../lib/engine/engine";
import { gptTrainer } from "../scripts/bench-gpt";

async function main(): Promise<void> {
  const timeout = process.env.THREADED_START_TIMEOUT_MS;
  const engine = describeEngine(
    await initEngine({
      ...(timeout ? { threadedStartTimeoutMs: Number(timeout) } : {}),
      ...(process.env.THREADS_OPTION === "cores" ? { threads: "cores" as const } : {}),
    }),
  );
  // Matmuls large enough for XNNPACK to split them between threads ([256, 64] x [64, 256] and up).
  const trainer = gptTrainer({ vocabSize: 65, blockSize: 32, batchSize: 8, nLayer: 2, nHead: 4, nEmbd: 64 }, 7);
  const losses = Array.from({ length: 4 }, () => trainer.step());
  trainer.dispose();
  console.log(JSON.stringify({ engine, losses }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
