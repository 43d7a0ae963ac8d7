// Training-step speed of each lecture on the default engine: 00 micrograd's moons MLP, 02 the bigram
// net's full-batch gradient step, 03 the MLP (vocab 27, block 3, nEmbd 10, hidden 200, batch 32) with
// and without our SIMD kernels, beside its PyTorch peer (scripts/pytorch-reference/lecture03-mlp-bench.py,
// run by ZTH_PYTHON, default python3, when it can import torch), 04 the deep BatchNorm MLP (five
// 100-wide Linear -> BatchNorm1d -> Tanh blocks, batch 32) with its fused blocks (on our SIMD kernels)
// and layer by layer (with and without those kernels), side by side, 07 the hierarchical model beside
// its PyTorch peer (lecture07-bench.py), and 05 the GPT at the nanoGPT CPU recipe's shapes,
// with where a step's time goes. Alternatives run in alternating rounds, with the load printed.
//
//   npm run bench -- [--steps 20000] [--engine wasm|cpu] [--no-profile] [--only 03|04|07|gpt] [--peer-threads 1 (or 1,2)] [--plain]
//   npm run bench -- --only gpt [--gpt-steps 10]   the GPT step, its profile, and beside its PyTorch peer (lecture05-gpt-bench.py)
//   npm run bench -- --compare-gpt    the GPT step on 1 thread, on 2 with its matmuls on one, and on 2 with
//                                     them split across both (threaded matmul), side by side, in child processes
//
// ZTH_THREADS=n sets the WASM threads (1: the single-threaded build).
import { spawn, spawnSync } from "node:child_process";
import * as readline from "node:readline";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describeEngine, engineInfo, initEngine, setFastPaths } from "../lib/engine";
import { loadNames } from "../lib/data";
import { buildDataset, sampleBatch, splitWords, type Dataset } from "../lib/dataset";
import { MLPLanguageModel, type MLPConfig } from "../lib/mlp";
import { Generator } from "../lib/random";
import { PythonRandom } from "../lib/python-random";
import { namesTokenizer } from "../lib/tokenizer";
import { randomBatches, train, trainStep, type BatchSource } from "../lib/train";
import { wavenet } from "../lib/wavenet";
import { SGD, type Optimizer } from "../lib/optim";
import type { LanguageModel } from "../lib/model";
import { bigramNetLoss } from "../lib/bigram-net";
import { deepMLP } from "../lib/layers";
import { MLP, Value, hingeLoss, makeMoons } from "../lib/micrograd";
import { NANOGPT_CPU_RECIPE, gptTrainer } from "./bench-gpt";
import { matMulHelpers } from "../lib/engine/threaded-matmul";

const LECTURE_03: MLPConfig = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 };
const BATCH = 32;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Microseconds per call of `f`, the best of 3 rounds of `n` calls (the machine may be shared). */
function microseconds(n: number, f: () => void): number {
  return Math.min(microsecondsOnce(n, f), microsecondsOnce(n, f), microsecondsOnce(n, f));
}

/**
 * Steps per second of `train` (the real loop: batch sampling, step, loss read-back, bookkeeping), in
 * 5 rounds: the best and the median, since other work on a shared machine slows some rounds down.
 */
async function trainingSpeed(config: MLPConfig, data: Dataset, steps: number): Promise<{ best: number; median: number }> {
  const generator = new Generator(2147483647);
  const model = new MLPLanguageModel(config, generator, { W2: 0.01, b2: 0 });
  const batches = randomBatches(data, BATCH, generator);
  const run = (n: number) => train(model, batches, { steps: n, learningRate: 0.1, progress: false });
  await run(500); // warm-up
  const tensors = tf.memory().numTensors;
  const speeds: number[] = [];
  for (let round = 0; round < 5; round++) speeds.push((await run(Math.max(1, Math.round(steps / 5)))).stepsPerSecond);
  speeds.sort((a, b) => a - b);
  if (tf.memory().numTensors !== tensors) throw new Error(`tensor leak: ${tensors} -> ${tf.memory().numTensors} tensors`);
  model.dispose();
  return { best: speeds[4], median: speeds[2] };
}

/** SGD written as the plain formula, with no fused kernel: what `SGD` saves. */
class PlainSGD implements Optimizer {
  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    parameters.forEach((p, i) => p.assign(p.sub(grads[i].mul(learningRate))));
  }
}

/**
 * The step before true gradients (issue 7): backprop seeded with the learning rate, so the gradients
 * arrived as lr * grad and the update was one Sub. Kept here only as the speed reference.
 */
function seededStep(model: LanguageModel, X: tf.Tensor, Y: tf.Tensor, learningRate: number): number {
  return tf.tidy(() => {
    const parameters = model.parameters();
    const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(parameters, tf.scalar(learningRate));
    parameters.forEach((p, i) => p.assign(p.sub(grads[i])));
    return value.dataSync()[0];
  });
}

/**
 * Steps/s of three ways to update, interleaved round by round on one model so that a shared machine's
 * load hits all three alike: trainStep with SGD (fused update), with the plain formula, and the old
 * seeded step. Medians of 7 rounds.
 */
function updateSpeeds(config: MLPConfig, data: Dataset, stepsPerRound: number): Record<string, number> {
  const generator = new Generator(5);
  const model = new MLPLanguageModel(config, generator, { W2: 0.01, b2: 0 });
  const { X, Y } = sampleBatch(data, BATCH, generator);
  const sgd = new SGD();
  const plain = new PlainSGD();
  const variants: Record<string, () => void> = {
    "trainStep + SGD (fused update)": () => void trainStep(model, X, Y, 0.01, sgd),
    "trainStep + p.sub(g.mul(lr))": () => void trainStep(model, X, Y, 0.01, plain),
    "seeded with lr (before issue 7)": () => void seededStep(model, X, Y, 0.01),
  };
  const rounds: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (const step of Object.values(variants)) for (let i = 0; i < 300; i++) step(); // warm up
  for (let round = 0; round < 7; round++) {
    for (const [name, step] of Object.entries(variants)) rounds[name].push(1e6 / microsecondsOnce(stepsPerRound, step));
  }
  tf.dispose([X, Y]);
  model.dispose();
  return Object.fromEntries(Object.entries(rounds).map(([name, speeds]) => [name, speeds.sort((a, b) => a - b)[3]]));
}

/** Microseconds per call of `f`, one round of `n` calls. */
function microsecondsOnce(n: number, f: () => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - start) / n) * 1000;
}

/** Lecture 00: one gradient-descent step of micrograd's MLP(2, [16, 16, 1]) on 100 moons points. */
function microgradSpeed(): number {
  const moons = makeMoons(100, 0.1, new Generator(1));
  const model = new MLP(2, [16, 16, 1], { activation: "relu", outputActivation: "linear", random: new Generator(1337) });
  const step = () => {
    const scores = moons.xs.map((x) => model.forward(x)[0]);
    const loss = hingeLoss(scores, moons.ys).add(Value.sum(model.parameters().map((p) => p.mul(p))).mul(1e-4));
    model.zeroGrad();
    loss.backward();
    for (const p of model.parameters()) p.data -= 0.01 * p.grad;
  };
  return 1e6 / microseconds(20, step);
}

/** Lecture 02: one full-batch gradient step of the one-layer bigram net on all 228,146 pairs. */
function bigramNetSpeed(words: string[], tokenizer: ReturnType<typeof namesTokenizer>): number {
  const pairs = buildDataset(words, tokenizer, 1);
  const xs = tf.tensor1d(pairs.X, "int32");
  const ys = tf.tensor1d(pairs.Y, "int32");
  const W = tf.variable(new Generator(2147483647).randn([27, 27]) as tf.Tensor2D);
  const lossAndGradient = tf.valueAndGrad((weights: tf.Tensor) => bigramNetLoss(weights as tf.Tensor2D, xs, ys, 0.01));
  const step = () =>
    tf.tidy(() => {
      const { value, grad } = lossAndGradient(W);
      W.assign(W.sub(grad.mul(50)));
      value.dataSync();
    });
  step();
  const perSecond = 1e6 / microseconds(5, step);
  tf.dispose([xs, ys, W]);
  return perSecond;
}

type ProfiledKernel = Awaited<ReturnType<typeof tf.profile>>["kernels"][number];

/** Kernel count and time (ms) per group, e.g. per kernel name, from a tf.profile. */
function kernelTimes(kernels: ProfiledKernel[], group: (k: ProfiledKernel) => string): Map<string, { count: number; ms: number }> {
  const groups = new Map<string, { count: number; ms: number }>();
  for (const k of kernels) {
    const entry = groups.get(group(k)) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += k.kernelTimeMs as number;
    groups.set(group(k), entry);
  }
  return groups;
}

/** Kernels per step by type, and the time of forward, backward and update, for one model size. */
async function profile(config: MLPConfig, data: Dataset): Promise<void> {
  const generator = new Generator(1);
  const model = new MLPLanguageModel(config, generator, { W2: 0.01, b2: 0 });
  const { X, Y } = sampleBatch(data, BATCH, generator);
  const parameters = model.parameters();
  const forward = () => tf.tidy(() => void model.forward(X, Y).loss!.dataSync());
  const forwardBackward = () => tf.tidy(() => void tf.valueAndGrads(() => model.forward(X, Y).loss!)(parameters).value.dataSync());
  const step = () => void trainStep(model, X, Y, 0.01);
  for (let i = 0; i < 300; i++) step(); // warm up the JIT
  await tf.profile(step); // the first profiled call pays for the profiler's own start
  const info = await tf.profile(step);
  const byKernel = kernelTimes(info.kernels, (k) => k.name);
  const kernels = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`  ${info.kernels.length} kernels per step (tf.profile; its per-kernel times include the profiler's own checks):`);
  console.log("    " + kernels.map(([name, k]) => `${name} x${k.count} ${(k.ms * 1000).toFixed(0)}us`).join(", "));
  const f = microseconds(2000, forward);
  const fb = microseconds(2000, forwardBackward);
  const s = microseconds(2000, step);
  console.log(`  forward ${f.toFixed(0)} us | + backward ${(fb - f).toFixed(0)} us | + update ${(s - fb).toFixed(0)} us | step ${s.toFixed(0)} us`);
  X.dispose();
  Y.dispose();
  model.dispose();
}

/**
 * Lecture 04's deep BatchNorm MLP: steps/s of `train` with each Linear -> BatchNorm1d -> Tanh block as
 * one fused kernel on our SIMD code, and layer by layer (the BatchNorm as one kernel each way) with
 * and without our SIMD kernels, in alternating rounds so that all see the same machine load; and
 * kernels per step.
 * Also steps per CPU second (process.cpuUsage): on a shared, saturated machine the wall clock mostly
 * measures the other processes, while CPU time still compares the versions fairly.
 */
async function deepBatchNormSpeed(data: Dataset, steps: number): Promise<void> {
  const config = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 100 };
  const versions = [
    { name: "fused Linear -> BatchNorm1d -> Tanh blocks, SIMD kernels", blocks: true, simd: true },
    { name: "layer by layer (fused BatchNorm kernels), SIMD kernels", blocks: false, simd: true },
    { name: "layer by layer, no SIMD kernels (the threaded build's path)", blocks: true, simd: false },
  ];
  const results = versions.map(() => ({ wall: [] as number[], cpu: [] as number[], kernels: 0 }));
  const models = versions.map(() => deepMLP(config, new Generator(2147483647)));
  const generator = new Generator(1);
  const run = (i: number, n: number) => {
    setFastPaths({ fusedBlocks: versions[i].blocks, simd: versions[i].simd });
    return train(models[i], randomBatches(data, BATCH, generator), { steps: n, learningRate: 0.1, progress: false });
  };
  for (const [i] of versions.entries()) {
    await run(i, 200); // warm-up
    const { X, Y } = sampleBatch(data, BATCH, generator);
    results[i].kernels = (await tf.profile(() => void trainStep(models[i], X, Y, 0.1))).kernels.length;
    tf.dispose([X, Y]);
  }
  const tensors = tf.memory().numTensors;
  const roundSteps = Math.max(1, Math.round(steps / 5));
  for (let round = 0; round < 5; round++) {
    for (const [i] of versions.entries()) {
      const cpuStart = process.cpuUsage();
      const { stepsPerSecond } = await run(i, roundSteps);
      const cpu = process.cpuUsage(cpuStart);
      results[i].wall.push(stepsPerSecond);
      results[i].cpu.push(roundSteps / ((cpu.user + cpu.system) / 1e6));
    }
  }
  setFastPaths({ fusedBlocks: true, simd: true });
  if (tf.memory().numTensors !== tensors) throw new Error(`tensor leak: ${tensors} -> ${tf.memory().numTensors} tensors`);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [i, { name }] of versions.entries()) {
    const r = results[i];
    console.log(
      `  ${name}: ${r.kernels} kernels per step; train(): ${median(r.wall).toFixed(0)} steps/s median [${r.wall.map((w) => w.toFixed(0)).join(" ")}] ` +
        `(best ${Math.max(...r.wall).toFixed(0)}), ${median(r.cpu).toFixed(0)} steps per CPU second`,
    );
  }
  for (const model of models) model.dispose();
}

// ---------------------------------------------------------------------------------------------------
// Lecture 05: the GPT.

/** Steps per second of the GPT training step, the best and the median of 5 rounds. */
function gptSpeed(stepsPerRound: number): { best: number; median: number } {
  const trainer = gptTrainer();
  for (let i = 0; i < 3; i++) trainer.step(); // warm-up
  const tensors = tf.memory().numTensors;
  const speeds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < stepsPerRound; i++) trainer.step();
    speeds.push((stepsPerRound * 1000) / (performance.now() - start));
  }
  if (tf.memory().numTensors !== tensors) throw new Error(`tensor leak: ${tensors} -> ${tf.memory().numTensors} tensors`);
  trainer.dispose();
  speeds.sort((a, b) => a - b);
  return { best: speeds[4], median: speeds[2] };
}

/** Where one GPT step's time goes: kernels by type, their count and share of the kernel time. */
async function gptProfile(): Promise<void> {
  const trainer = gptTrainer();
  for (let i = 0; i < 3; i++) trainer.step();
  await tf.profile(() => void trainer.step()); // the first profiled call pays for the profiler's own start
  const start = performance.now();
  const info = await tf.profile(() => void trainer.step());
  const wall = performance.now() - start;
  trainer.dispose();
  const byKernel = kernelTimes(info.kernels, (k) => k.name);
  const total = [...byKernel.values()].reduce((sum, k) => sum + k.ms, 0);
  console.log(`  ${info.kernels.length} kernels, ${total.toFixed(0)} ms in kernels of a ${wall.toFixed(0)} ms profiled step (the rest: autograd, tidy, JS):`);
  const kernels = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  console.log("    " + kernels.map(([name, k]) => `${name} x${k.count} ${k.ms.toFixed(1)}ms ${((100 * k.ms) / total).toFixed(0)}%`).join(", "));
  const matmuls = kernelTimes(info.kernels.filter((k) => k.name === "BatchMatMul"), (k) => k.inputShapes.map((shape) => `[${shape}]`).join(" x "));
  console.log("  BatchMatMul by shape: " + [...matmuls].sort((a, b) => b[1].ms - a[1].ms).map(([s, k]) => `${s} x${k.count} ${k.ms.toFixed(1)}ms`).join(", "));
}

/** The GPT section; `--json` prints one line for --compare-gpt to read. */
async function gptSection(engineLine: string): Promise<void> {
  if (process.argv.includes("--stock-batched-matmul")) setFastPaths({ batchedMatMul: false, simd: false });
  if (process.argv.includes("--no-threaded-matmul")) setFastPaths({ threadedMatMul: false });
  const blocksBefore = matMulHelpers()?.blocksByThread() ?? [];
  const speed = gptSpeed(Number(option("gpt-steps") ?? 5));
  // The threaded matmul's blocks of rows computed by each thread meanwhile (0: this one).
  const blocks = (matMulHelpers()?.blocksByThread() ?? []).map((count, i) => count - blocksBefore[i]);
  const total = blocks.reduce((sum, count) => sum + count, 0);
  const shares = total === 0 ? [] : blocks.map((count) => `${((100 * count) / total).toFixed(0)}%`);
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify({ engine: engineLine, ...speed, shares }));
    return;
  }
  console.log(`Lecture 05 GPT (lib/gpt.ts, ${JSON.stringify(NANOGPT_CPU_RECIPE)}, AdamW + clipping, trainStep), one training step:`);
  console.log(`  ${speed.best.toFixed(2)} steps/s best, ${speed.median.toFixed(2)} median -> 2,000 steps in ${(2000 / speed.median / 60).toFixed(1)} min`);
  if (shares.length) console.log(`  the threaded matmul's rows by thread: ${shares.join(" (this one), ")} (helper${shares.length > 2 ? "s" : ""})`);
  await gptBesidePytorch();
  if (!process.argv.includes("--no-profile")) await gptProfile();
}

/**
 * The GPT step beside its PyTorch peer (lecture05-gpt-bench.py: the same model, recipe and shapes, one
 * fixed batch), 5 alternating rounds of --gpt-steps steps (default 10); PyTorch on as many threads as
 * our engine runs (--peer-threads to choose), steps/s per round, medians, per CPU second, and the load.
 */
async function gptBesidePytorch(): Promise<void> {
  const peer = await startPytorchPeer("lecture05-gpt-bench.py");
  if (typeof peer === "string") {
    console.log(`  PyTorch peer skipped: ${peer}.`);
    return;
  }
  const roundSteps = Number(option("gpt-steps") ?? 10);
  const threads = (option("peer-threads") ?? String(engineInfo()?.threads ?? 1)).split(",").map(Number);
  const trainer = gptTrainer();
  for (let i = 0; i < 3; i++) trainer.step(); // warm-up (the peer warms up in every round)
  const ours = async (n: number): Promise<Speed> => {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) trainer.step();
    const cpu = process.cpuUsage(cpuStart);
    return { wall: (n * 1000) / (performance.now() - start), cpu: n / ((cpu.user + cpu.system) / 1e6) };
  };
  const versions = [{ name: "ours (trainStep)", run: ours }, ...threads.map((t) => ({ name: `PyTorch ${peer.version}, ${t} thread${t > 1 ? "s" : ""}`, run: (n: number) => peer.run(n, t) }))];
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(", ");
  console.log(`Beside PyTorch: ${versions.length} versions in 5 alternating rounds of ${roundSteps} steps; load average ${load()} (1, 5, 15 min)`);
  const results = versions.map(() => [] as Speed[]);
  for (let round = 0; round < 5; round++) for (const [i, version] of versions.entries()) results[i].push(await version.run(roundSteps));
  trainer.dispose();
  peer.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const wall = results.map((rounds) => median(rounds.map((r) => r.wall)));
  const cpu = results.map((rounds) => median(rounds.map((r) => r.cpu)));
  for (const [i, version] of versions.entries()) {
    console.log(`  ${version.name}: ${wall[i].toFixed(2)} steps/s median [${results[i].map((r) => r.wall.toFixed(2)).join(" ")}], ${cpu[i].toFixed(2)} steps per CPU second`);
  }
  const best = Math.max(...wall.slice(1));
  console.log(`  ours / PyTorch (its faster thread count): ${(wall[0] / best).toFixed(2)}x in steps/s; load average after: ${load()}`);
}

/** The GPT step in child processes, engine settings side by side, rounds interleaved (the machine is shared). */
function compareGpt(): void {
  const settings = [
    { name: "1 thread (the single-threaded build)", env: { ZTH_THREADS: "1" }, args: [] },
    { name: "2 threads, matmuls on one (threadedMatMul off)", env: { ZTH_THREADS: "2" }, args: ["--no-threaded-matmul"] },
    { name: "2 threads, matmuls split across both", env: { ZTH_THREADS: "2" }, args: [] },
  ];
  const results = settings.map(() => [] as number[]);
  let engines: string[] = [];
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(", ")} (1, 5, 15 min)`);
  for (let round = 0; round < 2; round++) {
    settings.forEach((setting, i) => {
      const stepsPerRound = ["--gpt-steps", option("gpt-steps") ?? "5"];
      const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], "--only", "gpt", "--json", ...stepsPerRound, ...setting.args], {
        env: { ...process.env, ...setting.env },
        encoding: "utf8",
      });
      const line = child.stdout.trim().split("\n").at(-1) ?? "";
      if (child.status !== 0 || !line.startsWith("{")) throw new Error(`${setting.name}: the child failed\n${child.stderr}`);
      const { engine, median, shares } = JSON.parse(line) as { engine: string; median: number; shares: string[] };
      engines[i] = engine + (shares.length ? `, rows by thread ${shares.join("/")}` : "");
      results[i].push(median);
    });
  }
  settings.forEach((setting, i) => console.log(`${setting.name} (${engines[i]}): ${results[i].map((r) => r.toFixed(2)).join(", ")} steps/s (median of 5 rounds, per run)`));
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`);
}

// ---------------------------------------------------------------------------------------------------
// Lecture 03 beside PyTorch.


interface Peer {
  version: string;
  /** Steps per second of wall time and of CPU time, `steps` steps on `threads` threads (after the peer's own warm-up). */
  run(steps: number, threads: number): Promise<Speed>;
  close(): void;
}

interface Speed {
  wall: number;
  /** Steps per second of the process's CPU time: on a busy machine the fairer comparison. */
  cpu: number;
}

/** The PyTorch peer as a child process that answers one line per round, or why it cannot run. */
async function startPytorchPeer(script: string): Promise<Peer | string> {
  const python = process.env.ZTH_PYTHON || "python3";
  const root = path.resolve(path.dirname(process.argv[1]), "..");
  const child = spawn(python, [path.join(root, "scripts", "pytorch-reference", script)], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => ((await lines.next()).value as string | undefined) ?? undefined;
  const failed = new Promise<undefined>((resolve) => child.on("error", (error) => ((stderr += error.message), resolve(undefined))));
  const first = await Promise.race([next(), failed]);
  if (!first?.startsWith("ready")) {
    child.kill();
    return `${python} cannot run it (${stderr.trim().split("\n").at(-1) || "no output"}); set ZTH_PYTHON to a Python 3 with PyTorch`;
  }
  return {
    version: first.replace(/^ready /, ""),
    run: async (steps, threads) => {
      child.stdin.write(`${steps} ${threads}\n`);
      const answer = await next();
      if (answer === undefined) throw new Error(`the PyTorch peer ended: ${stderr.trim()}`);
      const [wall, cpu] = answer.split(" ").map(Number);
      return { wall, cpu };
    },
    close: () => child.stdin.end(),
  };
}

/**
 * A training step in alternating rounds: ours (`train`, every fast path), with --plain ours without
 * our SIMD kernels (the matmuls on XNNPACK, tanh and the sums in JS loops), and the PyTorch peer
 * `peerScript` on 1 and 2 threads (--peer-threads); steps/s per round, per CPU second, medians, and the load.
 * Lecture 03's MLP against lecture03-mlp-bench.py, lecture 07's final model against lecture07-bench.py.
 */
async function sideBySide(model: LanguageModel & { dispose(): void }, batches: BatchSource, peerScript: string, steps: number): Promise<void> {
  const roundSteps = Math.max(1, Math.round(steps / 5));
  const peer = await startPytorchPeer(peerScript);
  const ours = (simd: boolean) => async (n: number): Promise<Speed> => {
    setFastPaths({ simd });
    const cpuStart = process.cpuUsage();
    const { stepsPerSecond } = await train(model, batches, { steps: n, learningRate: 0.1, progress: false });
    const cpu = process.cpuUsage(cpuStart);
    return { wall: stepsPerSecond, cpu: n / ((cpu.user + cpu.system) / 1e6) };
  };
  // The version without SIMD kernels only when asked for: switching paths in one process slows the
  // next rounds of both (measured: ours alone 2,674 steps per CPU second, alternating with it 2,150).
  const versions: { name: string; run: (n: number) => Promise<Speed> }[] = [{ name: "ours, train() (SIMD kernels)", run: ours(true) }];
  if (process.argv.includes("--plain")) versions.push({ name: "ours without SIMD kernels (setFastPaths({ simd: false }))", run: ours(false) });
  const ourVersions = versions.length;
  if (typeof peer === "string") console.log(`  PyTorch peer skipped: ${peer}.`);
  else for (const threads of (option("peer-threads") ?? "1").split(",").map(Number)) versions.push({ name: `PyTorch ${peer.version}, ${threads} thread${threads > 1 ? "s" : ""}`, run: (n) => peer.run(n, threads) });
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(", ");
  console.log(`  ${versions.length} versions in 5 alternating rounds of ${roundSteps.toLocaleString("en-US")} steps; load average ${load()} (1, 5, 15 min)`);
  for (const version of versions.slice(0, ourVersions)) await version.run(500); // warm-up (the peer warms up in every round)
  const tensors = tf.memory().numTensors;
  const results = versions.map(() => [] as Speed[]);
  for (let round = 0; round < 5; round++) {
    for (const [i, version] of versions.entries()) results[i].push(await version.run(roundSteps));
  }
  setFastPaths({ simd: true });
  if (tf.memory().numTensors !== tensors) throw new Error(`tensor leak: ${tensors} -> ${tf.memory().numTensors} tensors`);
  model.dispose();
  if (typeof peer !== "string") peer.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const wall = results.map((rounds) => median(rounds.map((r) => r.wall)));
  const cpu = results.map((rounds) => median(rounds.map((r) => r.cpu)));
  for (const [i, version] of versions.entries()) {
    const rounds = results[i].map((r) => r.wall.toFixed(0)).join(" ");
    console.log(`  ${version.name}: ${wall[i].toFixed(0)} steps/s median [${rounds}], ${cpu[i].toFixed(0)} steps per CPU second`);
  }
  if (versions.length > ourVersions) {
    const ratio = (speeds: number[]) => (speeds[0] / Math.max(...speeds.slice(ourVersions))).toFixed(2);
    console.log(`  ours / PyTorch (its faster thread count): ${ratio(wall)}x in steps/s, ${ratio(cpu)}x in steps per CPU second`);
  }
  console.log(`  200,000 steps: ours ${(200_000 / wall[0]).toFixed(0)} s at this load`);
  console.log(`  load average after: ${load()}`);
}

/** Lecture 03's step: where its time goes, and its fixed cost. */
async function mlpProfiles(data: Dataset): Promise<void> {
  console.log("Where a step's time goes:");
  await profile(LECTURE_03, data);
  // The same graph with tiny tensors: what is left is the fixed cost of launching its kernels.
  const tiny: MLPConfig = { ...LECTURE_03, nEmbd: 1, nHidden: 1 };
  console.log(`The same step with tiny tensors (nEmbd 1, hidden 1): the fixed cost per step, without arithmetic:`);
  const tinySpeed = (await trainingSpeed(tiny, data, 10_000)).best;
  console.log(`  train(): ${tinySpeed.toFixed(0)} steps/s = ${(1e6 / tinySpeed).toFixed(0)} us per step`);
}

async function main(): Promise<void> {
  if (process.argv.includes("--compare-gpt")) return compareGpt();
  const steps = Number(option("steps") ?? 20_000);
  // The GPT alone runs on the engine its notebook asks for (a thread per core); the rest on the default.
  const info = await initEngine({ engine: option("engine"), threads: option("only") === "gpt" ? "cores" : undefined });
  const cpus = os.cpus();
  if (option("only") === "gpt") return gptSection(describeEngine(info));
  console.log(`Machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, load average ${os.loadavg()[0].toFixed(2)}`);
  console.log(describeEngine(info));
  const words = await loadNames();
  const tokenizer = namesTokenizer(words);
  if (option("only") === "04") return lecture04(words, tokenizer, steps);
  if (option("only") === "07") return lecture07(words, tokenizer, steps);
  if (option("only") !== "03") {
    console.log(`Lecture 00 micrograd, MLP(2, [16, 16, 1]) on 100 moons points: ${microgradSpeed().toFixed(0)} steps/s`);
    console.log(`Lecture 02 bigram net, full batch of 228,146 pairs: ${bigramNetSpeed(words, tokenizer).toFixed(2)} steps/s`);
  }
  const data = buildDataset(splitWords(words, new PythonRandom(42)).train, tokenizer, LECTURE_03.blockSize);
  console.log(`Lecture 03 MLP (${JSON.stringify(LECTURE_03)}), batch ${BATCH}, ${data.Y.length.toLocaleString("en-US")} training examples`);
  const generator = new Generator(2147483647);
  const mlp = new MLPLanguageModel(LECTURE_03, generator, { W2: 0.01, b2: 0 });
  await sideBySide(mlp, randomBatches(data, BATCH, generator), "lecture03-mlp-bench.py", steps);
  if (option("only") === "03") return;
  console.log("The update, side by side (steps/s of one batch's step, median of 7 interleaved rounds):");
  for (const [name, perSecond] of Object.entries(updateSpeeds(LECTURE_03, data, 1000))) console.log(`  ${name}: ${perSecond.toFixed(0)}`);
  if (!process.argv.includes("--no-profile")) await mlpProfiles(data);
  await lecture04(words, tokenizer, steps);
  await lecture07(words, tokenizer, steps);
  await gptSection(describeEngine(info));
}

/** Lecture 07's final model (WaveNet-like, 76,579 parameters, batch 32) beside the lecture's classes in PyTorch. */
async function lecture07(words: string[], tokenizer: ReturnType<typeof namesTokenizer>, steps: number): Promise<void> {
  const data = buildDataset(splitWords(words, new PythonRandom(42)).train, tokenizer, 8);
  console.log(`Lecture 07 hierarchical model (n_embd 24, n_hidden 128, 3 levels of FlattenConsecutive(2) -> Linear -> BatchNorm1d -> Tanh), batch ${BATCH}:`);
  const generator = new Generator(42);
  const model = wavenet({ vocabSize: tokenizer.vocabSize, blockSize: 8, nEmbd: 24, nHidden: 128 }, generator);
  await sideBySide(model, randomBatches(data, BATCH, generator), "lecture07-bench.py", Math.min(steps, 10_000));
}

async function lecture04(words: string[], tokenizer: ReturnType<typeof namesTokenizer>, steps: number): Promise<void> {
  const data = buildDataset(splitWords(words, new PythonRandom(42)).train, tokenizer, 3);
  console.log(`Lecture 04 deep BatchNorm MLP (5 x Linear(100, no bias) -> BatchNorm1d -> Tanh), batch ${BATCH}, load average ${os.loadavg()[0].toFixed(2)}:`);
  await deepBatchNormSpeed(data, Math.min(steps, 5_000));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
