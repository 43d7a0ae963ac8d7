// The engine line a notebook's first cell prints (Node and the browser build alike).
import type { EngineInfo } from "./engine";

/** One line for a notebook's first cell, e.g. "Engine: wasm (SIMD, 2 threads) | TensorFlow.js 4.22.0 | Node v20.20.2". */
export function describeEngine(info: EngineInfo): string {
  const details: string[] = [];
  if (info.simd !== undefined) details.push(info.simd ? "SIMD" : "no SIMD");
  if (info.threads !== undefined) details.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}${info.threadsNote ? `: ${info.threadsNote}` : ""}`);
  if (info.versions.backend) details.push(`tfjs-node ${info.versions.backend}`);
  const detail = details.length ? ` (${details.join(", ")})` : "";
  const note = info.note ? ` | ${info.note}` : "";
  return `Engine: ${info.engine}${detail} | TensorFlow.js ${info.versions.tfjs} | ${info.runtime ?? `Node ${info.versions.node}`}${note}`;
}
