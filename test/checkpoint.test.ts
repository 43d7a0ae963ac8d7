// Checkpoints: a saved GPT loads back to the same numbers; a missing, corrupt or mismatched one is a
// clear error and leaves the model untouched.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { CheckpointError, checkpointExists, loadCheckpoint, saveCheckpoint } from "../lib/checkpoint";
import { GPT, type GPTConfig } from "../lib/gpt";
import { Generator } from "../lib/random";

before(async () => {
  await initEngine("wasm");
});

const config: GPTConfig = { vocabSize: 5, blockSize: 4, nEmbd: 8, nHead: 2, nLayer: 1, dropout: 0 };
const vocabulary = ["a", "b", "c", "d", "\n"];
const settings = { steps: 10, learningRate: 1e-3 };

function freshDir(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zth-checkpoint-")), "gpt");
}

function logitsOf(model: GPT): number[] {
  return tf.tidy(() => Array.from(model.forward(tf.tensor2d([[0, 1, 2, 3]], [1, 4], "int32")).logits.dataSync()));
}

test("saveCheckpoint/loadCheckpoint: the loaded model gives the saved model's logits, and meta comes back", async () => {
  const dir = freshDir();
  const saved = new GPT(config, new Generator(1));
  assert.equal(checkpointExists(dir), false);
  await saveCheckpoint(dir, saved, { vocabulary, settings, meta: { valLoss: 1.5 } });
  assert.equal(checkpointExists(dir), true);
  const loaded = new GPT(config, new Generator(2));
  assert.notDeepEqual(logitsOf(loaded), logitsOf(saved));
  const tensors = tf.memory().numTensors;
  const meta = await loadCheckpoint(dir, loaded, { vocabulary, settings });
  assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
  assert.deepEqual(meta, { valLoss: 1.5 });
  assert.deepEqual(logitsOf(loaded), logitsOf(saved));
  // Saving again replaces the folder whole.
  await saveCheckpoint(dir, loaded, { vocabulary, settings, meta: 2 });
  assert.equal(await loadCheckpoint(dir, saved, { vocabulary, settings }), 2);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ["gpt"], "no temporary folder left");
  saved.dispose();
  loaded.dispose();
});

test("loadCheckpoint: missing, corrupt and mismatched checkpoints are clear errors, the model untouched", async () => {
  const dir = freshDir();
  const model = new GPT(config, new Generator(3));
  const before = logitsOf(model);
  await assert.rejects(loadCheckpoint(dir, model, { vocabulary }), (e: Error) => e instanceof CheckpointError && /No checkpoint at/.test(e.message));
  await saveCheckpoint(dir, new GPT(config, new Generator(4)), { vocabulary, settings });

  const bigger = new GPT({ ...config, nEmbd: 16 }, new Generator(5));
  await assert.rejects(loadCheckpoint(dir, bigger, { vocabulary, settings }), /does not match this model:\n  config\.nEmbd: saved 8, now 16/);
  await assert.rejects(loadCheckpoint(dir, model, { vocabulary: ["a", "b", "c", "d", "e"], settings }), /vocabulary: 5 tokens saved, 5 expected \(same size, different tokens\)/);
  await assert.rejects(loadCheckpoint(dir, model, { vocabulary, settings: { ...settings, steps: 20 } }), /settings\.steps: saved 10, now 20/);
  assert.deepEqual(logitsOf(model), before, "a rejected checkpoint leaves the weights as they were");

  // A flipped byte in the weights.
  const weights = path.join(dir, "weights.bin");
  const bytes = fs.readFileSync(weights);
  bytes[17] ^= 0xff;
  fs.writeFileSync(weights, bytes);
  const other = new GPT(config, new Generator(6));
  const otherBefore = logitsOf(other);
  await assert.rejects(loadCheckpoint(dir, other, { vocabulary, settings }), /is corrupt: weights\.bin does not have the SHA-256 it was saved with\. Delete /);
  assert.deepEqual(logitsOf(other), otherBefore, "a failed load leaves the weights as they were");
  fs.rmSync(weights);
  await assert.rejects(loadCheckpoint(dir, other, { vocabulary, settings }), /incomplete: weights\.bin is missing/);
  fs.writeFileSync(path.join(dir, "checkpoint.json"), "{ not json");
  await assert.rejects(loadCheckpoint(dir, other, { vocabulary, settings }), /corrupt: checkpoint\.json is not readable JSON/);
  tf.dispose([...model.parameters(), ...bigger.parameters(), ...other.parameters()]);
});
