// Browser build of lib/checkpoint.ts: no checkpoints in live mode. A notebook then trains instead of
// loading, and saving says it was skipped.
import type { CheckpointContents, Checkpointable } from "../checkpoint";
import { host } from "./host";

export type { CheckpointContents, Checkpointable };

export class CheckpointError extends Error {}

export async function saveCheckpoint(dir: string): Promise<void> {
  host.post({ kind: "stream", name: "stdout", text: `note: checkpoint ${dir} not saved: live mode in the browser keeps no checkpoints.\n` });
}

export function checkpointExists(): boolean {
  return false;
}

export async function loadCheckpoint(dir: string): Promise<unknown> {
  throw new CheckpointError(`no checkpoint ${dir} in live mode (the browser keeps none): train instead.`);
}
