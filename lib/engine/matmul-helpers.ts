// The helper threads of threaded-matmul.ts, in Node: worker threads that run our SIMD module on the
// threaded build's shared memory and compute rows of a product with the calling thread.
//
// The two sides talk through a small control block (a SharedArrayBuffer): the caller writes the
// product there, bumps a job number and wakes the helpers; then every thread, the caller too, claims
// blocks of rows one at a time (a compare-and-swap on one 64-bit word: job number, blocks in all, next
// block) until none is left, and the caller waits for the last block to be written. A helper that wakes
// late finds nothing left to claim (the caller did its share), so a busy core slows a product by at
// most one block, never by a whole half. The job number in the claimed word keeps a late helper from
// taking a block of a product that already ended. Waiting, a thread first polls for SPIN_MS (the GPT's
// products come a few at a time, and a sleeping thread, on a busy machine, waits for the scheduler to
// wake it), then sleeps in Atomics.wait. Helpers never keep the process alive (unref), and a failure to
// start leaves one thread (engine.ts puts the reason in the engine line).
import { Worker } from "node:worker_threads";
import { isShared, simdModule, type SimdKernels } from "./simd-kernels";
import type { MatMulHelpers, Product } from "./threaded-matmul";

/** Where each number sits in the control block: indices of its Int32Array, `claim` of its BigInt64Array. */
const AT = {
  job: 0, done: 1, stop: 2, failed: 3,
  a: 4, aRow: 5, aCol: 6, aSlice: 7, b: 8, bSlice: 9, c: 10, cSlice: 11, m: 12, k: 13, n: 14, rows: 15, blocksPerSlice: 16,
  claim: 9, // bytes 72-79: job << 32 | blocks in all << 16 | next block
  blocksByThread: 20, // then one count per thread (0: the caller), of the blocks each computed
} as const;

/**
 * How long a waiting thread polls before it sleeps. Side by side on the GPT step (load 8, 2 cores):
 * 2.33-2.35 steps/s polling about 0.2 ms on both sides, 1.68-1.83 sleeping at once.
 */
const SPIN_MS = 0.2;
type Layout = typeof AT;

/** Rows per block: about this many multiply-adds (~50 us), in multiples of 4 rows (the kernel's tiles). */
const BLOCK_WORK = 1 << 18;
const MAX_BLOCKS = 0xffff;

/** How long a helper may take to start, and to finish a block it claimed, before it counts as stopped. */
const START_TIMEOUT_MS = 10_000;
const BLOCK_TIMEOUT_MS = 60_000;

/**
 * Claims and computes blocks of job `job` until none is left; returns the first error (the block
 * still counts as done, so that no thread waits for it). Runs in the helpers too, as source text: it
 * may use only its arguments and globals.
 */
function work(control: Int32Array, claims: BigInt64Array, matmulRows: SimdKernels["matmul_rows"], job: number, at: Layout, thread: number): unknown {
  // Read before claiming: a successful claim below proves that the job was still open, so these are its numbers.
  const [a, aRow, aCol, aSlice, b, bSlice, c, cSlice] = [control[at.a], control[at.aRow], control[at.aCol], control[at.aSlice], control[at.b], control[at.bSlice], control[at.c], control[at.cSlice]];
  const [m, k, n, rows, blocksPerSlice] = [control[at.m], control[at.k], control[at.n], control[at.rows], control[at.blocksPerSlice]];
  let failure: unknown;
  for (;;) {
    const claim = Atomics.load(claims, at.claim);
    const [next, blocks] = [Number(claim & 0xffffn), Number((claim >> 16n) & 0xffffn)];
    if (claim >> 32n !== BigInt(job) || next >= blocks) return failure;
    if (Atomics.compareExchange(claims, at.claim, claim, claim + 1n) !== claim) continue;
    const slice = Math.floor(next / blocksPerSlice);
    const first = (next % blocksPerSlice) * rows;
    try {
      matmulRows(a + 4 * slice * aSlice, aRow, aCol, b + 4 * slice * bSlice, c + 4 * slice * cSlice, first, Math.min(m, first + rows), k, n);
    } catch (error) {
      failure ??= error;
      Atomics.store(control, at.failed, 1);
    }
    Atomics.add(control, at.blocksByThread + thread, 1);
    if (Atomics.add(control, at.done, 1) + 1 === blocks) Atomics.notify(control, at.done);
  }
}

/** A helper's life: sleep until the job number changes, work on that job, until told to stop. Source text too. */
function serve(control: Int32Array, claims: BigInt64Array, matmulRows: SimdKernels["matmul_rows"], at: Layout, thread: number, spinMs: number, doWork: typeof work): void {
  let seen = 0;
  for (;;) {
    const polled = performance.now();
    while (Atomics.load(control, at.job) === seen && performance.now() - polled < spinMs);
    Atomics.wait(control, at.job, seen);
    if (Atomics.load(control, at.stop) !== 0) return;
    seen = Atomics.load(control, at.job);
    doWork(control, claims, matmulRows, seen, at, thread);
  }
}

const HELPER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { module, memory, control, at, thread } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
parentPort.postMessage("ready");
(${serve.toString()})(new Int32Array(control), new BigInt64Array(control), kernels.matmul_rows, at, thread, ${SPIN_MS}, ${work.toString()});
`;

/**
 * Starts `count` helper threads on `memory` (the threaded build's, shared). Throws if one fails or
 * does not start within `timeoutMs`; the helpers started are then ended.
 */
export async function startMatMulHelpers(memory: WebAssembly.Memory, count: number, timeoutMs = START_TIMEOUT_MS): Promise<MatMulHelpers> {
  if (!isShared(memory)) throw new Error("the memory is not shared: matmul helpers need the threaded build's");
  const buffer = new SharedArrayBuffer(4 * (AT.blocksByThread + 1 + count));
  const control = new Int32Array(buffer);
  const claims = new BigInt64Array(buffer);
  const module = simdModule(true);
  // No --import or --require preloads (a loader would slow the start, a watchdog could end the helper).
  const workers = Array.from({ length: count }, (_, i) => new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control: buffer, at: AT, thread: i + 1 }, execArgv: [] }));
  let running = true;
  const stopped = () => (running = false);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
        worker.once("message", () => resolve());
        worker.once("error", (error) => reject(new Error(`a matmul helper failed to start: ${error.message}`)));
        worker.once("exit", (code) => reject(new Error(`a matmul helper stopped while starting (exit code ${code})`)));
      }))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the matmul helpers did not start within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
  } catch (error) {
    for (const worker of workers) void worker.terminate();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  for (const worker of workers) {
    worker.removeAllListeners();
    worker.on("error", stopped).on("exit", stopped);
    worker.unref();
  }
  let job = 0;
  return {
    memory,
    running: () => running,
    blocksByThread: () => Array.from(control.subarray(AT.blocksByThread, AT.blocksByThread + 1 + count)),
    run(product: Product, kernels: SimdKernels): void {
      const rows = Math.min(product.m, 4 * Math.ceil(BLOCK_WORK / (product.k * product.n) / 4));
      const blocksPerSlice = Math.ceil(product.m / rows);
      const blocks = product.slices * blocksPerSlice;
      if (blocks > MAX_BLOCKS) throw new Error(`threaded matmul: ${blocks} blocks of rows, more than ${MAX_BLOCKS}: a product this large needs larger blocks.`);
      for (const key of ["a", "aRow", "aCol", "aSlice", "b", "bSlice", "c", "cSlice", "m", "k", "n"] as const) control[AT[key]] = product[key];
      control[AT.rows] = rows;
      control[AT.blocksPerSlice] = blocksPerSlice;
      Atomics.store(control, AT.done, 0);
      Atomics.store(control, AT.failed, 0);
      job = (job + 1) & 0x7fffffff;
      Atomics.store(claims, AT.claim, (BigInt(job) << 32n) | (BigInt(blocks) << 16n));
      Atomics.store(control, AT.job, job);
      Atomics.notify(control, AT.job);
      const failure = work(control, claims, kernels.matmul_rows, job, AT, 0);
      waitForBlocks(control, blocks, () => (running = false));
      if (failure) throw failure;
      if (Atomics.load(control, AT.failed)) throw new Error("threaded matmul: a helper thread's product failed (a block of rows out of the memory?)");
    },
  };
}

/** Waits until `blocks` blocks are done; a helper silent for BLOCK_TIMEOUT_MS counts as stopped, an error. */
function waitForBlocks(control: Int32Array, blocks: number, stop: () => void): void {
  const polled = performance.now();
  while (Atomics.load(control, AT.done) < blocks && performance.now() - polled < SPIN_MS);
  const started = Date.now();
  for (let done = Atomics.load(control, AT.done); done < blocks; done = Atomics.load(control, AT.done)) {
    if (Atomics.wait(control, AT.done, done, BLOCK_TIMEOUT_MS) === "timed-out" && Date.now() - started >= BLOCK_TIMEOUT_MS) {
      stop();
      throw new Error(`threaded matmul: a helper thread did not finish its rows within ${BLOCK_TIMEOUT_MS / 1000} s; products now run on one thread.`);
    }
  }
}
