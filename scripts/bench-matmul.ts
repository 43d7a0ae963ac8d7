// Our SIMD matmul alone (simd-kernels.c's `matmul_rows`, one thread, in the threads' blocks of rows) on the products of the GPT's step
// (the shapes threaded-matmul.ts receives at the nanoGPT CPU recipe), in GFLOP/s, and whether its
// outputs have the same bits as another build's (to compare an edit of the kernel with what it replaces).
//
//   npx tsx scripts/bench-matmul.ts [--rounds 5] [--against <a simd-kernels-wasm.ts of another build>]
//
// With --against, the two builds alternate shape by shape, round by round, and the outputs must match bit for bit.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { SIMD_KERNELS_WASM } from "../lib/engine/simd-kernels-wasm";
import type { SimdKernels } from "../lib/engine/simd-kernels";

/** One product c [m, n] = a @ b [k, n]; a transposed view ([k, m] stored) where `transposeA`. */
interface Shape {
  name: string;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  /** How many of these one training step runs. */
  perStep: number;
}

// The 2-D products of one step: 4 layers x (q, k, v, proj: 128x128; MLP: 128x512, 512x128), each
// forward, input gradient (b transposed by a copy first) and weight gradient (a transposed view).
const SHAPES: Shape[] = [
  { name: "x @ W (128x128)", m: 768, k: 128, n: 128, transposeA: false, perStep: 32 },
  { name: "x^T @ dy (128x128)", m: 128, k: 768, n: 128, transposeA: true, perStep: 16 },
  { name: "x @ W1 (128x512)", m: 768, k: 128, n: 512, transposeA: false, perStep: 8 },
  { name: "h @ W2 (512x128)", m: 768, k: 512, n: 128, transposeA: false, perStep: 8 },
  { name: "x^T @ dh (128x512)", m: 128, k: 768, n: 512, transposeA: true, perStep: 4 },
  { name: "h^T @ dy (512x128)", m: 512, k: 768, n: 128, transposeA: true, perStep: 4 },
];

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** A build's kernels; builds before pack_panels took b itself, not its panels. */
type Kernels = SimdKernels & { pack_panels?: SimdKernels["pack_panels"] };

function instantiate(base64: string, memory: WebAssembly.Memory): Kernels {
  const module = new WebAssembly.Module(Buffer.from(base64, "base64"));
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
}

/** Byte offsets of a, b and c for a shape, above the first 1,024 bytes (the backend's, in the real memory). */
function layout(shape: Shape) {
  const a = 4096;
  const b = a + 4 * shape.m * shape.k;
  const c = b + 4 * shape.k * shape.n;
  const panels = c + 4 * shape.m * shape.n;
  return { a, b, c, panels, end: panels + 4 * shape.k * 8 * Math.ceil(shape.n / 8) };
}

/**
 * Milliseconds per product (b packed first where the build packs, as threaded-matmul.ts does), the
 * fastest of `repeats` timed calls after one untimed (on a busy machine the slower ones were interrupted).
 */
function time(kernels: Kernels, shape: Shape, repeats: number): number {
  const { a, b, c, panels } = layout(shape);
  const [aRow, aCol] = shape.transposeA ? [1, shape.m] : [shape.k, 1];
  // In blocks of rows as the threads take them (matmul-helpers.ts: about 2^18 multiply-adds, a multiple of 4 rows).
  const rows = Math.min(shape.m, 4 * Math.ceil((1 << 18) / (shape.k * shape.n) / 4));
  const run = kernels.pack_panels
    ? () => {
        kernels.pack_panels!(b, shape.n, 1, panels, shape.k, shape.n);
        for (let i = 0; i < shape.m; i += rows) kernels.matmul_rows(a, aRow, aCol, panels, c, i, Math.min(shape.m, i + rows), shape.k, shape.n);
      }
    : () => {
        for (let i = 0; i < shape.m; i += rows) kernels.matmul_rows(a, aRow, aCol, b, c, i, Math.min(shape.m, i + rows), shape.k, shape.n);
      };
  run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return Math.min(...times);
}

async function main(): Promise<void> {
  const rounds = Number(option("rounds") ?? 5);
  const bytes = Math.max(...SHAPES.map((shape) => layout(shape).end));
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
  const floats = new Float32Array(memory.buffer);
  let seed = 1;
  for (let i = 1024; i < floats.length; i++) floats[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const builds: [string, Kernels][] = [["this build", instantiate(SIMD_KERNELS_WASM, memory)]];
  const against = option("against");
  if (against) {
    const other = (await import(pathToFileURL(resolve(against)).href)) as { SIMD_KERNELS_WASM: string };
    builds.push([against, instantiate(other.SIMD_KERNELS_WASM, memory)]);
  }
  for (const shape of SHAPES) {
    const { c } = layout(shape);
    const outputs = builds.map(([, kernels]) => {
      time(kernels, shape, 1);
      return floats.slice(c / 4, c / 4 + shape.m * shape.n);
    });
    const differ = outputs.slice(1).some((out) => out.some((x, i) => !Object.is(x, outputs[0][i])));
    if (differ) throw new Error(`${shape.name}: the builds' outputs differ: the kernel must sum k in the same order as before.`);
  }
  const gflops = (shape: Shape, ms: number) => (2 * shape.m * shape.k * shape.n) / ms / 1e6;
  const results = builds.map(() => SHAPES.map(() => [] as number[]));
  for (let round = 0; round < rounds; round++) {
    for (const [s, shape] of SHAPES.entries()) {
      const order = round % 2 === 0 ? builds.keys() : [...builds.keys()].reverse();
      for (const b of order) results[b][s].push(time(builds[b][1], shape, 20));
    }
  }
  console.log(`matmul_rows, one thread, ${rounds} alternating rounds, best ms and GFLOP/s${builds.length > 1 ? " (outputs equal bit for bit)" : ""}:`);
  for (const [b, [name]] of builds.entries()) {
    let stepMs = 0;
    const cells = SHAPES.map((shape, s) => {
      const ms = Math.min(...results[b][s]);
      stepMs += ms * shape.perStep;
      return `${shape.name} ${ms.toFixed(3)} ms ${gflops(shape, ms).toFixed(1)}`;
    });
    console.log(`  ${name}: ${cells.join(", ")}; one step's 2-D products ${stepMs.toFixed(1)} ms`);
  }
}

void main();
