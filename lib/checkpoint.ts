// Checkpoints: a trained model's weights saved with everything needed to trust them later (the model's
// config, the vocabulary, the settings it was trained with), so a notebook can skip a long training
// when a matching checkpoint exists. A checkpoint is a folder of two files:
//
//   checkpoint.json   config, vocabulary, settings, the name/shape of every parameter, SHA-256 of weights.bin, meta
//   weights.bin       every parameter's float32 values, in the order of checkpoint.json's list
//
// Loading checks everything before touching the model: a missing, corrupt or mismatched checkpoint
// is an error that says what differs, never silently wrong weights.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";

const FORMAT = "zero-to-hero checkpoint 1";
const MANIFEST = "checkpoint.json";
const WEIGHTS = "weights.bin";

/** A model a checkpoint can hold: a config to compare and named parameters to fill. */
export interface Checkpointable {
  readonly config: object;
  namedParameters(): [string, tf.Variable][];
}

export interface CheckpointContents {
  /** The tokenizer's vocabulary, token by token: token i must mean the same thing when loaded. */
  vocabulary: readonly string[];
  /** Anything else the weights depend on and must match, e.g. the training recipe: { steps, learningRate }. */
  settings?: Record<string, unknown>;
}

interface Manifest {
  format: string;
  config: object;
  vocabulary: string[];
  settings: Record<string, unknown>;
  parameters: { name: string; shape: number[] }[];
  sha256: string;
  savedAt: string;
  meta: unknown;
}

/** Thrown when a checkpoint is missing, corrupt, or does not match the model it is loaded into. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/**
 * Saves `model`'s weights with its config, the vocabulary and the settings into the folder `dir`
 * (created, or replaced whole). `meta` is stored as is and returned by loadCheckpoint: e.g. the losses.
 */
export async function saveCheckpoint(dir: string, model: Checkpointable, contents: CheckpointContents & { meta?: unknown }): Promise<void> {
  const named = model.namedParameters();
  const arrays = await Promise.all(named.map(([, p]) => p.data()));
  const weights = Buffer.concat(arrays.map((values) => Buffer.from(new Float32Array(values).buffer)));
  const manifest: Manifest = {
    format: FORMAT,
    config: model.config,
    vocabulary: [...contents.vocabulary],
    settings: contents.settings ?? {},
    parameters: named.map(([name, p]) => ({ name, shape: p.shape })),
    sha256: sha256(weights),
    savedAt: new Date().toISOString(),
    meta: contents.meta ?? null,
  };
  // Written beside the target and renamed into place: a crash mid-save leaves the old checkpoint or none.
  const target = path.resolve(dir);
  const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
  await fs.promises.mkdir(temporary, { recursive: true });
  try {
    await fs.promises.writeFile(path.join(temporary, WEIGHTS), weights);
    await fs.promises.writeFile(path.join(temporary, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
    await fs.promises.rm(target, { recursive: true, force: true });
    await fs.promises.rename(temporary, target);
  } finally {
    await fs.promises.rm(temporary, { recursive: true, force: true });
  }
}

/** True when `dir` holds a checkpoint (whether it matches is for loadCheckpoint to say). */
export function checkpointExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

/**
 * Loads the weights saved in `dir` into `model`, after checking that the checkpoint is whole (SHA-256)
 * and was saved from a model with the same config, vocabulary, settings and parameters. Returns the
 * `meta` saved with it. Throws a CheckpointError that says what is wrong otherwise, leaving the model as it was.
 */
export async function loadCheckpoint(dir: string, model: Checkpointable, expected: CheckpointContents): Promise<unknown> {
  const where = path.resolve(dir);
  const remedy = `Delete ${where} to train again, or load it into a model built with the checkpoint's settings.`;
  if (!checkpointExists(where)) throw new CheckpointError(`No checkpoint at ${where} (no ${MANIFEST} there).`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(where, MANIFEST), "utf8")) as Manifest;
  } catch (error) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${MANIFEST} is not readable JSON (${(error as Error).message}). ${remedy}`);
  }
  if (manifest.format !== FORMAT) throw new CheckpointError(`${where} is not a checkpoint of this course (format "${manifest.format}"). ${remedy}`);

  const differences = [
    ...differencesBetween("config", manifest.config, model.config),
    ...differencesBetween("settings", manifest.settings, expected.settings ?? {}),
  ];
  if (JSON.stringify(manifest.vocabulary) !== JSON.stringify(expected.vocabulary)) {
    differences.push(`vocabulary: ${manifest.vocabulary.length} tokens saved, ${expected.vocabulary.length} expected${manifest.vocabulary.length === expected.vocabulary.length ? " (same size, different tokens)" : ""}`);
  }
  const named = model.namedParameters();
  const saved = manifest.parameters.map((p) => `${p.name} [${p.shape}]`).join(", ");
  const wanted = named.map(([name, p]) => `${name} [${p.shape}]`).join(", ");
  if (saved !== wanted) differences.push("parameters: the saved names or shapes differ from the model's");
  if (differences.length > 0) {
    throw new CheckpointError(`The checkpoint at ${where} does not match this model:\n  ${differences.join("\n  ")}\n${remedy}`);
  }

  let weights: Buffer;
  try {
    weights = await fs.promises.readFile(path.join(where, WEIGHTS));
  } catch {
    throw new CheckpointError(`The checkpoint at ${where} is incomplete: ${WEIGHTS} is missing. ${remedy}`);
  }
  if (sha256(weights) !== manifest.sha256) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${WEIGHTS} does not have the SHA-256 it was saved with. ${remedy}`);
  }
  const expectedBytes = 4 * named.reduce((total, [, p]) => total + p.size, 0);
  if (weights.length !== expectedBytes) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${WEIGHTS} has ${weights.length} bytes, not ${expectedBytes}. ${remedy}`);
  }
  // Copied into an aligned array (a Buffer may start at any byte offset of its pool).
  const values = new Float32Array(weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length));
  let offset = 0;
  tf.tidy(() => {
    for (const [, p] of named) {
      p.assign(tf.tensor(values.subarray(offset, offset + p.size), p.shape, "float32"));
      offset += p.size;
    }
  });
  return manifest.meta;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** "config.nEmbd: saved 128, now 64" for every key whose value differs. */
function differencesBetween(label: string, saved: object, current: object): string[] {
  const keys = [...new Set([...Object.keys(saved ?? {}), ...Object.keys(current)])].sort();
  const s = (saved ?? {}) as Record<string, unknown>;
  const c = current as Record<string, unknown>;
  return keys
    .filter((key) => JSON.stringify(s[key]) !== JSON.stringify(c[key]))
    .map((key) => `${label}.${key}: saved ${JSON.stringify(s[key]) ?? "nothing"}, now ${JSON.stringify(c[key]) ?? "nothing"}`);
}
