// Browser build of lib/checkpoint.ts: the same calls and checks, with the checkpoint's two files kept in
// the page's memory (memory-files.ts) rather than on disk: notebook 05 saves, reloads, and shows a
// damaged copy refused. A checkpoint lasts until the page is closed, so a reader who reopens the page
// trains again (saving says so).
import type { CheckpointContents, Checkpointable } from "../checkpoint";
import { assignWeights, differencesBetween, weightBytes } from "../checkpoint-format";
import { host } from "./host";
import { fs, path } from "./memory-files";

export type { CheckpointContents, Checkpointable };

export class CheckpointError extends Error {}

const MANIFEST = "checkpoint.json";
const WEIGHTS = "weights.bin";
const FORMAT = "zero-to-hero checkpoint (live mode)";

async function sha256(bytes: Uint8Array): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function saveCheckpoint(dir: string, model: Checkpointable, contents: CheckpointContents & { meta?: unknown }): Promise<void> {
  if (dir.trim() === "") throw new CheckpointError("saveCheckpoint: empty folder name; give the checkpoint a folder of its own.");
  const named = model.namedParameters();
  const weights = await weightBytes(named);
  const manifest = {
    format: FORMAT, config: model.config, vocabulary: [...contents.vocabulary], settings: contents.settings ?? {},
    parameters: named.map(([name, variable]) => ({ name: name, shape: variable.shape })), weightsSha256: await sha256(weights), meta: contents.meta ?? null,
  };
  fs.rmSync(dir, { force: true });
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, WEIGHTS), weights);
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
  host.post({ kind: "stream", name: "stdout", text: `note: checkpoint ${dir} kept in the page's memory (live mode), until the page is closed.\n` });
}

export function checkpointExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

export async function loadCheckpoint(dir: string, model: Checkpointable, expected: CheckpointContents): Promise<unknown> {
  if (!checkpointExists(dir)) throw new CheckpointError(`no checkpoint in ${dir} (live mode keeps checkpoints in the page's memory, until it is closed): train first.`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8") as string);
  const named = model.namedParameters();
  const differences: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  differences.push(...differencesBetween("config", manifest.config, model.config), ...differencesBetween("settings", manifest.settings, expected.settings ?? {}));
  if (!same(manifest.vocabulary, [...expected.vocabulary])) differences.push("vocabulary: the saved one differs");
  if (!same(manifest.parameters, named.map(([name, v]) => ({ name: name, shape: v.shape })))) differences.push("parameters: the saved names or shapes differ from the model's");
  if (differences.length > 0) throw new CheckpointError(`checkpoint ${dir} does not match this model; nothing was loaded:\n  ${differences.join("\n  ")}`);
  const weights = fs.readFileSync(path.join(dir, WEIGHTS)) as Uint8Array;
  const actual = await sha256(weights);
  if (actual !== manifest.weightsSha256) throw new CheckpointError(`checkpoint ${dir}: ${WEIGHTS} is damaged (SHA-256 ${actual}, saved ${manifest.weightsSha256}); nothing was loaded: train again.`);
  assignWeights(named, weights);
  return manifest.meta;
}
