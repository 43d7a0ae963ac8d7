// Browser build of lib/checkpoint.ts: the same format and checks (checkpoint-format.ts), with the
// checkpoint's two files kept in the page's memory (memory-files.ts) rather than on disk: notebook 05
// saves, reloads, and shows a damaged copy refused. A checkpoint lasts until the page is closed, so a
// reader who reopens the page trains again (saving says so).
import { CheckpointError, MANIFEST, WEIGHTS, checkpointFiles, loadCheckpointFrom, type CheckpointContents, type Checkpointable } from "../checkpoint-format";
import { host } from "./host";
import { fs, path } from "./memory-files";

export { CheckpointError, type CheckpointContents, type Checkpointable };

/** The browser has SHA-256 only as an asynchronous call (crypto.subtle). */
async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function saveCheckpoint(dir: string, model: Checkpointable, contents: CheckpointContents & { meta?: unknown }): Promise<void> {
  if (dir.trim() === "") throw new CheckpointError("saveCheckpoint: empty folder name; give the checkpoint a folder of its own.");
  const { manifest, weights } = await checkpointFiles(model, contents, sha256);
  fs.rmSync(dir, { force: true });
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, WEIGHTS), weights);
  fs.writeFileSync(path.join(dir, MANIFEST), manifest);
  host.post({ kind: "stream", name: "stdout", text: `note: checkpoint ${dir} kept in the page's memory (live mode), until the page is closed.\n` });
}

export function checkpointExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

export async function loadCheckpoint(dir: string, model: Checkpointable, expected: CheckpointContents): Promise<unknown> {
  if (!checkpointExists(dir)) throw new CheckpointError(`No checkpoint at ${dir} (live mode keeps checkpoints in the page's memory, until it is closed): train first.`);
  const where = path.resolve(dir);
  const read = async (file: string) => {
    const name = path.join(where, file);
    return fs.existsSync(name) ? (fs.readFileSync(name) as Uint8Array) : undefined;
  };
  const remedy = "Train again (live mode keeps checkpoints in the page's memory, until it is closed).";
  return loadCheckpointFrom({ where, remedy, read, sha256 }, model, expected);
}
