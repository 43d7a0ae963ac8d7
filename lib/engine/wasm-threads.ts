// The WASM backend's threaded SIMD build, in Node.
//
// TensorFlow.js ships a threaded build (XNNPACK on a pool of Emscripten pthreads, i.e. Node worker
// threads) but turns it off in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is false there). The engine
// starts it for its shared memory, in which our own matmul's helper threads work (threaded-matmul.ts),
// with XNNPACK's pool at one thread (engine.ts says why). It runs once three things are got around
// (what it gains: `npm run bench -- --compare-gpt`):
// 1. Emscripten starts each pool worker from a `blob:` URL, which Node's Worker rejects: the worker's
//    source is written to a file in the temp folder and the worker started from that path. Inside the
//    worker, the backend's main script also arrives as a Blob; it is read and evaluated before the
//    worker's own "load" handler runs, with the names the bundle gives to Node's modules defined.
// 2. The backend caps its threads at half the number of cores (os.cpus()): on 2 cores, 1 thread. While
//    it starts, os.cpus() reports enough cores for the threads asked for.
// 3. A pool worker running a pthread keeps Node alive (a script would never exit): they are unref'd.
// Emscripten waits for every pool worker to report "loaded" before the module starts, with no timeout:
// a worker that dies while loading (e.g. ended by a --require preload that calls process.exit, as the
// notebook runner's kernel watchdog once did) would leave initEngine waiting forever. So the start fails
// as soon as a pool worker exits, or after a timeout, and the caller falls back to the single-threaded build.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

type WasmBackendModule = typeof import("@tensorflow/tfjs-backend-wasm");
// The module objects themselves (not import wrappers around them): the bundle reads os.cpus() and
// worker_threads.Worker from them.
const os = require("node:os") as typeof import("node:os");
const workerThreads = require("node:worker_threads") as typeof import("node:worker_threads");

/** How long the threaded build may take to start before the single-threaded build is used instead. */
export const THREADED_START_TIMEOUT_MS = 15_000;

interface NodeWorker {
  unref(): void;
}

/** The running pthreads of the backend's Emscripten module. */
interface EmscriptenPThreads {
  PThread: { runningWorkers: NodeWorker[]; unusedWorkers: NodeWorker[] };
}

/**
 * Starts the "wasm" backend with the threaded SIMD build on `threads` threads (the caller's thread is
 * one of them). Throws if the build cannot start, if a pool worker dies while it starts, or after
 * `timeoutMs`; its pool workers are then ended, and the caller starts the single-threaded build.
 */
export async function startThreadedWasm(wasm: WasmBackendModule, threads: number, timeoutMs = THREADED_START_TIMEOUT_MS): Promise<void> {
  const workerFile = writeWorkerFile();
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  const NodeWorker = workerThreads.Worker;
  const poolWorkers: import("node:worker_threads").Worker[] = [];
  let failStart: (error: Error) => void = () => undefined;
  const startFailed = new Promise<never>((_, reject) => (failStart = reject));
  const onWorkerExit = (code: number) => failStart(new Error(`a pool worker stopped while the threaded build started (exit code ${code})`));
  const onWorkerError = (error: Error) => failStart(new Error(`a pool worker failed while the threaded build started: ${error.message}`));
  // Only while the backend starts: that is when Emscripten makes its pool of workers and asks for cores.
  URL.createObjectURL = (blob: Blob) => (blob.type === "application/javascript" ? workerFile : createObjectURL(blob));
  const realCpus = cpus();
  (os as { cpus: () => import("node:os").CpuInfo[] }).cpus = () => Array.from({ length: Math.max(realCpus.length, 2 * threads) }, (_, i) => realCpus[i % realCpus.length]);
  // Emscripten takes its Worker from worker_threads as it starts: this subclass keeps each pool worker,
  // so that one dying fails the start at once and a failed start can end them all.
  (workerThreads as { Worker: typeof NodeWorker }).Worker = class PoolWorker extends NodeWorker {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args);
      poolWorkers.push(this);
      this.once("exit", onWorkerExit).once("error", onWorkerError);
    }
  };
  const timer = setTimeout(() => failStart(new Error(`it did not start within ${timeoutMs / 1000} s`)), timeoutMs);
  try {
    await Promise.race([startBackend(), startFailed]);
  } catch (error) {
    // The abandoned start never finishes without its workers; a later tf.setBackend starts afresh.
    for (const worker of poolWorkers) void worker.terminate();
    throw error;
  } finally {
    clearTimeout(timer);
    URL.createObjectURL = createObjectURL;
    (os as { cpus: () => import("node:os").CpuInfo[] }).cpus = cpus;
    (workerThreads as { Worker: typeof NodeWorker }).Worker = NodeWorker;
    for (const worker of poolWorkers) worker.off("exit", onWorkerExit).off("error", onWorkerError);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false); // a later start (after a failure) takes the single-threaded build
  }
  const module = (tf.backend() as unknown as { wasm: EmscriptenPThreads }).wasm;
  for (const worker of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) worker.unref();
}

async function startBackend(): Promise<void> {
  if (!(await tf.setBackend("wasm"))) throw new Error('the threaded "wasm" backend did not initialise');
  await tf.ready();
}

// ---------------------------------------------------------------------------------------------------
// The pool worker's source.

/** Runs in each worker before the backend's worker source: Node's modules under the bundle's names. */
const WORKER_PRELUDE = `
// Globals, not this file's vars: the main script is evaluated at global scope.
Object.assign(globalThis, {
  require$$0: require("fs"), require$$1: require("path"), require$$3: require("perf_hooks"), require$$4: require("os"),
  commonjsGlobal: globalThis, _scriptDir: undefined,
  // The helpers TypeScript compiled into the bundle (tslib), for the parts of its main script a worker runs.
  __read: function (o, n) { var a = Array.from(o); return n === undefined ? a : a.slice(0, n); },
  __spreadArray: function (to, from) { return to.concat(Array.from(from)); },
  __values: function (o) { return o[Symbol.iterator](); },
});
`;

/** Runs after it: the main script arrives as a Blob, which must be read (asynchronously) and evaluated. */
const WORKER_POSTLUDE = `
(function () {
  var EVALUATED = "zero-to-hero:main-script-evaluated";
  var loadScript = importScripts;
  importScripts = function (file) { if (file !== EVALUATED) loadScript(file); };
  var handle = self.onmessage;
  var loading = null;
  self.onmessage = function (e) {
    var data = e.data;
    if (loading) { loading = loading.then(function () { handle({ data: data }); }); return; }
    if (data && data.cmd === "load" && typeof data.urlOrBlob !== "string") {
      loading = data.urlOrBlob.text().then(function (source) {
        (0, eval)(source);
        handle({ data: Object.assign({}, data, { urlOrBlob: EVALUATED }) });
      });
      return;
    }
    handle(e);
  };
})();
`;

/** Writes the worker's source to the temp folder (once per content) and returns its path. */
function writeWorkerFile(): string {
  const source = WORKER_PRELUDE + workerContents() + WORKER_POSTLUDE;
  const hash = crypto.createHash("sha256").update(source).digest("hex").slice(0, 16);
  const file = path.join(os.tmpdir(), `zero-to-hero-wasm-worker-${tf.version.tfjs}-${hash}.js`);
  if (!fs.existsSync(file)) {
    // Written under another name and renamed: another process starting at the same time never reads half a file.
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, source);
    fs.renameSync(partial, file);
  }
  return file;
}

/** The backend's worker source (`wasmWorkerContents` in its Node bundle), as the backend itself escapes it. */
function workerContents(): string {
  const bundle = fs.readFileSync(require.resolve("@tensorflow/tfjs-backend-wasm"), "utf8");
  const match = /^var wasmWorkerContents = ("(?:[^"\\]|\\.)*");$/m.exec(bundle);
  if (!match) throw new Error("wasm-threads: the WASM backend's bundle has no wasmWorkerContents (a new tfjs version?)");
  return (JSON.parse(match[1]) as string).replace(/\n/g, "\\n");
}
