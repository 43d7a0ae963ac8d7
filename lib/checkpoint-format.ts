// A checkpoint's format and every check made on loading it, written once for lib/checkpoint.ts (files
// on disk) and live mode's lib/browser/checkpoint.ts (files in the page's memory). A checkpoint is a
// folder of two files:
//
//   checkpoint.json   config, vocabulary, settings, the name/shape of every parameter, SHA-256 of weights.bin, meta
//   weights.bin       every parameter's float32 values, in the model's namedParameters order
//
// checkpoint.json carries a SHA-256 of all its other fields (weights.bin's own SHA-256 among them), so
// an edited setting is caught like a flipped bit in the weights. Loading checks everything before
// touching the model: a missing, corrupt or mismatched checkpoint is an error that says what differs,
// never silently wrong weights. Where the files live is the caller's: it passes a way to read them.
import * as tf from "@tensorflow/tfjs";

export const FORMAT = "zero-to-hero checkpoint 2";
/** Every format this course has written: an earlier checkpoint may be replaced, not loaded. */
export const OUR_FORMATS = /^zero-to-hero checkpoint \d+$/;
export const MANIFEST = "checkpoint.json";
export const WEIGHTS = "weights.bin";

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

/** Thrown when a checkpoint is missing, corrupt, or does not match the model it is loaded into. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** SHA-256 as hex: Node's crypto on disk, the browser's crypto.subtle (asynchronous only) in live mode. */
export type Sha256 = (data: Uint8Array | string) => Promise<string>;

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

type Named = [string, tf.Variable][];

/** The two files of `model`'s checkpoint, as bytes to write. */
export async function checkpointFiles(model: Checkpointable, contents: CheckpointContents & { meta?: unknown }, sha256: Sha256): Promise<{ manifest: string; weights: Uint8Array }> {
  const named = model.namedParameters();
  const weights = await weightBytes(named);
  const fields: Omit<Manifest, "sha256"> = {
    format: FORMAT,
    config: model.config,
    vocabulary: [...contents.vocabulary],
    settings: contents.settings ?? {},
    parameters: named.map(([name, p]) => ({ name, shape: p.shape })),
    weightsSha256: await sha256(weights),
    savedAt: new Date().toISOString(),
    meta: contents.meta ?? null,
  };
  const manifest: Manifest = { ...fields, sha256: await manifestSha256(fields, sha256) };
  return { manifest: JSON.stringify(manifest, null, 1) + "\n", weights };
}

/** How the loader reaches a checkpoint's files: `read` gives a file's bytes, or undefined when it is missing. */
export interface CheckpointSource {
  /** The folder, as error messages name it. */
  where: string;
  /** What the reader can do about a checkpoint that cannot be loaded (the end of every error). */
  remedy: string;
  read(file: typeof MANIFEST | typeof WEIGHTS): Promise<Uint8Array | undefined>;
  sha256: Sha256;
}

/**
 * Loads the checkpoint's weights into `model`, after checking that it is whole (SHA-256, size) and
 * was saved from a model with the same config, vocabulary, settings and parameters. Returns the
 * `meta` saved with it. Throws a CheckpointError that says what is wrong, leaving the model as it was.
 */
export async function loadCheckpointFrom(source: CheckpointSource, model: Checkpointable, expected: CheckpointContents): Promise<unknown> {
  const { where, remedy } = source;
  const manifestBytes = await source.read(MANIFEST);
  if (!manifestBytes) throw new CheckpointError(`No checkpoint at ${where} (no ${MANIFEST} there).`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (error) {
    throw new CheckpointError(`The checkpoint at ${where} is corrupt: ${MANIFEST} is not readable JSON (${(error as Error).message}). ${remedy}`);
  }
  const manifest = await checkedManifest(parsed, source);

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

  const weights = await source.read(WEIGHTS);
  if (!weights) throw new CheckpointError(`The checkpoint at ${where} is incomplete: ${WEIGHTS} is missing. ${remedy}`);
  if ((await source.sha256(weights)) !== manifest.weightsSha256) {
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
async function checkedManifest(value: unknown, { where, remedy, sha256 }: CheckpointSource): Promise<Manifest> {
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
  if ((await manifestSha256(fields, sha256)) !== recorded) {
    throw new CheckpointError(`The checkpoint at ${where} cannot be trusted: ${MANIFEST} was changed after it was saved (its fields no longer have the SHA-256 saved with them). ${remedy}`);
  }
  return m as unknown as Manifest;
}

/** SHA-256 of the manifest's fields as JSON with sorted keys, so the file's layout does not matter. */
function manifestSha256(fields: Omit<Manifest, "sha256">, sha256: Sha256): Promise<string> {
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

/** weights.bin's bytes: every parameter's float32 values, one after another. */
async function weightBytes(named: Named): Promise<Uint8Array> {
  const arrays = await Promise.all(named.map(([, p]) => p.data() as Promise<Float32Array>));
  const bytes = new Uint8Array(arrays.reduce((total, values) => total + values.byteLength, 0));
  arrays.reduce((offset, values) => (bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset), offset + values.byteLength), 0);
  return bytes;
}

/** Puts weights.bin's values into the parameters (the caller has checked its size and SHA-256). */
function assignWeights(named: Named, bytes: Uint8Array): void {
  // Copied into an aligned array (the bytes may start at any offset of their buffer).
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  let offset = 0;
  tf.tidy(() => {
    for (const [, p] of named) {
      p.assign(tf.tensor(values.subarray(offset, offset + p.size), p.shape, "float32"));
      offset += p.size;
    }
  });
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
