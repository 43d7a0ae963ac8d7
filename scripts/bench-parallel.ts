// Lecture 04's rows in pairs (and lecture 03's draws, its lecture run beside its better model, and lecture 05's ladder) trained one after the
// other in this thread vs side by side by trainInWorkers, alternating rounds in one run; checks that
// both give the same bits. `--only ladder` runs one comparison; ZTH_THREADS=2 gives this thread the
// engine notebook 05 runs its ladder on when serial (the workers always run one thread each).
//   npm run build && ZTH_DATA_MIRROR=<data folder> npx tsx scripts/bench-parallel.ts [--steps 20000] [--rounds 2]
//     [--ladder-steps 5000] [--only <name>]
import * as os from "node:os";
import { initEngine, describeEngine } from "../lib/engine";
import { loadNames, loadText } from "../lib/data";
import { CharTokenizer } from "../lib/tokenizer";
import { splitText } from "../lib/text-batches";
import { LADDER_RUNGS } from "../lib/gpt-ladder";
import type { TextTrainJob } from "../lib/runtime/text-jobs";
import { runAnyJob } from "../lib/runtime/any-job";
import { buildDataset, splitWords } from "../lib/dataset";
import { PythonRandom } from "../lib/python-random";
import { namesTokenizer } from "../lib/tokenizer";
import type { TrainJob, TrainJobResult } from "../lib/runtime/parallel-jobs";
import { trainInWorkers } from "../lib/runtime/parallel";

const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const steps = flag("--steps", 20_000);
const rounds = flag("--rounds", 2);
const ladderSteps = flag("--ladder-steps", 5_000);
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;

/** Notebook 05's ladder: six rungs, 32 channels, block 8, batch 32, AdamW 1e-3, the estimate of 200 batches every 500 steps. */
async function ladderJobs(): Promise<TextTrainJob[]> {
  const text = await loadText("tinyshakespeare");
  const tokenizer = CharTokenizer.fromText(text);
  const { train, val } = splitText(Int32Array.from(tokenizer.encode(text)), 0.9);
  const config = { vocabSize: tokenizer.vocabSize, blockSize: 8, nEmbd: 32, nHead: 4, nLayer: 3 };
  const jobs = LADDER_RUNGS.map((rung): TextTrainJob => ({
    name: rung, model: { kind: "ladder", rung: rung, config: config, seeds: { body: 1337, embeddings: 1338 } },
    steps: ladderSteps, batchSize: 32, learningRate: { rates: [1e-3], until: [] }, train: train, batchSeed: 2024,
    estimate: { splits: { train: train, val: val }, seed: 7, batches: 200, every: Math.min(500, ladderSteps) },
  }));
  return jobs.reverse(); // the deepest first, as the notebook
}

async function main(): Promise<void> {
  console.log(describeEngine(await initEngine()));
  const words = await loadNames();
  const tokenizer = namesTokenizer(words);
  const split = splitWords(words, new PythonRandom(42));
  const trainSet = buildDataset(split.train, tokenizer, 3);
  const valSet = buildDataset(split.dev, tokenizer, 3);
  const config = { vocabSize: tokenizer.vocabSize, blockSize: 3, nEmbd: 10, nHidden: 200 };
  const job = (name: string, init: Record<string, number>, seed = 2147483647): TrainJob => ({
    name: name, model: { kind: "mlp", config: config, init: init }, seed: seed, steps: steps, batchSize: 32,
    learningRate: { rates: [0.1, 0.01], until: [steps / 2] }, train: trainSet, evaluate: { train: trainSet, val: valSet },
  });
  const kaiming = (5 / 3) / Math.sqrt(30);
  // Notebook 03's two long runs, which its training cell runs at once: the lecture's model and the better one.
  const notebookSeed = { weights: 2147483647, batches: 1 };
  const train4 = buildDataset(split.train, tokenizer, 4);
  const val4 = buildDataset(split.dev, tokenizer, 4);
  const better: TrainJob = {
    name: "better", model: { kind: "mlp", config: { ...config, blockSize: 4, nEmbd: 16, nHidden: 300 }, init: { W2: 0.1, b2: 0 } },
    seed: notebookSeed, steps: steps, batchSize: 64, learningRate: { rates: [0.1, 0.01, 0.001], until: [steps / 2, steps * 0.75] },
    train: train4, evaluate: { train: train4, val: val4 },
  };
  const comparisons: Record<string, (TrainJob | TextTrainJob)[]> = {
    "04's original and softmax-fix rows": [job("original", {}), job("W2 x 0.01", { W2: 0.01, b2: 0 })],
    "04's two init rows": [job("W1 x 0.2", { W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 }), job("Kaiming", { W1: kaiming, b1: 0.01, W2: 0.01, b2: 0 })],
    "03's four draws": [2147483647, 1, 2, 3].map((seed) => job(`draw ${seed}`, {}, seed)),
    "03's lecture run beside its better model": [{ ...job("lecture", {}), seed: notebookSeed }, better],
    "05's ladder": only?.includes("ladder") ? await ladderJobs() : [],
  };
  for (const [name, jobs] of Object.entries(comparisons)) {
    if (only ? !name.includes(only) : jobs.length === 0) continue;
    for (let round = 0; round < rounds; round++) {
      const load = os.loadavg()[0].toFixed(2);
      let start = performance.now();
      const serial: TrainJobResult[] = [];
      for (const j of jobs) serial.push(await runAnyJob(j));
      const serialSeconds = (performance.now() - start) / 1000;
      start = performance.now();
      const parallel = await trainInWorkers(jobs, { progress: false, workers: 2 });
      const parallelSeconds = (performance.now() - start) / 1000;
      const same = parallel.results.every((r, k) => r && JSON.stringify(r.losses) === JSON.stringify(serial[k].losses) && JSON.stringify(r.evaluation) === JSON.stringify(serial[k].evaluation) && JSON.stringify(r.estimates) === JSON.stringify(serial[k].estimates));
      const losses = serial.map((r) => `${r.name} ${r.evaluation.train.toFixed(4)} / ${r.evaluation.val.toFixed(4)}`).join(", ");
      console.log(`${name}, ${jobs[0].steps} steps each, round ${round + 1} (load ${load}): serial ${serialSeconds.toFixed(1)} s, ` +
        `${parallel.workers} workers ${parallelSeconds.toFixed(1)} s: ${(serialSeconds / parallelSeconds).toFixed(2)}x; same bits: ${same}; ${losses}`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
