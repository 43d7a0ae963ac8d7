// Checkpoints on disk: a trained model's weights saved with everything needed to trust them later (the
// model's config, the vocabulary, the settings it was trained with), so a notebook can skip a long
// training when a matching checkpoint exists. The format and the checks made on loading are
// checkpoint-format.ts's (live mode's lib/browser/checkpoint.ts shares them); this file reads and
// writes the folder. Saving never deletes what it did not write: it replaces only an earlier
// checkpoint, and only once the new one is complete.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CheckpointError, MANIFEST, OUR_FORMATS, WEIGHTS, checkpointFiles, loadCheckpointFrom, type CheckpointContents, type Checkpointable } from "./checkpoint-format";
import { removeOnExit } from "./remove-on-exit";

export { CheckpointError, type CheckpointContents, type Checkpointable };

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
  const { manifest, weights } = await checkpointFiles(model, contents, sha256);
  // Written beside the target and renamed into place: a crash mid-save leaves the old checkpoint or none,
  // and the temporary folder goes on every failure, Ctrl-C included (removeOnExit).
  const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
  const release = removeOnExit(temporary);
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.mkdir(temporary);
    await fs.promises.writeFile(path.join(temporary, WEIGHTS), weights);
    await fs.promises.writeFile(path.join(temporary, MANIFEST), manifest);
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
  const read = (file: string) =>
    fs.promises.readFile(path.join(where, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
  const remedy = `Delete ${where} to train again, or load it into a model built with the checkpoint's settings.`;
  return loadCheckpointFrom({ where, remedy, read, sha256 }, model, expected);
}

async function sha256(data: Uint8Array | string): Promise<string> {
  return createHash("sha256").update(data).digest("hex");
}
