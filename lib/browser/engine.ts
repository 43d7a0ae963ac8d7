// Browser build of lib/engine/engine.ts: TensorFlow.js's WASM backend (SIMD where the browser has it,
// one thread), its .wasm files from the site, or WebGL where the page asks for it and the browser has
// it; the browser's name and version in the engine line. The library's fast paths are WASM kernels:
// on WebGL (and the CPU backend) every op takes TensorFlow.js's plain path.
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import type { EngineInfo, EngineName, EngineOptions } from "../engine/engine";
import { registerWasmKernels } from "../engine/kernels";
import { describeEngine as describe } from "../engine/describe";
import { host } from "./host";

export type { EngineInfo, EngineName, EngineOptions };

let current: EngineInfo | undefined;

/**
 * Starts the engine asked for, else the page's choice (host.engine: WASM unless the reader picked
 * WebGL); WebGL falls back to WASM with a note in the engine line. Safe to call twice.
 */
export async function initEngine(engineOrOptions?: string | EngineOptions): Promise<EngineInfo> {
  const options = typeof engineOrOptions === "object" ? engineOrOptions : { engine: engineOrOptions };
  if (current) return current;
  const engine = options.engine ?? host.engine;
  if (!["wasm", "webgl", "cpu"].includes(engine)) throw new Error(`"${engine}" is not an engine in the browser: use "wasm", "webgl" or "cpu".`);
  tf.enableProdMode();
  const versions = { tfjs: tf.version.tfjs, node: "" };
  const runtime = browserName();
  if (engine === "cpu") {
    await setBackend("cpu");
    return (current = { engine: "cpu", backend: "cpu", versions: versions, runtime: runtime });
  }
  let note: string | undefined;
  if (engine === "webgl") {
    const failure = await tryWebgl();
    if (!failure) return (current = { engine: "webgl", backend: "webgl", versions: versions, runtime: runtime });
    note = `WebGL is not available here (${failure}), so WASM runs`;
  }
  wasm.setWasmPaths(new URL("assets/live/", host.siteUrl).href);
  registerWasmKernels();
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  await setBackend("wasm");
  return (current = { engine: "wasm", backend: "wasm", simd: simd, threads: wasm.getThreadsCount(), versions: versions, runtime: runtime, note: note });
}

/** Starts WebGL; the reason it failed, or undefined when it runs. */
async function tryWebgl(): Promise<string | undefined> {
  if (typeof OffscreenCanvas === "undefined" && typeof document === "undefined") return "no OffscreenCanvas in this worker";
  try {
    if (await tf.setBackend("webgl")) {
      await tf.ready();
      return undefined;
    }
    return "its context did not start";
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}

export function engineInfo(): EngineInfo {
  if (!current) throw new Error("No engine yet: run `await initEngine()` first.");
  return current;
}

/** e.g. "Engine: wasm (SIMD, 1 thread) | TensorFlow.js 4.22.0 | Chromium 131". */
export function describeEngine(info: EngineInfo = engineInfo()): string {
  return describe(info);
}

/** The browser's name and major version, from its user agent. */
export function browserName(userAgent: string = navigator.userAgent): string {
  const firefox = /Firefox\/(\d+)/.exec(userAgent);
  if (firefox) return `Firefox ${firefox[1]}`;
  const chromium = /(?:Headless)?Chrome\/(\d+)/.exec(userAgent);
  if (chromium) return `${/Edg\//.test(userAgent) ? "Edge" : "Chromium"} ${chromium[1]}`;
  const safari = /Version\/(\d+).*Safari/.exec(userAgent);
  if (safari) return `Safari ${safari[1]}`;
  return userAgent;
}

async function setBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend "${name}" did not initialise`);
  await tf.ready();
}
