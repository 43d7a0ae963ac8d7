// Browser build of lib/engine/engine.ts: TensorFlow.js's WASM backend (SIMD where the browser has it,
// one thread), its .wasm files from the site, and the browser's name and version in the engine line.
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import type { EngineInfo, EngineName, EngineOptions } from "../engine/engine";
import { registerWasmKernels } from "../engine/kernels";
import { describeEngine as describe } from "../engine/describe";
import { host } from "./host";

export type { EngineInfo, EngineName, EngineOptions };

let current: EngineInfo | undefined;

/** Starts the WASM backend (the CPU backend if asked for); safe to call twice. Threads are not used in the browser. */
export async function initEngine(engineOrOptions?: string | EngineOptions): Promise<EngineInfo> {
  const options = typeof engineOrOptions === "object" ? engineOrOptions : { engine: engineOrOptions };
  if (current) return current;
  tf.enableProdMode();
  const versions = { tfjs: tf.version.tfjs, node: "" };
  const runtime = browserName();
  if (options.engine === "cpu") {
    await setBackend("cpu");
    return (current = { engine: "cpu", backend: "cpu", versions: versions, runtime: runtime });
  }
  wasm.setWasmPaths(new URL("assets/live/", host.siteUrl).href);
  registerWasmKernels();
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  await setBackend("wasm");
  return (current = { engine: "wasm", backend: "wasm", simd: simd, threads: wasm.getThreadsCount(), versions: versions, runtime: runtime });
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
