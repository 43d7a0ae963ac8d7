// Checkpoints: a saved GPT loads back to the same numbers; a missing, corrupt or mismatched one is a
// clear error and leaves the model untouched.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "child_process";
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

/** Temporary folders of these tests, removed at the end. */
const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempFolder(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function freshDir(): string {
  return path.join(tempFolder("zth-checkpoint-"), "gpt");
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

/** A folder of the user's with one file in it, to check that it survives. */
function userFolder(): { dir: string; file: string } {
  const dir = tempFolder("zth-user-");
  const file = path.join(dir, "my-notes.txt");
  fs.writeFileSync(file, "mine");
  return { dir, file };
}

test("saveCheckpoint never deletes what it did not write: a folder of other files, a plain file, an empty path, the current folder", async (t) => {
  const model = new GPT(config, new Generator(7));
  t.after(() => model.dispose());
  const save = (dir: string) => saveCheckpoint(dir, model, { vocabulary, settings });
  const refused = (pattern: RegExp) => (e: Error) => e instanceof CheckpointError && pattern.test(e.message);

  const folder = userFolder();
  await assert.rejects(save(folder.dir), refused(/holds files that are not a checkpoint's \(my-notes\.txt\).*nothing was written/));
  assert.equal(fs.readFileSync(folder.file, "utf8"), "mine");
  assert.deepEqual(fs.readdirSync(path.dirname(folder.dir)).filter((f) => f.startsWith(path.basename(folder.dir) + ".")), [], "no temporary folder left");

  await assert.rejects(save(folder.file), refused(/is a file, not a checkpoint folder/));
  assert.equal(fs.readFileSync(folder.file, "utf8"), "mine");

  await assert.rejects(save(""), refused(/empty folder name/));
  await assert.rejects(save("   "), refused(/empty folder name/));

  // "." and "" in a kernel mean the notebooks' folder.
  const cwd = process.cwd();
  process.chdir(folder.dir);
  try {
    await assert.rejects(save("."), refused(/is the folder you are working in/));
    await assert.rejects(save(".."), refused(/is the folder you are working in|holds files/));
  } finally {
    process.chdir(cwd);
  }
  assert.deepEqual(fs.readdirSync(folder.dir), ["my-notes.txt"]);

  // A checkpoint with a file of the user's added is not replaced either.
  const dir = freshDir();
  await save(dir);
  fs.writeFileSync(path.join(dir, "README.txt"), "my run");
  await assert.rejects(save(dir), refused(/README\.txt/));
  assert.equal(fs.readFileSync(path.join(dir, "README.txt"), "utf8"), "my run");
  // An empty folder (made for the checkpoint) is fine.
  const empty = tempFolder("zth-empty-");
  await save(empty);
  assert.ok(checkpointExists(empty));
});

test("a checkpoint.json that is valid JSON but lacks fields, or was edited, is a CheckpointError that says so", async (t) => {
  const model = new GPT(config, new Generator(8));
  t.after(() => model.dispose());
  const dir = freshDir();
  await saveCheckpoint(dir, model, { vocabulary, settings });
  const manifestFile = path.join(dir, "checkpoint.json");
  const original = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Record<string, unknown>;
  const load = () => loadCheckpoint(dir, model, { vocabulary, settings });
  const write = (value: unknown) => fs.writeFileSync(manifestFile, JSON.stringify(value));

  write(null);
  await assert.rejects(load(), (e: Error) => e instanceof CheckpointError && /checkpoint\.json holds null, not the checkpoint's fields/.test(e.message));
  write([1, 2]);
  await assert.rejects(load(), (e: Error) => e instanceof CheckpointError && /holds a list, not the checkpoint's fields/.test(e.message));
  write({ format: original.format });
  await assert.rejects(load(), (e: Error) => e instanceof CheckpointError && /lacks config, vocabulary, settings, parameters/.test(e.message));
  write({ ...original, vocabulary: "abcd\n", parameters: [{ name: "x" }] });
  await assert.rejects(load(), (e: Error) => e instanceof CheckpointError && /vocabulary \(not a list of strings\), parameters \(not a list of \{ name, shape \}\)/.test(e.message));

  // The recorded settings are edited to claim the training the loader asks for: caught.
  write({ ...original, settings: { ...settings, steps: 20 } });
  await assert.rejects(
    loadCheckpoint(dir, model, { vocabulary, settings: { ...settings, steps: 20 } }),
    (e: Error) => e instanceof CheckpointError && /checkpoint\.json was changed after it was saved/.test(e.message),
  );
  write(original);
  await load(); // the untouched file loads
});

test("a save stopped with Ctrl-C in a plain Node process leaves no temporary folder", { timeout: 60_000 }, async (t) => {
  // Inside the project, so the child finds its node_modules.
  const tmp = path.resolve(__dirname, "..", "build", "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const parent = fs.mkdtempSync(path.join(tmp, "checkpoint-sigint-"));
  t.after(() => fs.rmSync(parent, { recursive: true, force: true }));
  const script = path.join(parent, "save.ts");
  // The disk is made to stall on the first write, so the signal arrives while the save is under way.
  fs.writeFileSync(script, `
import { spawn } from "child_process";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { saveCheckpoint } from ${JSON.stringify(path.resolve(__dirname, "../lib/checkpoint"))};
tf.setBackend("cpu").then(() => {
  fs.promises.writeFile = (async (file: string) => { console.log("writing " + file); await new Promise(() => {}); }) as typeof fs.promises.writeFile;
  setInterval(() => {}, 1000);
  const p = tf.variable(tf.zeros([2]));
  return saveCheckpoint(${JSON.stringify(path.join(parent, "gpt"))}, { config: {}, namedParameters: () => [["p", p]] }, { vocabulary: ["a"] });
});
`);
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("writing") && resolve());
    child.once("exit", () => reject(new Error("the child ended before writing")));
  });
  assert.equal(fs.readdirSync(parent).filter((f) => f.endsWith(".tmp")).length, 1, "the temporary folder exists while saving");
  child.kill("SIGINT");
  assert.equal(await exited, "SIGINT", "Ctrl-C still ends the process");
  assert.deepEqual(fs.readdirSync(parent), ["save.ts"], "no temporary folder, no checkpoint");
});
