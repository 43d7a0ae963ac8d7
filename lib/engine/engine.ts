// Engine selection: which TensorFlow.js backend runs the tensors.
//
// Fastest first: tfjs-node (native TensorFlow, an optional dependency whose install needs the
// internet), then WebAssembly with SIMD, then the plain JavaScript CPU backend. ZTH_ENGINE=node|wasm|cpu
// forces one. WASM runs its single-threaded build unless more threads are asked for: by the caller
// (`initEngine({ threads: "cores" })`, as the GPT notebook does) or by ZTH_THREADS=n, which wins. The
// threaded build falls back to the single-threaded one if it fails or takes too long.
// Every notebook calls `initEngine()` in its first cell and prints what it got.
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { registerWasmKernels } from "./kernels";
import { describeEngine as describe } from "./describe";
import { THREADED_START_TIMEOUT_MS, startThreadedWasm } from "./wasm-threads";
import { startMatMulHelpers } from "./matmul-helpers";
import { backendMemory } from "./simd-kernels";
import { useMatMulHelpers } from "./threaded-matmul";
import type { WasmBackend } from "./wasm-backend";

/** "webgl" exists in the library's browser build only (lib/browser/engine.ts). */
export type EngineName = "node" | "wasm" | "cpu" | "webgl";

export interface EngineInfo {
  engine: EngineName;
  /** The backend name TensorFlow.js reports: "tensorflow", "wasm", "cpu" or (browser) "webgl". */
  backend: string;
  simd?: boolean;
  threads?: number;
  /** Why WASM runs one thread where more were asked for: the threaded build failed, and why. */
  threadsNote?: string;
  versions: { tfjs: string; node: string; backend?: string };
  /** Where it runs when not in Node, e.g. "Chromium 131" (the library's browser build). */
  runtime?: string;
  /** Why another engine runs than the one asked for (the browser build: WebGL missing). */
  note?: string;
}

export interface EngineOptions {
  /** The engine to start (default: ZTH_ENGINE when set, else the fastest that loads). */
  engine?: string;
  /**
   * WASM threads: a count, or "cores" for one per core (at most 4). Default 1. ZTH_THREADS, when set,
   * wins, so a learner can choose without editing a notebook.
   */
  threads?: number | "cores";
  /** How long WASM's threaded build may take to start before the single-threaded build is used. */
  threadedStartTimeoutMs?: number;
}

const ENGINE_NAMES: EngineName[] = ["node", "wasm", "cpu"];
let current: EngineInfo | undefined;

/**
 * Picks and starts the fastest engine that loads (or the one asked for); safe to call twice.
 * `initEngine("cpu")` is short for `initEngine({ engine: "cpu" })`.
 */
export async function initEngine(engineOrOptions?: string | EngineOptions): Promise<EngineInfo> {
  const options = typeof engineOrOptions === "object" ? engineOrOptions : { engine: engineOrOptions };
  const forced = options.engine ?? process.env.ZTH_ENGINE;
  if (forced && !ENGINE_NAMES.includes(forced as EngineName)) {
    throw new Error(`ZTH_ENGINE=${forced} is not an engine: use one of ${ENGINE_NAMES.join(", ")} (or unset it).`);
  }
  const threads = threadsWanted(options.threads); // checked first: a bad ZTH_THREADS is an error, not a silent fallback
  if (current && (!forced || current.engine === forced)) return current;
  // Production mode silences TensorFlow.js's console banners (its "install tfjs-node" hint would show
  // up in every notebook as a red stderr block that reads like an error).
  tf.enableProdMode();
  const candidates = forced ? [forced as EngineName] : ENGINE_NAMES;
  const failures: string[] = [];
  for (const engine of candidates) {
    try {
      current = await start(engine, threads, options);
      return current;
    } catch (error) {
      failures.push(`${engine}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(`No TensorFlow.js engine could start.\n${failures.join("\n")}`);
}

/** The engine started by `initEngine`, or an error that says to call it first. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error("No engine yet: run `await initEngine()` first.");
  return current;
}

/** One line for a notebook's first cell, e.g. "Engine: wasm (SIMD, 2 threads) | TensorFlow.js 4.22.0 | Node v20.20.2". */
export function describeEngine(info: EngineInfo = engineInfo()): string {
  return describe(info);
}

async function start(engine: EngineName, threads: number, options: EngineOptions): Promise<EngineInfo> {
  const versions = { tfjs: tf.version.tfjs, node: process.version };
  if (engine === "node") {
    // Loading tfjs-node registers the "tensorflow" backend; it throws when its native library is missing.
    const tfnode = require("@tensorflow/tfjs-node") as { version: Record<string, string> };
    await setBackend("tensorflow");
    return { engine, backend: "tensorflow", versions: { ...versions, backend: tfnode.version["tfjs-node"] } };
  }
  if (engine === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    registerWasmKernels();
    const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
    let threadsNote: string | undefined;
    let helpers = 0;
    useMatMulHelpers(undefined);
    await withoutNewProcessHandlers(async () => {
      // The threaded build (it needs SIMD: tfjs ships threaded + SIMD only) for its shared memory, in
      // which our matmul's helper threads work (threaded-matmul.ts). XNNPACK's own pool stays at one
      // thread: its threads gained 1.1-1.3x at the GPT's shapes on idle cores and lost 2-7x on busy ones.
      if (simd && threads > 1) {
        try {
          await startThreadedWasm(wasm, 1, options.threadedStartTimeoutMs ?? THREADED_START_TIMEOUT_MS);
        } catch (error) {
          threadsNote = `threaded build failed: ${(error as Error).message.split("\n")[0]}`;
          await setBackend("wasm"); // the single-threaded build
          return;
        }
        try {
          const memory = backendMemory(tf.backend() as unknown as WasmBackend);
          if (!memory) throw new Error("the threaded build's memory was not found");
          useMatMulHelpers(await startMatMulHelpers(memory, threads - 1));
          helpers = threads - 1;
        } catch (error) {
          threadsNote = `matmul helpers failed: ${(error as Error).message.split("\n")[0]}`;
        }
        return;
      }
      await setBackend("wasm");
    });
    return { engine, backend: "wasm", simd, threads: wasm.getThreadsCount() + helpers, threadsNote, versions };
  }
  await setBackend("cpu");
  return { engine, backend: "cpu", versions };
}

/**
 * Runs `start`, then removes the process-wide error handlers it added. The WebAssembly module
 * (Emscripten) installs handlers that rethrow every uncaught exception and unhandled rejection,
 * which turns any stray async error in a notebook into a dead kernel instead of a message.
 */
async function withoutNewProcessHandlers(start: () => Promise<void>): Promise<void> {
  const uncaught = new Set(process.listeners("uncaughtException"));
  const unhandled = new Set(process.listeners("unhandledRejection"));
  await start();
  for (const listener of process.listeners("uncaughtException")) {
    if (!uncaught.has(listener)) process.removeListener("uncaughtException", listener);
  }
  for (const listener of process.listeners("unhandledRejection")) {
    if (!unhandled.has(listener)) process.removeListener("unhandledRejection", listener);
  }
}

/**
 * WASM threads: ZTH_THREADS when set (1 = the single-threaded build), else what the caller asked for,
 * else one. Threads pay only in large matmuls (products of 1M multiply-adds and up, which only the GPT
 * has), split across them by threaded-matmul.ts: so one thread is the default and the GPT notebook asks
 * for the cores. (XNNPACK's own pool, which every kernel waited for, ran lecture 04's step about as fast,
 * the lecture-03 MLP 0.8x, and all three 3-5x slower on busy cores.) The results are the same bits.
 */
function threadsWanted(requested: number | "cores" | undefined, fromEnvironment: string | undefined = process.env.ZTH_THREADS): number {
  if (fromEnvironment !== undefined && fromEnvironment !== "") {
    const threads = Number(fromEnvironment);
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`ZTH_THREADS=${fromEnvironment} is not a thread count: use a whole number >= 1 (or unset it).`);
    return threads;
  }
  if (requested === undefined) return 1;
  // At most 4: measured only up to 2 here, and the GPT's matmuls are a few hundred rows.
  if (requested === "cores") return Math.min(4, os.availableParallelism());
  if (!Number.isInteger(requested) || requested < 1) throw new Error(`threads: ${requested} is not a thread count: use a whole number >= 1 or "cores".`);
  return requested;
}

async function setBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend "${name}" did not initialise`);
  await tf.ready();
}
