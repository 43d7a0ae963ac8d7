// The WebAssembly module (Emscripten) installs process-wide handlers that rethrow every uncaught
// exception and unhandled rejection; in a notebook kernel that turns a stray async error into a dead
// kernel. initEngine removes them. Its own file: nothing may load the WASM backend before this test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../lib/engine/engine";

test("starting the WASM engine leaves no process-wide error handlers behind", async () => {
  const before = { uncaught: process.listeners("uncaughtException").length, unhandled: process.listeners("unhandledRejection").length };
  await initEngine("wasm");
  assert.equal(process.listeners("uncaughtException").length, before.uncaught);
  assert.equal(process.listeners("unhandledRejection").length, before.unhandled);
});
