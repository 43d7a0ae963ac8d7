// Checkpoints: a trained model's weights saved with everything needed to trust them later (the model's
// config, the vocabulary, the settings it was trained with), so a notebook can skip a long training
// when a matching checkpoint exists. A checkpoint is a folder of two files:
//
//   checkpoint.json   config, vocabulary, settings, the name/shape of every parameter, SHA-256 of weights.bin, meta
//   weights.bin       every parameter's float32 values, in the order of checkpoint.json's list
//
// checkpoint.json carries a SHA-256 of all its other fields (weights.bin's own SHA-256 among them),
// so an edited setting is caught like a flipped bit in the weights. Loading checks everything before
// touching the model: a missing, corrupt or mismatched checkpoint is an error that says what differs,
// never silently wrong weights. Saving never deletes what it did not write: it replaces only an
// earlier checkpoint, and only once the new one is complete.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { assignWeights, differencesBetween, weightBytes } from "./checkpoint-format";
import { removeOnExit } from "./remove-on-exit";

const FORMAT = "zero-to-hero checkpoint 2";
/** Every format this course has written: an earlier checkpoint may be replaced, not loaded. */
const OUR_FORMATS = /^zero-to-hero checkpoint \d+$/;
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
  /** SHA-256 of weights.bin. */
  weightsSha256: string;
  savedAt: string;
  meta: unknown;
  /** SHA-256 of every other field (canonicalJson): an edit to any of them is caught. */
  sha256: string;
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
 * (created, or replacing an earlier checkpoint). `meta` is stored as is and returned by loadCheckpoint:
 * e.g. the losses. Refuses, before writing anything, an empty path, the current folder (or one above
 * it), and a target that is not a checkpoint folder of this course: it never deletes what it did not write.
 */
export async function saveCheckpoint(dir: string, model: Checkpointable, contents: CheckpointContents & { meta?: unknown }): Promise<void> {
  if (dir.trim() === "") throw new CheckpointError("saveCheckpoint: empty folder name; give the checkpoint a folder of its own, e.g. data/checkpoints/my-model.");
  const target = path.resolve(dir);
  await refuseUnlessReplaceable(target);
  const named = model.namedParameters();
  const weights = await weightBytes(named);
  const fields: Omit<Manifest, "sha256"> = {
    format: FORMAT,
    config: model.config,
    vocabulary: [...contents.vocabulary],
    settings: contents.settings ?? {},
    parameters: named.map(([name, p]) => ({ name, shape: p.shape })),
    weightsSha256: sha256(weights),
    savedAt: new Date().toISOString(),
    meta: contents.meta ?? null,
  };
  const manifest: Manifest = { ...fields, sha256: manifestSha256(fields) };
  // Written beside the target and renamed into place: a crash mid-save leaves the old checkpoint or none,
  // and the temporary folder goes on every failure, Ctrl-C included (removeOnExit).
  const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
  const release = removeOnExit(temporary);
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.mkdir(temporary);
    await fs.promises.writeFile(path.join(temporary, WEIGHTS), weights);
    await fs.promises.writeFile(path.join(temporary, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
    await refuseUnlessReplaceable(target); // once more: the folder may have changed while the weights were written
    await fs.promises.rm(target, { recursive: true, force: true });
    await fs.promises.rename(temporary, target);
  } finally {
    await fs.promises.rm(temporary, { recursive: true, force: true });
    release();
  }
}

/** Throws unless `target` is absent, an empty folder, or a checkpoint of this course and nothing else. */
async function refuseUnlessReplaceable(target: string): Promise<void> {
  const nothing = "nothing was written. Choose a folder of its own for the checkpoint (e.g. data/checkpoints/my-model).";
  const cwd = process.cwd();
  if (cwd === target || cwd.startsWith(target.endsWith(path.sep) ? target : target + path.sep)) {
    throw new CheckpointError(`saveCheckpoint: ${target} is the folder you are working in (or holds it); ${nothing}`);
  }
  const stat = await fs.promises.lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!stat) return;
  if (!stat.isDirectory()) throw new CheckpointError(`saveCheckpoint: ${target} is a file, not a checkpoint folder; ${nothing}`);
  const entries = await fs.promises.readdir(target);
  const foreign = entries.filter((entry) => entry !== MANIFEST && entry !== WEIGHTS);
  if (foreign.length > 0) {
    throw new CheckpointError(`saveCheckpoint: ${target} holds files that are not a checkpoint's (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""}); ${nothing}`);
  }
  if (entries.length === 0) return;
  const format = await fs.promises.readFile(path.join(target, MANIFEST), "utf8").then((text) => (JSON.parse(text) as { format?: unknown } | null)?.format, () => undefined);
  if (typeof format !== "string" || !OUR_FORMATS.test(format)) {
    throw new CheckpointError(`saveCheckpoint: ${target} is not a checkpoint of this course (no readable ${MANIFEST} of ours); ${nothing}`);
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.promises.readFile(path.join(where, MANIFEST), "utf8"));
  } catch (error) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${MANIFEST} is not readable JSON (${(error as Error).message}). ${remedy}`);
  }
  const manifest = checkedManifest(parsed, where, remedy);

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
  if (sha256(weights) !== manifest.weightsSha256) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${WEIGHTS} does not have the SHA-256 it was saved with. ${remedy}`);
  }
  const expectedBytes = 4 * named.reduce((total, [, p]) => total + p.size, 0);
  if (weights.length !== expectedBytes) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${WEIGHTS} has ${weights.length} bytes, not ${expectedBytes}. ${remedy}`);
  }
  assignWeights(named, weights);
  return manifest.meta;
}

/** The manifest, once its fields are all there, of the right kinds, and unchanged since the save. */
function checkedManifest(value: unknown, where: string, remedy: string): Manifest {
  const corrupt = (what: string) => new CheckpointError(`The checkpoint at ${where} is corrupt: ${MANIFEST} ${what}. ${remedy}`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw corrupt(`holds ${value === null ? "null" : Array.isArray(value) ? "a list" : typeof value}, not the checkpoint's fields`);
  }
  const m = value as Record<string, unknown>;
  if (typeof m.format === "string" && OUR_FORMATS.test(m.format) && m.format !== FORMAT) {
    throw new CheckpointError(`The checkpoint at ${where} was saved by an earlier version of the course ("${m.format}", now "${FORMAT}"). ${remedy}`);
  }
  if (m.format !== FORMAT) throw new CheckpointError(`${where} is not a checkpoint of this course (format ${JSON.stringify(m.format) ?? "missing"}). ${remedy}`);
  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isList = (v: unknown, item: (x: unknown) => boolean) => Array.isArray(v) && v.every(item);
  const isHex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  const checks: [keyof Manifest, (v: unknown) => boolean, string][] = [
    ["config", isObject, "not an object"],
    ["vocabulary", (v) => isList(v, (x) => typeof x === "string"), "not a list of strings"],
    ["settings", isObject, "not an object"],
    ["parameters", (v) => isList(v, (p) => isObject(p) && typeof (p as { name: unknown }).name === "string" && isList((p as { shape: unknown }).shape, Number.isInteger)), "not a list of { name, shape }"],
    ["weightsSha256", isHex, "not a SHA-256"],
    ["savedAt", (v) => typeof v === "string", "not a date"],
    ["meta", () => true, ""],
    ["sha256", isHex, "not a SHA-256"],
  ];
  const missing = checks.filter(([key]) => !(key in m)).map(([key]) => key);
  const malformed = checks.filter(([key, ok]) => key in m && !ok(m[key])).map(([key, , why]) => `${key} (${why})`);
  if (missing.length > 0) throw corrupt(`lacks ${missing.join(", ")}${malformed.length > 0 ? `; malformed: ${malformed.join(", ")}` : ""}`);
  if (malformed.length > 0) throw corrupt(`has malformed fields: ${malformed.join(", ")}`);
  const { sha256: recorded, ...fields } = m as unknown as Manifest;
  if (manifestSha256(fields) !== recorded) {
    throw new CheckpointError(`The checkpoint at ${where} cannot be trusted: ${MANIFEST} was changed after it was saved (its fields no longer have the SHA-256 saved with them). ${remedy}`);
  }
  return m as unknown as Manifest;
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of the manifest's fields as JSON with sorted keys, so the file's layout does not matter. */
function manifestSha256(fields: Omit<Manifest, "sha256">): string {
  return sha256(canonicalJson(JSON.parse(JSON.stringify(fields))));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

