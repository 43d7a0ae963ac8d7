// Jupyter's Stop button during `await train(...)`, through the real tslab kernel: the kernel gets a
// real SIGINT (tslab's interrupt mode), as JupyterLab sends it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startKernel, type ExecutionResult, type Kernel } from "../scripts/kernel-client";
import { notebooksDir } from "../scripts/cli";
import type { Output } from "../scripts/notebook-file";

let kernel: Kernel;

before(async () => {
  kernel = await startKernel({ cwd: notebooksDir, env: { ...process.env, ZTH_QUICK: "1" } });
});

after(async () => {
  await kernel?.shutdown();
});

/** All text an execution wrote: streams, and the text of displays (the progress line is HTML). */
function texts(outputs: Output[]): { stdout: string; stderr: string; display: string } {
  const join = (text: unknown) => (Array.isArray(text) ? text.join("") : String(text ?? ""));
  const stream = (name: string) => outputs.filter((o) => o.output_type === "stream" && o.name === name).map((o) => join(o.text)).join("");
  const display = outputs
    .filter((o) => o.output_type === "display_data" || o.output_type === "execute_result")
    .map((o) => {
      const data = (o.data ?? {}) as Record<string, unknown>;
      return join(data["text/plain"] ?? join(data["text/html"]).replace(/<svg[\s\S]*?<\/svg>/g, "").replace(/<[^>]+>/g, ""));
    })
    .join("\n");
  return { stdout: stream("stdout"), stderr: stream("stderr"), display };
}

async function run(code: string): Promise<ExecutionResult> {
  const result = await kernel.execute(code, { timeoutMs: 120_000 });
  const { stderr } = texts(result.outputs);
  assert.equal(stderr, "", `stderr of ${code.slice(0, 60)}...`);
  assert.equal(result.status, "ok", `status of ${code.slice(0, 60)}...`);
  return result;
}

test("Stop during train: training ends within a step or two, cleanly, and the weights stay as they are", async () => {
  await run(`
import * as tf from "@tensorflow/tfjs";
import { initEngine, MLPLanguageModel, Generator, namesTokenizer, buildDataset, randomBatches, train } from "zero-to-hero";
await initEngine();
const words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn"];
const tokenizer = namesTokenizer(words);
const data = buildDataset(words, tokenizer, 3);
const model = new MLPLanguageModel({ vocabSize: tokenizer.vocabSize, blockSize: 3, nEmbd: 4, nHidden: 64 }, new Generator(1));
let stepsSeen = 0;
`);
  // A training cell that would run for hours; Stop it once its progress line has shown up.
  let progressShown: () => void = () => {};
  const progress = new Promise<void>((resolve) => (progressShown = resolve));
  const training = kernel.execute(
    `const result = await train(model, randomBatches(data, 8, new Generator(2)), {
  steps: 100_000_000, learningRate: 0.01, title: "mlp", onStep: () => void stepsSeen++,
});`,
    {
      timeoutMs: 120_000,
      onOutput: (output) => {
        if (texts([output]).display.includes("mlp: step")) progressShown();
      },
    },
  );
  await progress;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const interruptedAt = Date.now();
  kernel.interrupt();
  const result = await training;
  const stopSeconds = (Date.now() - interruptedAt) / 1000;
  const { stdout, stderr, display } = texts(result.outputs);
  assert.equal(result.status, "ok", `the cell finishes normally (${result.error ?? ""})`);
  assert.equal(stderr, "", "no error, no stack trace");
  assert.ok(stopSeconds < 2, `the cell ended ${stopSeconds} s after Stop`);
  assert.match(display, /mlp: stopped at step [\d,]+ of 100,000,000 after/);
  assert.doesNotMatch(stdout + display, /Interrupted asynchronously/);

  // Nothing keeps training in the background: the weights and the step count stay put.
  const check = await run(`
const before = { weights: Array.from(model.W1.dataSync()), steps: stepsSeen };
await new Promise((resolve) => setTimeout(resolve, 1000));
console.log(JSON.stringify({
  sameWeights: Array.from(model.W1.dataSync()).every((v, i) => v === before.weights[i]),
  sameSteps: stepsSeen === before.steps,
  stopped: result.stopped,
  stepsDone: result.stepsDone,
  losses: result.losses.length,
}));
`);
  const state = JSON.parse(texts(check.outputs).stdout.trim()) as Record<string, unknown>;
  assert.deepEqual(
    { sameWeights: state.sameWeights, sameSteps: state.sameSteps, stopped: state.stopped },
    { sameWeights: true, sameSteps: true, stopped: true },
  );
  assert.equal(state.losses, state.stepsDone);
  assert.match(display, new RegExp(`stopped at step ${(state.stepsDone as number).toLocaleString("en-US")} of`));

  // The model keeps training from where it stopped, and the kernel's own Stop works again afterwards.
  await run(`const again = await train(model, randomBatches(data, 8, new Generator(3)), { steps: 20, learningRate: 0.01, progress: false });
console.log(again.stepsDone, again.stopped);`);
  // (Interrupt once the cell is inside its await: during a cell's synchronous part Node's vm holds SIGINT.)
  let inside: () => void = () => {};
  const waitingStarted = new Promise<void>((resolve) => (inside = resolve));
  const waiting = kernel.execute(`console.log("waiting"); await new Promise((resolve) => setTimeout(resolve, 30_000));`, {
    timeoutMs: 60_000,
    onOutput: () => inside(),
  });
  await waitingStarted;
  await new Promise((resolve) => setTimeout(resolve, 300));
  kernel.interrupt();
  const interrupted = await waiting;
  assert.match(texts(interrupted.outputs).stderr, /Interrupted/, "outside train, tslab handles Stop as before");
});
