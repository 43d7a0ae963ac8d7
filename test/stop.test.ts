// StopRequest: a loop listening for Jupyter's Stop (SIGINT in the kernel) takes the kernel's handler off
// while it listens and gives it back after; two loops listening at once (a cell training here while a
// worker trains another model) both hear Stop, and the kernel's handler comes back once, after the last.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StopRequest } from "../lib/runtime/stop";

/** A stand-in for the kernel's own SIGINT handler, counting the Stops it hears. */
function withKernelHandler(body: (kernelHeard: () => number) => Promise<void>): Promise<void> {
  let heard = 0;
  const kernel = () => void heard++;
  process.on("SIGINT", kernel);
  return body(() => heard).finally(() => process.removeListener("SIGINT", kernel));
}

test("one loop: Stop reaches the loop, not the kernel; after close the kernel hears it again", () =>
  withKernelHandler(async (kernelHeard) => {
    const kernelHandlers = process.listeners("SIGINT");
    const stop = await StopRequest.listen();
    assert.equal(stop.listening, true);
    process.emit("SIGINT", "SIGINT");
    assert.equal(stop.requested, true);
    assert.equal(kernelHeard(), 0);
    stop.close();
    assert.deepEqual(process.listeners("SIGINT"), kernelHandlers);
    process.emit("SIGINT", "SIGINT");
    assert.equal(kernelHeard(), 1);
  }));

test("two loops at once: both hear Stop, whichever closes first; the kernel's handler comes back once", async () => {
  for (const firstToClose of [0, 1]) {
    await withKernelHandler(async (kernelHeard) => {
      const kernelHandlers = process.listeners("SIGINT");
      const loops = [await StopRequest.listen(), await StopRequest.listen()];
      assert.ok(loops.every((loop) => loop.listening));
      loops[firstToClose].close();
      assert.equal(kernelHeard(), 0);
      process.emit("SIGINT", "SIGINT");
      assert.equal(loops[1 - firstToClose].requested, true, "the loop still listening heard Stop");
      assert.equal(kernelHeard(), 0, "the kernel did not, while a loop listens");
      loops[1 - firstToClose].close();
      loops[firstToClose].close(); // closing twice changes nothing
      assert.deepEqual(process.listeners("SIGINT"), kernelHandlers);
      process.emit("SIGINT", "SIGINT");
      assert.equal(kernelHeard(), 1);
    });
  }
});

test("outside a kernel (no SIGINT handler) a loop does not listen, so Ctrl-C keeps ending the process", async () => {
  assert.equal(process.listeners("SIGINT").length, 0);
  const stop = await StopRequest.listen();
  assert.equal(stop.listening, false);
  stop.close();
  assert.equal(process.listeners("SIGINT").length, 0);
});
