// The committed WebAssembly module (lib/engine/simd-kernels-wasm.ts) against its source: built from the
// committed simd-kernels.c (the SHA-256 the build script embeds beside it), exporting exactly the
// functions simd-kernels.ts calls, and importing nothing but the backend's memory; the same for its build
// for a shared memory (the threaded build's). (That no kernel writes through a stack pointer is checked
// by the build script, on the disassembly.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { SIMD_KERNELS_SHARED_WASM, SIMD_KERNELS_SOURCE_SHA256, SIMD_KERNELS_WASM } from "../lib/engine/simd-kernels-wasm";
import { SIMD_KERNEL_NAMES } from "../lib/engine/simd-kernels";

const ENGINE = path.join(__dirname, "..", "lib", "engine");
const builds = {
  single: new WebAssembly.Module(Buffer.from(SIMD_KERNELS_WASM, "base64")),
  shared: new WebAssembly.Module(Buffer.from(SIMD_KERNELS_SHARED_WASM, "base64")),
};

test("the committed module was built from the committed simd-kernels.c", () => {
  const source = readFileSync(path.join(ENGINE, "simd-kernels.c"));
  const hash = createHash("sha256").update(source).digest("hex");
  assert.equal(hash, SIMD_KERNELS_SOURCE_SHA256, "simd-kernels.c changed since the module was built: run lib/engine/build-simd-kernels.sh (needs clang, lld and wabt) and commit simd-kernels-wasm.ts");
});

for (const [build, module] of Object.entries(builds)) {
  test(`the module (${build} memory) exports exactly the functions the TypeScript side calls`, () => {
    const exported = WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort();
    assert.deepEqual(exported, SIMD_KERNEL_NAMES.map((name) => `function ${name}`).sort());
  });

  test(`the module (${build} memory) imports only the backend's memory`, () => {
    assert.deepEqual(WebAssembly.Module.imports(module), [{ module: "env", name: "memory", kind: "memory" }]);
  });
}

test("each build takes only its kind of memory: an ordinary one, or a shared one", () => {
  const ordinary = new WebAssembly.Memory({ initial: 1 });
  const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  assert.ok(new WebAssembly.Instance(builds.single, { env: { memory: ordinary } }));
  assert.ok(new WebAssembly.Instance(builds.shared, { env: { memory: shared } }));
  assert.throws(() => new WebAssembly.Instance(builds.single, { env: { memory: shared } }), WebAssembly.LinkError);
  assert.throws(() => new WebAssembly.Instance(builds.shared, { env: { memory: ordinary } }), WebAssembly.LinkError);
});
