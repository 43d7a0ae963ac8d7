// The worker thread of `trainInWorkers`: starts the same engine as the notebook on one thread, then
// runs each job it is sent and posts back its progress and result, or the error that ended it.
import { parentPort, workerData } from "node:worker_threads";
import type { ProgressInfo } from "../display/progress";
import { initEngine, type EngineName } from "../engine";
import { runAnyJob, type AnyJob } from "./any-job";

export type ToWorker = { type: "job"; index: number; job: AnyJob };
export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; index: number; step: number; loss: number; stepsPerSecond: number }
  | { type: "result"; index: number; result: import("./parallel-jobs").TrainJobResult }
  | { type: "error"; index: number; message: string; stack?: string };

const port = parentPort;
if (!port) throw new Error("parallel-worker: start this file as a worker thread (trainInWorkers does).");

async function main(): Promise<void> {
  await initEngine({ engine: (workerData as { engine: EngineName }).engine, threads: 1 });
  port!.on("message", (message: ToWorker) => void handle(message));
  port!.postMessage({ type: "ready" } satisfies FromWorker);
}

async function handle({ index, job }: ToWorker): Promise<void> {
  try {
    const onProgress = (info: ProgressInfo) =>
      port!.postMessage({ type: "progress", index, step: info.step, loss: info.loss, stepsPerSecond: info.stepsPerSecond } satisfies FromWorker);
    const result = await runAnyJob(job, onProgress);
    port!.postMessage({ type: "result", index, result } satisfies FromWorker);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    port!.postMessage({ type: "error", index, message: e.message, stack: e.stack } satisfies FromWorker);
  }
}

main().catch((error: Error) => port.postMessage({ type: "error", index: -1, message: error.message, stack: error.stack } satisfies FromWorker));
