// Preloaded into the tslab kernel process by kernel-client.ts (node --require): the runner holds the
// other end of the kernel's stdin pipe, so when the runner goes away for any reason (even SIGKILL)
// the pipe closes and the kernel ends too, instead of running on unseen.
//
// Main thread only: Node runs --require preloads in every worker thread too, and a worker's
// process.stdin ends at once, so there the watchdog would end the worker (process.exit in a worker
// ends only that worker) - e.g. each pthread of the threaded WASM backend, whose start then never finished.
"use strict";
if (require("node:worker_threads").isMainThread) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
