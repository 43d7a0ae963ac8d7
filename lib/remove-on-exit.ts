// Temporary files that must not outlive their process: a download's `.tmp` file, a checkpoint being
// written, a kernel's connection file. A `finally` removes them on every error, but Ctrl-C ends a
// plain Node process without running any `finally`; so while one exists, this module removes it
//   - when the process exits (process.exit included), and
//   - on SIGINT, SIGTERM or SIGHUP when nothing else listens for the signal: it removes the files,
//     then raises the signal again, so the process ends exactly as it would have.
// When something else handles the signal (tslab's kernel ends the running cell on SIGINT, the course
// runner stops its kernels and exits) the process decides; the `finally` or the exit still clean up.
import * as fs from "fs";

const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const paths = new Set<string>();

function removeAll(): void {
  for (const target of paths) fs.rmSync(target, { recursive: true, force: true });
  paths.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // another listener handles it and the process goes on or exits
  removeAll();
  stopListening();
  process.kill(process.pid, signal); // the signal's usual effect, now that nobody listens
}

function stopListening(): void {
  for (const signal of signals) process.off(signal, onSignal);
  process.off("exit", removeAll);
}

/**
 * Removes `target` (a file or a folder) if the process exits or is stopped by a signal before the
 * returned function is called. Call that function once `target` is gone or kept (in a `finally`).
 */
export function removeOnExit(target: string): () => void {
  if (paths.size === 0) {
    for (const signal of signals) process.on(signal, onSignal);
    process.on("exit", removeAll);
  }
  paths.add(target);
  return () => {
    if (!paths.delete(target)) return;
    if (paths.size === 0) stopListening();
  };
}
