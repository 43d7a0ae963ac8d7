// Preloaded into the tslab kernel process by kernel-client.ts (node --require): the runner holds the
// other end of the kernel's stdin pipe, so when the runner goes away for any reason (even SIGKILL)
// the pipe closes and the kernel ends too, instead of running on unseen.
"use strict";
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
