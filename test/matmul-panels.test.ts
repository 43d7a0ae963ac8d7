// The threaded matmul's kernel (simd-kernels.c's pack_panels and matmul_rows) on the module alone:
// the bits of the module's plain `matmul` (which sums k in the same order), for every edge the tiles
// meet (rows not a multiple of 4 or fewer than 4, columns not a multiple of 8 or fewer than 8, a
// transposed a, a transposed b), whichever blocks of rows the threads take; and the values of a sum
// in float64.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SIMD_KERNELS_WASM } from "../lib/engine/simd-kernels-wasm";
import type { SimdKernels } from "../lib/engine/simd-kernels";

const memory = new WebAssembly.Memory({ initial: 64 });
const module = new WebAssembly.Module(Buffer.from(SIMD_KERNELS_WASM, "base64"));
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
const floats = new Float32Array(memory.buffer);

/** Places numbers at a byte offset (above the first 1,024 bytes, the backend's in the real memory). */
function place(at: number, values: Float32Array): number {
  floats.set(values, at / 4);
  return at;
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

const SHAPES: [number, number, number][] = [
  [1, 5, 3], [3, 7, 9], [4, 8, 8], [5, 16, 13], [7, 3, 1], [13, 33, 65], [64, 64, 32], [66, 128, 130], [101, 130, 90],
];

for (const [m, k, n] of SHAPES) {
  for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
    test(`matmul_rows [${m}, ${k}] x [${k}, ${n}]${transposeA ? ", a transposed" : ""}${transposeB ? ", b transposed" : ""}: the plain matmul's bits in any blocks of rows`, () => {
      const [aValues, bValues] = [random(m * k, m + k), random(k * n, k + n + 1)];
      const a = place(4096, aValues); // stored [m, k], or [k, m] where transposed
      const b = place(a + 4 * m * k, bValues); // stored [k, n], or [n, k] where transposed
      const [aRow, aCol] = transposeA ? [1, m] : [k, 1];
      const [bRow, bCol] = transposeB ? [1, k] : [n, 1];
      const bPlain = b + 4 * k * n; // b row-major, for the plain matmul
      for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) floats[bPlain / 4 + kk * n + j] = bValues[kk * bRow + j * bCol];
      const plain = bPlain + 4 * k * n;
      kernels.matmul(a, aRow, aCol, bPlain, plain, m, k, n);
      const panels = plain + 4 * m * n;
      floats.fill(NaN, panels / 4, panels / 4 + 8 * Math.ceil(n / 8) * k); // padding must be written as zeros
      kernels.pack_panels(b, bRow, bCol, panels, k, n);
      const c = panels + 4 * 8 * Math.ceil(n / 8) * k;
      const end = c / 4 + m * n;
      for (const rows of [m, 4, 7]) {
        floats.fill(NaN, c / 4, end + 16);
        for (let start = 0; start < m; start += rows) kernels.matmul_rows(a, aRow, aCol, panels, c, start, Math.min(m, start + rows), k, n);
        assert.deepEqual(floats.slice(c / 4, end), floats.slice(plain / 4, plain / 4 + m * n), `blocks of ${rows} rows`);
        assert.ok(Number.isNaN(floats[end]), "nothing written past c");
      }
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let kk = 0; kk < k; kk++) sum += aValues[i * aRow + kk * aCol] * bValues[kk * bRow + j * bCol];
          assert.ok(Math.abs(floats[c / 4 + i * n + j] - sum) <= 1e-5 * (1 + Math.abs(sum)), `c[${i}, ${j}] = ${floats[c / 4 + i * n + j]}, float64 sum ${sum}`);
        }
    });
  }
}
