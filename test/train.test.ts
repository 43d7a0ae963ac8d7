// train's nanoGPT options: evaluation of several splits every evalEvery steps, a learning-rate
// schedule that really sets each step's update, and the checkpoint hook after each evaluation.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../lib/engine/engine";
import { BigramLanguageModel } from "../lib/bigram-net";
import { estimateLoss } from "../lib/evaluate";
import { Generator } from "../lib/random";
import { warmupCosine } from "../lib/schedule";
import { textBatches } from "../lib/text-batches";
import { train, type CheckpointState } from "../lib/train";
import type { ProgressInfo } from "../lib/display/progress";

before(async () => {
  await initEngine("wasm");
});

const text = Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3, 4, 2, 1, 3][i % 8]);

test("evaluate returning splits: evaluated after steps evalEvery, 2 evalEvery, ..., each split's loss kept and reported", async () => {
  const model = new BigramLanguageModel(5, new Generator(1));
  const splits = { train: textBatches(text, 4, 4, new Generator(2)), val: textBatches(text, 4, 4, new Generator(3)) };
  const stepsAtEvaluation: number[] = [];
  let stepsDone = 0;
  const reports: ProgressInfo[] = [];
  const result = await train(model, textBatches(text, 4, 4, new Generator(4)), {
    steps: 10,
    learningRate: 0.1,
    onStep: () => void stepsDone++,
    evaluate: () => (stepsAtEvaluation.push(stepsDone), estimateLoss(model, splits, 2)),
    evalEvery: 3,
    progress: false,
    onProgress: (info) => reports.push(info),
  });
  assert.deepEqual(stepsAtEvaluation, [3, 6, 9], "evaluated after the update of steps 3, 6 and 9");
  assert.deepEqual(result.evalLosses.map((e) => e.step), [3, 6, 9]);
  for (const e of result.evalLosses) {
    assert.deepEqual(Object.keys(e.losses), ["train", "val"]);
    assert.equal(e.loss, e.losses.val, "loss is the last split's");
  }
  assert.ok(result.evalLosses[2].losses.train < result.evalLosses[0].losses.train, "the loss falls");
  assert.deepEqual(reports.at(-1)!.evalLosses, result.evalLosses[2].losses, "the final report shows the last evaluation");
  model.dispose();
});

test("a single number from evaluate is the split 'eval'", async () => {
  const model = new BigramLanguageModel(5, new Generator(1));
  const result = await train(model, textBatches(text, 4, 4, new Generator(4)), {
    steps: 4, learningRate: 0.1, evaluate: () => 1.5, evalEvery: 2, progress: false,
  });
  assert.deepEqual(result.evalLosses, [{ step: 2, loss: 1.5, losses: { eval: 1.5 } }, { step: 4, loss: 1.5, losses: { eval: 1.5 } }]);
  model.dispose();
});

test("the schedule's rate is the one each step's update uses: with SGD, every weight moves by -rate(step) * gradient", async () => {
  const model = new BigramLanguageModel(5, new Generator(5));
  const schedule = warmupCosine({ maxLearningRate: 0.5, minLearningRate: 0.05, warmupSteps: 2, decaySteps: 6 });
  const [weight] = model.parameters();
  const moves: { rate: number; expected: number[]; before: number[] }[] = [];
  let previous: { rate: number; expected: number[]; before: number[] } | undefined;
  await train(model, textBatches(text, 4, 4, new Generator(6)), {
    steps: 7,
    learningRate: schedule,
    onStep: ({ step, learningRate, grads }) => {
      assert.equal(learningRate, schedule(step), `step ${step}'s rate`);
      const before = Array.from(weight.dataSync());
      const grad = grads[0].dataSync();
      previous = { rate: learningRate, before, expected: before.map((w, i) => w - learningRate * grad[i]) };
      moves.push(previous);
    },
    progress: false,
  });
  // Each step's expected weights are the next step's starting weights (the last against the final weights).
  const after = [...moves.slice(1).map((m) => m.before), Array.from(weight.dataSync())];
  moves.forEach((move, step) => {
    const error = Math.max(...after[step].map((w, i) => Math.abs(w - move.expected[i])));
    assert.ok(error < 1e-6, `step ${step} (rate ${move.rate}): the update differs from -rate * gradient by ${error}`);
  });
  assert.deepEqual(moves.map((m) => m.rate), [0, 1, 2, 3, 4, 5, 6].map(schedule));
  model.dispose();
});

test("checkpoint is awaited after each evaluation with the steps, evaluations, losses and time so far", async () => {
  const model = new BigramLanguageModel(5, new Generator(7));
  const states: CheckpointState[] = [];
  const weightsAtCheckpoint: number[][] = [];
  let stepsDone = 0;
  const result = await train(model, textBatches(text, 4, 4, new Generator(8)), {
    steps: 8,
    learningRate: 0.1,
    onStep: () => void stepsDone++,
    evaluate: () => 2,
    evalEvery: 4,
    checkpoint: async (state) => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // training waits for it
      assert.equal(stepsDone, state.step, "no step runs while the hook saves");
      states.push({ ...state, evalLosses: [...state.evalLosses], losses: [...state.losses] });
      weightsAtCheckpoint.push(Array.from(model.parameters()[0].dataSync()));
    },
    progress: false,
  });
  assert.deepEqual(states.map((s) => [s.step, s.steps, s.evalLosses.length, s.losses.length]), [[4, 8, 1, 4], [8, 8, 2, 8]]);
  assert.deepEqual(states[1].losses, result.losses);
  assert.ok(states[1].seconds >= states[0].seconds && states[0].seconds > 0);
  assert.deepEqual(weightsAtCheckpoint[1], Array.from(model.parameters()[0].dataSync()), "the last checkpoint sees the final weights");
  await assert.rejects(() => train(model, textBatches(text, 4, 4, new Generator(8)), { steps: 2, learningRate: 0.1, checkpoint: () => {}, progress: false }), /checkpoint is called after each evaluation/);
  model.dispose();
});
