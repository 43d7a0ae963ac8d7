// Live mode's checkpoints (lib/browser/checkpoint.ts on lib/browser/memory-files.ts), run in Node: a
// saved GPT loads back to the same numbers; a mismatched config or a flipped byte in weights.bin is
// refused before the model is touched, as is an edited checkpoint.json, and loading leaks no tensor; the files the cells see through fs/path/os are the same ones.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { CheckpointError, checkpointExists, loadCheckpoint, saveCheckpoint } from "../lib/browser/checkpoint";
import { fs, os, path } from "../lib/browser/memory-files";
import { GPT, type GPTConfig } from "../lib/gpt";
import { Generator } from "../lib/random";

before(async () => {
  await initEngine("wasm");
});

const config: GPTConfig = { vocabSize: 5, blockSize: 4, nEmbd: 8, nHead: 2, nLayer: 1, dropout: 0 };
const contents = { vocabulary: ["a", "b", "c", "d", "\n"], settings: { steps: 3 } };
const values = (model: GPT) => model.parameters().map((p) => Array.from(p.dataSync()));

test("memory files: join and dirname as POSIX's, and a folder lists what was written into it", () => {
  assert.equal(path.join("/data/a", "../b", "./c"), "/data/b/c");
  assert.equal(path.dirname("/data/b/c"), "/data/b");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "t-"));
  fs.writeFileSync(path.join(dir, "x.txt"), "hi");
  assert.deepEqual(fs.readdirSync(dir), ["x.txt"]);
  assert.equal(fs.readFileSync(path.join(dir, "x.txt"), "utf8"), "hi");
  fs.rmSync(dir, { force: true });
  assert.equal(fs.existsSync(dir), false);
  assert.throws(() => fs.readFileSync(path.join(dir, "x.txt")), /ENOENT/);
});

test("a saved GPT loads back bit for bit; a wider one and a damaged copy are refused and left as they were", async () => {
  const model = new GPT(config, new Generator(1));
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-")), "gpt");
  await saveCheckpoint(dir, model, { ...contents, meta: { losses: [1.5] } });
  assert.ok(checkpointExists(dir));
  assert.deepEqual(fs.readdirSync(dir), ["checkpoint.json", "weights.bin"]);

  const reloaded = new GPT(config, new Generator(2));
  const tensors = tf.memory().numTensors;
  assert.deepEqual(await loadCheckpoint(dir, reloaded, contents), { losses: [1.5] });
  assert.equal(tf.memory().numTensors, tensors, "loading leaves no tensor behind");
  assert.deepEqual(values(reloaded), values(model));

  const wider = new GPT({ ...config, nEmbd: 16 }, new Generator(3));
  const before = values(wider);
  await assert.rejects(loadCheckpoint(dir, wider, contents), (e: Error) => e instanceof CheckpointError && /config\.nEmbd: saved 8, now 16/.test(e.message));
  assert.deepEqual(values(wider), before);

  const damaged = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "damaged-")), "gpt");
  fs.cpSync(dir, damaged);
  const bytes = fs.readFileSync(path.join(damaged, "weights.bin")) as Uint8Array;
  bytes[100] ^= 0xff;
  fs.writeFileSync(path.join(damaged, "weights.bin"), bytes);
  const untouched = new GPT(config, new Generator(4));
  const kept = values(untouched);
  await assert.rejects(loadCheckpoint(damaged, untouched, contents), /weights\.bin does not have the SHA-256 it was saved with/);
  assert.deepEqual(values(untouched), kept);

  // The same manifest checks as on disk (checkpoint-format.ts): an edited setting is caught.
  const edited = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "edited-")), "gpt");
  fs.cpSync(dir, edited);
  const manifest = JSON.parse(fs.readFileSync(path.join(edited, "checkpoint.json"), "utf8") as string);
  manifest.settings.steps = 4;
  fs.writeFileSync(path.join(edited, "checkpoint.json"), JSON.stringify(manifest));
  await assert.rejects(loadCheckpoint(edited, untouched, { ...contents, settings: { steps: 4 } }), /checkpoint\.json was changed after it was saved/);
  assert.deepEqual(values(untouched), kept);
  for (const m of [model, reloaded, wider, untouched]) m.dispose();
});
